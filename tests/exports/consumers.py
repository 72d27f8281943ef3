"""Independent consumers of the exports, each reading them as the software people use would.

iCalendar: ical.js (Node; reads the VTIMEZONE blocks), dateutil (rrulestr with ``tzical`` over the
file's own VTIMEZONE, events read by vobject) and recurring-ical-events (icalendar; zones by TZID).
FullCalendar 6 with its rrule plugin in headless Chromium. CSV: pandas and LibreOffice Calc headless.
Each returns plain data (occurrences as ``Occurrence``) so tests compare consumers with each other
and with dates worked out by hand.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

JS = Path(__file__).parent / "js"
MODULES = JS / "node_modules"


@dataclass(frozen=True, order=True)
class Occurrence:
    """One occurrence: ``start``/``end`` are UTC ``YYYY-MM-DDTHH:MM`` for timed events, dates for all-day."""

    uid: str
    start: str
    end: str
    summary: str
    all_day: bool


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def need_node() -> None:
    if shutil.which("node") is None or not (MODULES / "ical.js").is_dir():
        pytest.skip("node or tests/exports/js/node_modules missing: run `make js-deps`")


def need_chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None or not (MODULES / "fullcalendar").is_dir():
        pytest.skip("chromium or tests/exports/js/node_modules missing: run `make system-deps js-deps`")
    return browser


def need_libreoffice() -> str:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice (soffice) missing: run `make system-deps`")
    return office


# ----------------------------------------------------------------------------------------- iCalendar


def ical_js(payload: bytes, since: date, until: date, tmp_path: Path) -> list[Occurrence]:
    need_node()
    source = tmp_path / "feed.ics"
    source.write_bytes(payload)
    done = subprocess.run(
        ["node", str(JS / "expand_ics.mjs"), str(source), since.isoformat(), until.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = []
    for item in json.loads(done.stdout):
        if item["all_day"]:
            start, end = item["start"], item["end"]
        else:
            start, end = item["start"][:16], item["end"][:16]
        found.append(Occurrence(item["uid"], start, end, item["summary"], item["all_day"]))
    return sorted(found)


def _vtimezones(text: str) -> dict[str, Any]:
    from dateutil import tz

    zones = {}
    for block in re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r?\n", text, flags=re.S):
        parsed = tz.tzical(io.StringIO(block))
        for key in parsed.keys():  # noqa: SIM118 - tzical is not a mapping
            zones[key] = parsed.get(key)
    return zones


def _raw_events(text: str) -> list[dict[str, str]]:
    """Each VEVENT's unfolded content lines by property name (RFC 5545 3.1), as written."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    events = []
    for block in re.findall(r"BEGIN:VEVENT\r?\n(.*?)END:VEVENT", unfolded, flags=re.S):
        lines = {}
        for line in block.splitlines():
            name = re.split(r"[;:]", line, maxsplit=1)[0]
            lines[name] = line
        events.append(lines)
    return events


def dateutil_expand(payload: bytes, since: date, until: date) -> list[Occurrence]:
    """dateutil expands each event's DTSTART/RRULE/EXDATE lines as written, in the zone the file's own
    VTIMEZONE defines (``tzical``); vobject reads the text fields."""
    import vobject
    from dateutil.rrule import rrulestr

    text = payload.decode()
    zones = _vtimezones(text)
    found = []
    for event, raw in zip(vobject.readOne(text).vevent_list, _raw_events(text), strict=True):
        all_day = "VALUE=DATE:" in raw["DTSTART"] or "VALUE=DATE;" in raw["DTSTART"]
        lines = [raw[name] for name in ("DTSTART", "RRULE", "EXDATE") if name in raw]
        rules = rrulestr("\n".join(lines), tzinfos=zones, forceset=True, ignoretz=all_day)
        first_start = rules[0]
        params, _, end_value = raw["DTEND"].partition(":")
        if all_day:
            length = datetime.strptime(end_value, "%Y%m%d") - first_start
        else:
            zone = zones[params.split("TZID=", 1)[1].split(";")[0]]
            length = datetime.strptime(end_value, "%Y%m%dT%H%M%S").replace(tzinfo=zone) - first_start
        uid, summary = str(event.uid.value), str(event.summary.value)
        for start in rules:
            day = start.date()
            if day >= until:
                break
            if day < since:
                continue
            if all_day:
                found.append(
                    Occurrence(uid, day.isoformat(), (start + length).date().isoformat(), summary, True)
                )
            else:
                # wall-clock arithmetic, as calendars do for a lesson's length
                end = (start.replace(tzinfo=None) + length).replace(tzinfo=start.tzinfo)
                found.append(Occurrence(uid, _utc(start), _utc(end), summary, False))
    return sorted(found)


