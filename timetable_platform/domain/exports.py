"""Timetable exports: CSV, iCalendar, FullCalendar events, a Markdown week and an HTML week page.

Pure functions from a ``Timetable`` to text or bytes; the CLI, the API and Dagster metadata use them.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from timetable_platform.domain.model import DAYS, Entry, Timetable

CSV_FIELDS = (
    "day",
    "start",
    "end",
    "period",
    "kind",
    "subject",
    "teacher",
    "room",
    "group",
    "week",
    "notes",
    "confidence",
    "page",
)
DAY_NAMES = {
    "MON": "Monday",
    "TUE": "Tuesday",
    "WED": "Wednesday",
    "THU": "Thursday",
    "FRI": "Friday",
    "SAT": "Saturday",
    "SUN": "Sunday",
}
WORK_WEEK = DAYS[:5]
PRODID = "-//timetable-platform//timetable export//EN"
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


# ----------------------------------------------------------------------------------------- helpers


def _week_labels(timetable: Timetable) -> list[str]:
    return sorted({e.week for e in timetable.entries if e.week})


def _entry_uids(timetable: Timetable) -> list[str]:
    """A UID per entry that stays the same when the same timetable is exported again."""
    seen: dict[str, int] = defaultdict(int)
    uids = []
    for entry in timetable.entries:
        key = "|".join(
            str(v or "")
            for v in (
                entry.day,
                entry.start,
                entry.end,
                entry.week,
                entry.period,
                entry.subject,
                entry.group,
                entry.room,
            )
        )
        seen[key] += 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:24]
        uids.append(f"{digest}@timetable-platform")
    return uids


def _description(entry: Entry) -> str:
    parts = [
        ("Teacher", entry.teacher),
        ("Group", entry.group),
        ("Room", entry.room),
        ("Period", entry.period),
        ("Week", entry.week),
        ("Notes", entry.notes),
    ]
    return "\n".join(f"{label}: {value}" for label, value in parts if value)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _minutes(value: str) -> int:
    clock = _hhmm(value)
    return clock.hour * 60 + clock.minute


def _clean_time(value: str | None) -> str | None:
    """A schema-valid ``HH:MM`` or None: calendars treat a malformed time as no time rather than fail."""
    return value if value and _HHMM.match(value) else None


def _days_shown(timetable: Timetable) -> list[str]:
    used = {e.day for e in timetable.entries}
    return [d for d in DAYS if d in WORK_WEEK or d in used]


# ----------------------------------------------------------------------------------------- CSV


def to_csv(timetable: Timetable) -> str:
    """One row per entry (sorted by week, day, time) under a header row of every entry field."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for entry in timetable.sorted_entries():
        row = entry.model_dump(mode="json")
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in CSV_FIELDS})
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------- iCalendar


def to_ics(timetable: Timetable, *, week_start: date | None = None, tz: str = "Europe/London") -> bytes:
    """Weekly recurring events from ``week_start`` (default: this week's Monday).

    Alternating weeks (A/B, or more labels) recur every N weeks, the second label's events starting
    a week later. Entries without printed times become all-day events flagged ``X-TIMETABLE-UNTIMED``.
    """
    zone = ZoneInfo(tz)
    monday = _monday(week_start or date.today())
    labels = _week_labels(timetable)
    cycle = max(len(labels), 1)

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if timetable.title:
        cal.add("x-wr-calname", timetable.title)
    cal.add("x-wr-timezone", tz)
    stamp = datetime.now(UTC).replace(microsecond=0)

    for entry, uid in zip(timetable.entries, _entry_uids(timetable), strict=True):
        offset_weeks = labels.index(entry.week) if entry.week in labels else 0
        day = monday + timedelta(days=DAYS.index(entry.day), weeks=offset_weeks)
        event = icalendar.Event()
        event.add("uid", uid)
        event.add("dtstamp", stamp)
        event.add("summary", entry.subject)
        start_text, end_text = _clean_time(entry.start), _clean_time(entry.end)
        if start_text:
            start = datetime.combine(day, _hhmm(start_text), tzinfo=zone)
            end_time = _hhmm(end_text) if end_text and end_text > start_text else None
            end = datetime.combine(day, end_time, tzinfo=zone) if end_time else start + timedelta(minutes=1)
            event.add("dtstart", start)
            event.add("dtend", end)
            if not end_text:
                event.add("x-timetable-note", "no end time printed")
        else:
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("x-timetable-untimed", f"no time printed; period {entry.period or '?'}")
        rule: dict[str, Any] = {"freq": "weekly"}
        if entry.week and cycle > 1:
            rule["interval"] = cycle
        event.add("rrule", rule)
        if entry.room:
            event.add("location", entry.room)
        description = _description(entry)
        if description:
            event.add("description", description)
        event.add("categories", [entry.kind])
        cal.add_component(event)
    # VTIMEZONE covering the term years only, not 1970-2038.
    cal.add_missing_timezones(first_date=date(monday.year - 1, 1, 1), last_date=date(monday.year + 3, 1, 1))
    return cal.to_ical()


# ----------------------------------------------------------------------------------------- FullCalendar


