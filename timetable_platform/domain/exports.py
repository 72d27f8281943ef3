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


# Vertical scale of the week view: every block's height is its duration times this.
PX_PER_MINUTE = 1.4
PHONE_WIDTH_PX = 640
NOTICES_SHOWN = 3
SHORT_MINUTES = 30

_HTML_STYLE = f"""
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1rem;color:#1c1c1c}}
h1{{font-size:1.4rem;margin:0 0 .25rem}}
.meta{{color:#555;margin:0 0 1rem}}nav a{{margin-right:1rem}}
.notices{{background:#fff8e1;border:1px solid #f0c36d;padding:.5rem 1rem;margin:0 0 1rem}}
.notices ul{{margin:.25rem 0;padding-left:1.2rem}}
table.week{{border-collapse:collapse;width:100%;table-layout:fixed;margin:0 0 1.5rem}}
table.week caption{{text-align:left;font-weight:600;font-size:1.1rem;padding:.5rem 0}}
table.week th,table.week td{{border:1px solid #c9c9c9;padding:0;vertical-align:top;font-size:.85rem}}
table.week thead th{{background:#f2f2f2;padding:.3rem .4rem}}
th.time{{width:4rem;text-align:left}}
.lane{{position:relative;margin:.6rem 0}}
.tick{{position:absolute;left:.3rem;font-size:.72rem;color:#555;transform:translateY(-50%)}}
.hour{{position:absolute;left:0;right:0;border-top:1px solid #ececec}}
.hour span{{display:none}}
.entry{{position:absolute;box-sizing:border-box;overflow:hidden;border-radius:3px;padding:.05rem .25rem;
  background:#e8f0fe;border:1px solid #aac4f5;font-size:.75rem;line-height:1.15}}
.entry.break{{background:#f1f1f1;border-color:#ccc;color:#555}}.entry.other{{background:#eef7ee;border-color:#b5d8b5}}
.entry.low{{outline:2px dashed #d93025;outline-offset:-2px;background:#fdecea}}
.when{{color:#444;font-size:.7rem;display:block}}.entry.short .when{{display:inline;margin-right:.3em}}
.entry.short{{white-space:nowrap;text-overflow:ellipsis}}.subject{{font-weight:600}}.detail{{color:#444;font-size:.7rem}}
.flag{{display:block;font-weight:400;color:#a50e0e;font-size:.72rem}}
td.flagged{{background:repeating-linear-gradient(45deg,#fff,#fff 8px,#fdf1f0 8px,#fdf1f0 16px)}}
.dayname{{display:none}}
table.untimed td,table.untimed th{{padding:.3rem .4rem}}table.untimed .entry{{position:static;margin:.1rem 0}}
@media (max-width:{PHONE_WIDTH_PX}px){{
  body{{margin:.5rem}}
  table.week,table.week tbody,table.week tr,table.week td,table.week caption{{display:block;width:auto}}
  table.week thead,table.week th.axis{{display:none}}
  table.week td.day{{border:none;margin:0 0 1rem}}
  .dayname{{display:block;font-weight:600;background:#f2f2f2;padding:.3rem .4rem;border:1px solid #c9c9c9}}
  .day .lane{{margin-left:3rem;border-left:1px solid #c9c9c9}}
  .hour span{{display:block;position:absolute;left:-3rem;font-size:.72rem;color:#555;transform:translateY(-50%)}}
}}
"""


def _entry_text(entry: Entry) -> list[str]:
    details = [v for v in (entry.teacher, entry.group, entry.room, entry.notes) if v]
    if not entry.start and entry.period:
        details.insert(0, f"period {entry.period}")
    return details


def _html_entry(entry: Entry, low_confidence: float, box: str | None = None) -> str:
    """One block; ``box`` (CSS top/height/left/width) places it on the time axis, without it the
    block flows in a cell (lessons without times)."""
    classes = ["entry", entry.kind]
    start, end = _clean_time(entry.start), _clean_time(entry.end)
    if start and end and _minutes(end) - _minutes(start) < SHORT_MINUTES:
        classes.append("short")  # time and subject on one line: the block is one line tall
    details = _entry_text(entry)
    when = f"{entry.start}\u2013{entry.end}" if entry.start and entry.end else ""
    hover = " · ".join(x for x in (when, entry.subject, *details) if x)
    if entry.confidence is not None and entry.confidence < low_confidence:
        classes.append("low")
        hover += f" (low confidence: {entry.confidence:.2f})"
    attributes = f' title="{html.escape(hover, quote=True)}"'
    if box is not None:
        attributes += f' data-start="{start}" data-end="{end}" style="{box}"'
    when_html = f'<span class="when">{html.escape(when)}</span>' if when else ""
    detail_html = f' <span class="detail">{html.escape(" · ".join(details))}</span>' if details else ""
    return (
        f'<div class="{" ".join(classes)}"{attributes}>{when_html}'
        f'<span class="subject">{html.escape(entry.subject)}</span>{detail_html}</div>'
    )


