"""Term settings through the API (per tenant and per upload, SQLite and PostgreSQL) and the CLI, and the
one export registry both serve (issue 16 items 1 and 3; issue 12's "one export registry")."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.api.conftest import PREFIX, Api
from tests.exports import cases
from tests.exports.consumers import ical_js, recurring_ical_events_expand
from timetable_platform.cli import main
from timetable_platform.domain.exports import EXPORT_FORMATS


def _mondays(found: list, *subjects: str) -> dict[str, str]:
    return {o.start[:10]: o.summary for o in found if o.summary in subjects}


def test_tenant_and_upload_term_settings_shape_the_feed(any_db_api: Api, tmp_path: Path) -> None:
    api = any_db_api
    key = api.new_key("school")
    tenant_term = {
        "term_start": "2025-09-03",
        "term_end": "2025-12-19",
        "holidays": ["2025-10-27/2025-10-31"],
    }
    put = api.client.put(f"{PREFIX}/term", json=tenant_term, headers=key)
    assert put.status_code == 200, put.text
    assert api.client.get(f"{PREFIX}/term", headers=key).json()["holidays"] == ["2025-10-27/2025-10-31"]
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id, cases.week_ab())
    feed = f"{PREFIX}/uploads/{upload_id}/timetable"

    ics = api.client.get(feed, params={"format": "ics"}, headers=key)
    found = recurring_ical_events_expand(ics.content, date(2025, 8, 1), date(2026, 8, 1))
    days = sorted({o.start[:10] for o in found})
    assert days[0] == "2025-09-08" and days[-1] <= "2025-12-19"  # the first Monday and Tuesday of term
    assert not any("2025-10-27" <= d <= "2025-10-31" for d in days)  # half term
    assert _mondays(found, "French", "Spanish")["2025-09-08"] == "Spanish"  # 1-5 Sep is Week A

    # this upload's term starts in Week B; the holidays still come from the tenant
    own = api.client.put(f"{PREFIX}/uploads/{upload_id}/term", json={"first_week": "B"}, headers=key)
    assert own.status_code == 200, own.text
    assert own.json()["upload"]["first_week"] == "B"
    assert own.json()["effective"]["holidays"] == ["2025-10-27/2025-10-31"]
    ics = api.client.get(feed, params={"format": "ics"}, headers=key)
    found = ical_js(ics.content, date(2025, 9, 1), date(2025, 9, 23), tmp_path)
    assert _mondays(found, "French", "Spanish") == {
        "2025-09-08": "French",
        "2025-09-15": "Spanish",
        "2025-09-22": "French",
    }
    events = api.client.get(feed, params={"format": "fullcalendar"}, headers=key).json()
    french, spanish = (next(e for e in events if e["title"] == title) for title in ("French", "Spanish"))
    assert french["rrule"]["dtstart"] == "2025-09-08T08:30:00" and "exdate" not in french
    assert spanish["rrule"]["dtstart"] == "2025-09-15T08:30:00" and spanish["exdate"] == [
        "2025-10-27T08:30:00"
    ]

    other = api.new_key("other-school")
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/term", headers=other).status_code == 404
    assert api.client.get(f"{PREFIX}/term", headers=other).json()["term_start"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"term_start": "2026-09-01", "term_end": "2026-07-01"},
        {"term_start": "2026-09-01", "term_end": "9999-12-31"},
        {"holidays": ["2025-13-01"]},
        {"holidays": ["2025-12-31/2025-12-01"]},
        {"timezone": "Mars/Olympus"},
        {"bell_times": {"1": {"start": "09:40", "end": "08:50"}}},
        {"term_begins": "2025-09-01"},
    ],
)
def test_bad_term_settings_are_refused_with_a_problem(api: Api, body: dict) -> None:
    key = api.new_key("school")
    for url in (f"{PREFIX}/term", f"{PREFIX}/uploads/{api.submit(key).json()['upload_id']}/term"):
        response = api.client.put(url, json=body, headers=key)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_feed_fetched_a_week_later_is_the_same_feed(api: Api, tmp_path: Path) -> None:
    """Item 1 through the API, with no term set: the anchor is the upload's school year, not the fetch date."""
    import time_machine

    key = api.new_key("school")
    with time_machine.travel(datetime(2025, 9, 2, 9, tzinfo=UTC), tick=False):
        upload_id = api.submit(key).json()["upload_id"]
        api.finish(upload_id, cases.week_ab())
    feeds = []
    for fetched in (datetime(2025, 9, 3, 9, tzinfo=UTC), datetime(2025, 9, 10, 9, tzinfo=UTC)):
        with time_machine.travel(fetched, tick=False):
            response = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable?format=ics", headers=key)
            feeds.append(response.content)
    assert feeds[0] == feeds[1]
    found = ical_js(feeds[0], date(2025, 9, 15), date(2025, 9, 16), tmp_path)
    assert _mondays(found, "French", "Spanish") == {"2025-09-15": "French"}