def to_fullcalendar(timetable: Timetable, *, week_start: date | None = None) -> list[dict[str, Any]]:
    """FullCalendar event objects recurring weekly.

    Plain weekly entries use the built-in simple recurrence (``daysOfWeek``/``startTime``/``endTime``/
    ``startRecur``). Alternating-week entries need an interval, which only FullCalendar's rrule plugin
    expresses, so they carry ``rrule`` + ``duration`` instead.
    """
    monday = _monday(week_start or date.today())
    labels = _week_labels(timetable)
    cycle = max(len(labels), 1)
    events: list[dict[str, Any]] = []
    for entry, uid in zip(timetable.entries, _entry_uids(timetable), strict=True):
        weekday = DAYS.index(entry.day)
        offset_weeks = labels.index(entry.week) if entry.week in labels else 0
        first = monday + timedelta(days=weekday, weeks=offset_weeks)
        event: dict[str, Any] = {
            "id": uid,
            "groupId": entry.week or "weekly",
            "title": entry.subject,
            "extendedProps": {
                k: v
                for k, v in entry.model_dump(mode="json").items()
                if k not in ("day", "start", "end", "subject") and v is not None
            },
        }
        start_text, end_text = _clean_time(entry.start), _clean_time(entry.end)
        timed = bool(start_text and end_text and end_text > start_text)
        if entry.week and cycle > 1:
            rrule: dict[str, Any] = {
                "freq": "weekly",
                "interval": cycle,
                "byweekday": [entry.day.lower()[:2]],
                "dtstart": f"{first.isoformat()}T{start_text}:00" if timed else first.isoformat(),
            }
            event["rrule"] = rrule
            if timed:
                assert start_text and end_text
                minutes = _minutes(end_text) - _minutes(start_text)
                event["duration"] = f"{minutes // 60:02d}:{minutes % 60:02d}"
            else:
                event["allDay"] = True
        else:
            event["daysOfWeek"] = [(weekday + 1) % 7]  # FullCalendar counts from Sunday = 0
            event["startRecur"] = first.isoformat()
            if timed:
                event["startTime"] = start_text
                event["endTime"] = end_text
            else:
                event["allDay"] = True
        events.append(event)
    return events


# ----------------------------------------------------------------------------------------- week grids


def _cell_text(entry: Entry) -> str:
    extras = [v for v in (entry.teacher, entry.group, entry.room) if v]
    return entry.subject + (f" ({', '.join(extras)})" if extras else "")


def _row_label(entry: Entry) -> str:
    if entry.start:
        return f"{entry.start}-{entry.end}" if entry.end else entry.start
    return f"P{entry.period}" if entry.period and entry.period.isdigit() else (entry.period or "?")