def recurring_ical_events_expand(payload: bytes, since: date, until: date) -> list[Occurrence]:
    import icalendar
    import recurring_ical_events

    found = []
    for event in recurring_ical_events.of(icalendar.Calendar.from_ical(payload)).between(since, until):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        all_day = not isinstance(start, datetime)
        found.append(
            Occurrence(
                str(event["UID"]),
                start.isoformat() if all_day else _utc(start),
                end.isoformat() if all_day else _utc(end),
                str(event["SUMMARY"]),
                all_day,
            )
        )
    return sorted(found)


# ----------------------------------------------------------------------------------------- FullCalendar


def fullcalendar(
    events: list[dict[str, Any]], since: date, days: int, tmp_path: Path, drag: str | None = None
) -> dict[str, Any]:
    """What FullCalendar 6 (rrule plugin, ``timeZone: "UTC"``, list view over ``days`` days) holds.

    ``before``: every event instance; ``order``: the titles of each day as the list view shows them;
    ``after``: the instances after dragging the first event titled ``drag`` by one hour."""
    browser = need_chromium()
    template = (JS / "fullcalendar.html").read_text()
    case = {"events": events, "from": since.isoformat(), "days": days, "drag": drag}
    page = template.replace('src="node_modules/', f'src="{MODULES.as_uri()}/').replace(
        '<script src="events.js"></script>', f"<script>window.CASE = {json.dumps(case)};</script>"
    )
    target = tmp_path / "fullcalendar.html"
    target.write_text(page)
    done = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
            "--dump-dom", target.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    match = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, flags=re.S)
    assert match and match.group(1), f"FullCalendar page produced nothing: {done.stderr[-2000:]}"
    result = json.loads(html.unescape(match.group(1)))
    assert "error" not in result, result.get("error")
    return result


def fullcalendar_occurrences(instances: list[dict[str, Any]], ids: dict[str, str]) -> list[Occurrence]:
    """FullCalendar instances as ``Occurrence``s (UTC wall times are the export's wall times)."""
    found = []
    for item in instances:
        if item["all_day"]:
            start = item["start"][:10]
            end = (
                item["end"][:10]
                if item["end"]
                else (date.fromisoformat(start) + timedelta(days=1)).isoformat()
            )
        else:
            start, end = item["start"][:16], item["end"][:16]
        found.append(Occurrence(ids.get(item["id"], item["id"]), start, end, item["title"], item["all_day"]))
    return sorted(found)


# ----------------------------------------------------------------------------------------- CSV


def libreoffice_cells(csv_text: str, tmp_path: Path) -> list[list[tuple[Any, str]]]:
    """The CSV opened in LibreOffice Calc (UTF-8, comma, quote) and saved as XLSX: (value, type) per cell."""
    import openpyxl

    office = need_libreoffice()
    source = tmp_path / "export.csv"
    source.write_text(csv_text, encoding="utf-8", newline="")
    subprocess.run(
        [
            office, f"-env:UserInstallation={(tmp_path / 'libreoffice-profile').as_uri()}",  # own profile: runs in parallel
            "--headless", "--norestore", "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx",
            "--outdir", str(tmp_path), str(source),
        ],
        capture_output=True,
        timeout=180,
        check=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "export.xlsx", data_only=True).active
    assert sheet is not None
    return [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