def test_cli_term_flags_bound_the_feed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = tmp_path / "week.csv"
    document.write_text("day,start,end,subject\nMON,08:30,09:30,French\n")
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# autumn half term\n2025-10-27/2025-10-31\n\n2025-11-10  # inset day\n")
    output = tmp_path / "week.ics"
    code = main([
        "extract", str(document), "--mode", "document_ai", "--format", "ics", "-q", "-o", str(output),
        "--term-start", "2025-09-03", "--term-end", "2025-12-19", "--holidays", str(holidays),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    mondays = sorted(
        o.start[:10] for o in ical_js(output.read_bytes(), date(2025, 1, 1), date(2027, 1, 1), tmp_path)
    )
    expected = []
    day = date(2025, 9, 8)
    while day <= date(2025, 12, 19):
        if day not in (date(2025, 10, 27), date(2025, 11, 10)):
            expected.append(day.isoformat())
        day += timedelta(weeks=1)
    assert mondays == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--holidays", "HOLIDAYS"], "line 2"),
        (["--holidays", "missing.txt"], "cannot read"),
        (["--term-start", "2026-09-01", "--term-end", "2026-07-01"], "before"),
        (["--term-start", "2025-09-01", "--week-start", "2025-09-08"], "disagree"),
    ],
)
def test_cli_bad_term_flags_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    document = tmp_path / "week.csv"
    document.write_text("day,start,end,subject\nMON,08:30,09:30,French\n")
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("2025-10-27\nhalf term\n")
    flags = [
        str(holidays) if f == "HOLIDAYS" else str(tmp_path / f) if f.endswith(".txt") else f for f in flags
    ]
    code = main(["extract", str(document), "--mode", "document_ai", "--format", "ics", *flags])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_and_api_serve_the_same_export_registry(api: Api, tmp_path: Path) -> None:
    """Issue 12: one registry; the CLI now writes FullCalendar events and the spreadsheet CSV too."""
    schema = api.client.get("/openapi.json").json()
    parameters = schema["paths"][f"{PREFIX}/uploads/{{upload_id}}/timetable"]["get"]["parameters"]
    format_schema = next(p for p in parameters if p["name"] == "format")["schema"]
    if "$ref" in format_schema:
        format_schema = schema["components"]["schemas"][format_schema["$ref"].rsplit("/", 1)[1]]
    assert (
        set(format_schema["enum"])
        == set(EXPORT_FORMATS)
        >= {"json", "csv", "csv-excel", "ics", "fullcalendar"}
    )

    document = tmp_path / "week.csv"
    document.write_text("day,start,end,subject\nMON,08:30,09:30,French\n")
    for name, export in EXPORT_FORMATS.items():
        out_dir = tmp_path / name
        assert (
            main(
                [
                    "extract",
                    str(document),
                    "--mode",
                    "document_ai",
                    "--format",
                    name,
                    "-q",
                    "--out-dir",
                    str(out_dir),
                ]
            )
            == 0
        )
        written = out_dir / f"week.{export.extension}"
        assert written.is_file(), name
    events = json.loads((tmp_path / "fullcalendar" / "week.json").read_text())
    assert events[0]["title"] == "French" and events[0]["daysOfWeek"] == [1]


def test_a_tenants_bell_times_give_a_period_only_upload_times_in_every_export(api: Api) -> None:
    """Item 5: CSVs, calendars and the week view of a period-only timetable use the school's bell times."""
    key = api.new_key("school")
    bells = {
        "Registration": {"start": "08:40", "end": "08:50"}, "1": {"start": "08:50", "end": "09:40"},
        "2": {"start": "09:40", "end": "10:30"}, "Break": {"start": "10:30", "end": "10:50"},
        "3": {"start": "10:50", "end": "11:40"}, "Lunch": {"start": "11:40", "end": "12:30"},
        "4": {"start": "12:30", "end": "13:20"},
    }  # fmt: skip
    assert api.client.put(f"{PREFIX}/term", json={"bell_times": bells}, headers=key).status_code == 200
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id, cases.period_only())
    feed = f"{PREFIX}/uploads/{upload_id}/timetable"
    csv_text = api.client.get(feed, params={"format": "csv"}, headers=key).text
    assert csv_text.splitlines()[1].startswith("MON,08:40,08:50,,other,Registration")
    events = api.client.get(feed, params={"format": "fullcalendar"}, headers=key).json()
    assert not any(e.get("allDay") for e in events)
    assert {e["title"]: e["startTime"] for e in events if e["daysOfWeek"] == [1]}["Science"] == "10:50"
    page = api.client.get(f"{PREFIX}/uploads/{upload_id}/view", headers=key).text
    assert "08:50\u201309:40" in page and ">?<" not in page  # the week view writes times with an en dash
    # the JSON stays what the document printed
    assert all(e["start"] is None for e in api.client.get(feed, headers=key).json()["entries"])