def _row_sort_key(entry: Entry) -> tuple[str, str, str]:
    return (entry.start or "99:99", entry.end or "", entry.period or "")


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown_week(timetable: Timetable) -> str:
    """A Markdown table per week label: one row per distinct time slot, one column per day."""
    days = _days_shown(timetable)
    sections: list[str] = []
    by_week: dict[str | None, list[Entry]] = defaultdict(list)
    for entry in timetable.entries:
        by_week[entry.week].append(entry)
    if not by_week:
        by_week[None] = []
    for week in sorted(by_week, key=lambda w: w or ""):
        entries = by_week[week]
        rows: dict[str, dict[str, list[str]]] = {}
        order: dict[str, tuple[str, str, str]] = {}
        for entry in entries:
            label = _row_label(entry)
            rows.setdefault(label, defaultdict(list))[entry.day].append(_cell_text(entry))
            order[label] = min(order.get(label, _row_sort_key(entry)), _row_sort_key(entry))
        lines = []
        if week:
            lines.append(f"**Week {_md_escape(week)}**\n")
        lines.append("| Time | " + " | ".join(DAY_NAMES[d][:3] for d in days) + " |")
        lines.append("|---" * (len(days) + 1) + "|")
        for label in sorted(rows, key=lambda k: order[k]):
            cells = [_md_escape(" / ".join(rows[label].get(d, []))) for d in days]
            lines.append(f"| {_md_escape(label)} | " + " | ".join(cells) + " |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


_HTML_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1c1c1c}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta{color:#555;margin:0 0 1rem}nav a{margin-right:1rem}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #c9c9c9;padding:.3rem .4rem;vertical-align:top;font-size:.85rem}
th{background:#f2f2f2}th.time{width:7rem;text-align:left;white-space:nowrap}
.entry{border-radius:4px;padding:.2rem .3rem;margin:.1rem 0;background:#e8f0fe}
.entry.break{background:#f1f1f1;color:#555}.entry.other{background:#eef7ee}
.entry.low{outline:2px dashed #d93025;background:#fdecea}
.subject{font-weight:600}.detail{color:#444;font-size:.78rem}
.warnings{background:#fff8e1;border:1px solid #f0c36d;padding:.5rem 1rem}
"""


def _html_entry(entry: Entry, low_confidence: float) -> str:
    classes = ["entry", entry.kind]
    title = ""
    if entry.confidence is not None and entry.confidence < low_confidence:
        classes.append("low")
        title = f' title="low confidence: {entry.confidence:.2f}"'
    details = [v for v in (entry.teacher, entry.group, entry.room, entry.notes) if v]
    if not entry.start and entry.period:
        details.insert(0, f"period {entry.period}")
    detail_html = f'<div class="detail">{html.escape(" · ".join(details))}</div>' if details else ""
    return (
        f'<div class="{" ".join(classes)}"{title}>'
        f'<div class="subject">{html.escape(entry.subject)}</div>{detail_html}</div>'
    )


def _html_grid(entries: list[Entry], days: list[str], low_confidence: float) -> str:
    """Days as columns; rows are the intervals between every printed time, so a double period spans rows."""
    timed, untimed = [], []
    for e in entries:
        start, end = _clean_time(e.start), _clean_time(e.end)
        (timed if start and end and end > start else untimed).append(e)
    bounds = sorted({t for e in timed for t in (e.start, e.end) if t})
    segments = list(pairwise(bounds))
    seg_index = {start: i for i, (start, _) in enumerate(segments)}

    # Per day, place clusters of entries with the same range; a cluster that would overlap one
    # already placed joins it, so rowspans never collide.
    placed: dict[str, dict[int, tuple[int, list[Entry]]]] = {d: {} for d in days}
    covered: dict[str, set[int]] = {d: set() for d in days}
    for day in days:
        clusters: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in timed:
            if entry.day == day:
                assert entry.start and entry.end
                clusters[(entry.start, entry.end)].append(entry)
        for (start, end), members in sorted(clusters.items()):
            first = seg_index[start]
            last = first
            while last + 1 < len(segments) and segments[last + 1][0] < end:
                last += 1
            span = set(range(first, last + 1))
            if span & covered[day]:
                host = max(
                    i for i in placed[day] if i <= first and span & set(range(i, i + placed[day][i][0]))
                )
                placed[day][host][1].extend(members)
                continue
            placed[day][first] = (last - first + 1, list(members))
            covered[day] |= span

    rows = []
    for i, (start, end) in enumerate(segments):
        cells = [f'<th class="time" scope="row">{html.escape(start)}&ndash;{html.escape(end)}</th>']
        for day in days:
            if i in placed[day]:
                span, members = placed[day][i]
                rowspan = f' rowspan="{span}"' if span > 1 else ""
                inner = "".join(_html_entry(e, low_confidence) for e in members)
                cells.append(f"<td{rowspan}>{inner}</td>")
            elif i not in covered[day]:
                cells.append("<td></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")

    by_label: dict[str, dict[str, list[Entry]]] = {}
    for entry in sorted(untimed, key=_row_sort_key):
        by_label.setdefault(_row_label(entry), defaultdict(list))[entry.day].append(entry)
    for label, per_day in by_label.items():
        cells = [f'<th class="time" scope="row">{html.escape(label)}</th>']
        for day in days:
            inner = "".join(_html_entry(e, low_confidence) for e in per_day.get(day, []))
            cells.append(f"<td>{inner}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")

    head = (
        '<tr><th class="time">Time</th>'
        + "".join(f'<th scope="col">{DAY_NAMES[d]}</th>' for d in days)
        + "</tr>"
    )
    return f"<table>\n<thead>{head}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def to_html_week(
    timetable: Timetable, *, low_confidence: float = 0.6, links: dict[str, str] | None = None
) -> str:
    """A self-contained HTML page (inline CSS, no script) showing the week as a grid.

    Entries whose confidence is under ``low_confidence`` are outlined; ``links`` maps a label to an
    export URL (for example ``{"iCalendar": ".../timetable?format=ics"}``).
    """
    title = timetable.title or "Timetable"
    days = _days_shown(timetable)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_HTML_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    meta = []
    if timetable.owner:
        meta.append(f"{timetable.owner.kind}: {timetable.owner.name}")
    if timetable.source and timetable.source.filename:
        meta.append(f"from {timetable.source.filename}")
    meta.append(f"{len(timetable.entries)} entries")
    low = sum(1 for e in timetable.entries if e.confidence is not None and e.confidence < low_confidence)
    if low:
        meta.append(f"{low} under confidence {low_confidence:g} (outlined)")
    parts.append(f'<p class="meta">{html.escape(" · ".join(meta))}</p>')
    if links:
        anchors = " ".join(
            f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'
            for label, url in links.items()
        )
        parts.append(f"<nav>{anchors}</nav>")
    if timetable.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in timetable.warnings)
        parts.append(f'<div class="warnings"><strong>Warnings</strong><ul>{items}</ul></div>')

    by_week: dict[str | None, list[Entry]] = defaultdict(list)
    for entry in timetable.entries:
        by_week[entry.week].append(entry)
    if not by_week:
        by_week[None] = []
    for week in sorted(by_week, key=lambda w: w or ""):
        if week or len(by_week) > 1:
            parts.append(f"<h2>Week {html.escape(week or '(every week)')}</h2>")
        parts.append(_html_grid(by_week[week], days, low_confidence))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