def lay_out_day(entries: list[Entry]) -> list[tuple[Entry, int, int]]:
    """Side-by-side lanes for one day's timed entries: (entry, lane, lanes in its overlap group).

    Entries that overlap (directly or through a chain) form a group; each takes the first lane free
    at its start, and every member of a group is as wide as the group's number of lanes allows.
    """
    placed: list[tuple[Entry, int, int]] = []
    group: list[tuple[Entry, int]] = []
    lane_ends: list[int] = []
    group_end = -1

    def close() -> None:
        placed.extend((entry, lane, len(lane_ends)) for entry, lane in group)

    for entry in sorted(entries, key=lambda e: (_minutes(e.start or ""), -_minutes(e.end or ""))):
        start, end = _minutes(entry.start or ""), _minutes(entry.end or "")
        if group and start >= group_end:
            close()
            group, lane_ends = [], []
        lane = next((i for i, lane_end in enumerate(lane_ends) if lane_end <= start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        group.append((entry, lane))
        group_end = max(group_end, end) if len(group) > 1 else end
    if group:
        close()
    return placed


def _html_time_grid(
    entries: list[Entry], days: list[str], low_confidence: float, *, caption: str, flagged: set[str]
) -> str:
    """Days as columns on one time axis: each block is as tall as it lasts, overlapping blocks side by side."""
    timed, untimed = [], []
    for e in entries:
        start, end = _clean_time(e.start), _clean_time(e.end)
        (timed if start and end and end > start else untimed).append(e)
    parts: list[str] = []
    head = '<tr><th scope="col" class="time">Time</th>' + "".join(
        f'<th scope="col">{DAY_NAMES[d]}'
        + ('<span class="flag">no lessons read: check the document</span>' if d in flagged else "")
        + "</th>"
        for d in days
    ) + "</tr>"
    if timed or flagged:
        first = min((_minutes(e.start or "") for e in timed), default=9 * 60) // 60 * 60
        last = -(-max((_minutes(e.end or "") for e in timed), default=15 * 60) // 60) * 60
        height = round((last - first) * PX_PER_MINUTE)
        hours = range(first, last + 1, 60)

        def y(minute: int) -> float:
            return round((minute - first) * PX_PER_MINUTE, 1)

        ticks = "".join(f'<span class="tick" style="top:{y(m)}px">{m // 60:02d}:00</span>' for m in hours)
        lines = "".join(f'<div class="hour" style="top:{y(m)}px"><span>{m // 60:02d}:00</span></div>' for m in hours)
        cells = [f'<th scope="row" class="axis"><div class="lane" style="height:{height}px">{ticks}</div></th>']
        for day in days:
            blocks = []
            for entry, lane, lanes in lay_out_day([e for e in timed if e.day == day]):
                start, end = _minutes(entry.start or ""), _minutes(entry.end or "")
                style = (
                    f"top:{y(start)}px;height:{round((end - start) * PX_PER_MINUTE, 1)}px;"
                    f"left:{100 * lane / lanes:.3f}%;width:{100 / lanes:.3f}%"
                )
                blocks.append(_html_entry(entry, low_confidence, style))
            flag = '<span class="flag">no lessons read: check the document</span>' if day in flagged else ""
            css = "day flagged" if day in flagged else "day"
            cells.append(
                f'<td class="{css}" data-day="{day}"><div class="dayname">{DAY_NAMES[day]}{flag}</div>'
                f'<div class="lane" style="height:{height}px">{lines}{"".join(blocks)}</div></td>'
            )
        parts.append(
            f'<table class="week"><caption>{html.escape(caption)}</caption>\n<thead>{head}</thead>\n'
            f"<tbody><tr>{''.join(cells)}</tr></tbody>\n</table>"
        )

    if untimed:
        by_label: dict[str, dict[str, list[Entry]]] = {}
        for entry in sorted(untimed, key=_row_sort_key):
            by_label.setdefault(_row_label(entry), defaultdict(list))[entry.day].append(entry)
        rows = []
        for label, per_day in by_label.items():
            cells = [f'<th class="time" scope="row">{html.escape(label)}</th>']
            for day in days:
                inner = "".join(_html_entry(e, low_confidence) for e in per_day.get(day, []))
                cells.append(f"<td>{inner}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        parts.append(
            f'<table class="week untimed"><caption>{html.escape(caption)}: lessons without a full time</caption>\n'
            f"<thead>{head}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
        )
    return "\n".join(parts)


def to_html_week(
    timetable: Timetable, *, low_confidence: float = 0.6, links: dict[str, str] | None = None
) -> str:
    """A self-contained HTML page (inline CSS, no script) showing each week on a time axis.

    Blocks are as tall as they last and overlapping ones stand side by side; on a phone the days
    stack. Entries whose confidence is under ``low_confidence`` are outlined; a day between days
    with lessons that has none is flagged; what to check is listed in a teacher's words
    (``review.notices``). ``links`` maps a label to an export URL.
    """
    from timetable_platform.domain import review

    heading = review.heading_or_none(timetable.title)
    days = _days_shown(timetable)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(heading or 'Timetable')}</title><style>{_HTML_STYLE}</style></head><body>",
    ]
    if heading:
        parts.append(f"<h1>{html.escape(heading)}</h1>")
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
    notices = review.notices(timetable)
    if notices:
        # The first few in full; the rest one click away, so a phone shows the week without scrolling far.
        shown, rest = notices[:NOTICES_SHOWN], notices[NOTICES_SHOWN:]
        items = "".join(f"<li>{html.escape(n)}</li>" for n in shown)
        more = ""
        if rest:
            hidden = "".join(f"<li>{html.escape(n)}</li>" for n in rest)
            more = f"<details><summary>{len(rest)} more to check</summary><ul>{hidden}</ul></details>"
        parts.append(
            f'<div class="notices" role="note"><strong>Please check</strong><ul>{items}</ul>{more}</div>'
        )

    flagged = set(review.empty_days(timetable))
    by_week: dict[str | None, list[Entry]] = defaultdict(list)
    for entry in timetable.entries:
        by_week[entry.week].append(entry)
    if not by_week:
        by_week[None] = []
    for week in sorted(by_week, key=lambda w: w or ""):
        caption = f"Week {week}" if week else ("Every week" if len(by_week) > 1 else "The week by time")
        on_every_week = {e.day for e in by_week[week]} | {e.day for e in by_week.get(None, [])}
        parts.append(
            _html_time_grid(
                by_week[week], days, low_confidence, caption=caption, flagged=flagged - on_every_week
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
