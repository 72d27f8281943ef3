"""Timetable exports: CSV, iCalendar, FullCalendar events, a Markdown week and an HTML week page.

Pure functions from a ``Timetable`` (and, for calendars, a resolved ``Term``) to text or bytes.
``EXPORT_FORMATS`` is the one registry of downloadable formats that the API and the CLI both serve.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import html
import io
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from timetable_platform.domain.days import DAY_NAMES
from timetable_platform.domain.model import DAYS, Entry, Timetable
from timetable_platform.domain.term import BellTime, Term, normalise_slot
from timetable_platform.domain.vtimezone import UnsupportedZoneRule, vtimezone

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
WORK_WEEK = DAYS[:5]
PRODID = "-//timetable-platform//timetable export//EN"
# How long an entry printed with a start but no end lasts when no later entry that day ends it and
# the timetable has no entries with both times to take a usual length from.
DEFAULT_ASSUMED_MINUTES = 60
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


# ----------------------------------------------------------------------------------------- slots and times


def _slot_label(entry: Entry) -> str:
    """The row an entry belongs to when times are missing: its period, else its subject (Break, Lunch)."""
    return normalise_slot(entry.period or entry.subject)


def slot_ranks(timetable: Timetable) -> dict[str, int]:
    """Each slot label's place in the school day, from the order entries follow within each day.

    Consecutive entries of one day say which slot comes first; numbered periods follow their numbers.
    Ties keep the order of first appearance; contradictory documents fall back to that order.
    """
    first_seen: dict[str, int] = {}
    for entry in timetable.entries:
        first_seen.setdefault(_slot_label(entry), len(first_seen))
    after: dict[str, set[str]] = defaultdict(set)
    by_day: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for entry in timetable.entries:
        by_day[(entry.day, entry.week)].append(_slot_label(entry))
    for labels in by_day.values():
        for before, later in pairwise(labels):
            if before != later:
                after[before].add(later)
    numbered = sorted((label for label in first_seen if label.isdigit()), key=int)
    for before, later in pairwise(numbered):
        after[before].add(later)
    waiting = {label: 0 for label in first_seen}
    for label in first_seen:
        for later in after[label]:
            waiting[later] += 1
    ready = [(first_seen[label], label) for label, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, label = heapq.heappop(ready)
        order.append(label)
        for later in after[label]:
            waiting[later] -= 1
            if waiting[later] == 0:
                heapq.heappush(ready, (first_seen[later], later))
    if len(order) < len(first_seen):  # a cycle: the document contradicts itself
        order = sorted(first_seen, key=first_seen.__getitem__)
    return {label: rank for rank, label in enumerate(order)}


def ordered_entries(timetable: Timetable) -> list[Entry]:
    """Entries by week, day, time, then place in the day (period order for entries without times)."""
    ranks = slot_ranks(timetable)
    return sorted(
        timetable.entries,
        key=lambda e: (
            e.week or "",
            DAYS.index(e.day),
            _clean_time(e.start) or "99:99",
            ranks[_slot_label(e)],
            e.subject,
        ),
    )


def apply_bell_times(timetable: Timetable, bell_times: dict[str, BellTime]) -> Timetable:
    """Entries printed without times get their period's (or slot's, e.g. "Break") bell times."""
    if not bell_times:
        return timetable
    keyed = {normalise_slot(k): v for k, v in bell_times.items()}
    entries = []
    for entry in timetable.entries:
        bell = keyed.get(_slot_label(entry))
        if bell is not None and not _clean_time(entry.start):
            entry = entry.model_copy(update={"start": bell.start, "end": bell.end})
        entries.append(entry)
    return timetable.model_copy(update={"entries": entries})


@dataclass(frozen=True)
class _Timing:
    """An entry's times as calendars get them."""

    start: str | None  # HH:MM, None: all day
    end: str | None
    end_note: str | None = None  # why the end is an assumption
    from_bells: bool = False


def _median_minutes(timetable: Timetable) -> int:
    lengths = [
        _minutes(end) - _minutes(start)
        for e in timetable.entries
        if (start := _clean_time(e.start)) and (end := _clean_time(e.end)) and end > start
    ]
    if not lengths:
        return DEFAULT_ASSUMED_MINUTES
    return max(5, round(statistics.median(lengths) / 5) * 5)


def _timings(timetable: Timetable, original: Timetable) -> list[_Timing]:
    """Times per entry (in ``timetable.entries`` order): printed ones, bell times, or an assumed end."""
    typical = _median_minutes(timetable)
    # Who can follow an entry: in week A, the day's week-A and every-week entries; an every-week
    # entry is followed by whichever comes first in any week.
    starts: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for entry in timetable.entries:
        if start := _clean_time(entry.start):
            starts[(entry.day, entry.week)].append(start)
    timings = []
    for entry, printed in zip(timetable.entries, original.entries, strict=True):
        start, end = _clean_time(entry.start), _clean_time(entry.end)
        from_bells = start is not None and not _clean_time(printed.start)
        if start is None:
            timings.append(_Timing(None, None))
            continue
        if end and end > start:
            timings.append(_Timing(start, end, from_bells=from_bells))
            continue
        if entry.week:
            same_day = starts[(entry.day, entry.week)] + starts[(entry.day, None)]
        else:
            same_day = [s for (day, _), found in starts.items() if day == entry.day for s in found]
        following = sorted(s for s in same_day if s > start)
        if following:
            end, note = (
                following[0],
                f"no end time printed; assumed to last until the next entry at {following[0]}",
            )
        else:
            minutes = min(_minutes(start) + typical, 23 * 60 + 59)
            end = f"{minutes // 60:02d}:{minutes % 60:02d}"
            note = f"no end time printed; assumed to last {typical} minutes (the timetable's usual length)"
        timings.append(_Timing(start, end, end_note=note, from_bells=from_bells))
    return timings


# ----------------------------------------------------------------------------------------- CSV

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Cells a spreadsheet would turn into a number, date, time or boolean ("1.", "274", "08:50", "007").
_CONVERTIBLE = re.compile(
    r"^\s*[-+(]?[\d.,:/\s%()$€£eE+-]*\d[\d.,:/\s%()$€£eE+-]*$|^\s*(true|false)\s*$", re.I
)


def neutralise_formula(text: str) -> str:
    """Cell text a spreadsheet will show, never run: a leading formula character gets a ``'`` before it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_rows(timetable: Timetable) -> list[dict[str, str]]:
    rows = []
    for entry in ordered_entries(timetable):
        data = entry.model_dump(mode="json")
        rows.append({k: "" if data.get(k) is None else str(data[k]) for k in CSV_FIELDS})
    return rows


def to_csv(timetable: Timetable) -> str:
    """Plain CSV for programs: UTF-8 without BOM, one row per entry in day and period order under a
    header row of every entry field. Cells that would run as spreadsheet formulas are neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in _csv_rows(timetable):
        writer.writerow({k: neutralise_formula(v) for k, v in row.items()})
    return buffer.getvalue()


def _spreadsheet_cell(text: str) -> str:
    if _CONVERTIBLE.match(text):
        # ="274" is how a CSV tells Excel and LibreOffice "this is text". The text matched a pattern
        # without letters or quotes, so the formula is always a plain string literal.
        return f'="{text}"'
    return neutralise_formula(text)


def to_csv_excel(timetable: Timetable) -> str:
    """CSV for spreadsheets (Excel, LibreOffice, Numbers): the rows of ``to_csv`` with a UTF-8 byte-order
    mark (so accented names open correctly) and cells that look like numbers, dates or times
    ("1.", "274", "08:50") written as ="..." so they stay the text the document printed."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in _csv_rows(timetable):
        writer.writerow({k: _spreadsheet_cell(v) if v else "" for k, v in row.items()})
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class _Occurrences:
    """Where one entry's weekly (or N-weekly) repeats fall within the term."""

    first: date
    last: date
    step_weeks: int
    excluded: list[date]


def _occurrences(entry: Entry, term: Term, labels: list[str]) -> _Occurrences | None:
    """None when every repeat falls outside the term or on a holiday."""
    cycle = len(labels) if entry.week in labels and len(labels) > 1 else 1
    offset = 0
    if cycle > 1:
        first_label = term.first_week if term.first_week in labels else labels[0]
        offset = (labels.index(entry.week) - labels.index(first_label)) % cycle  # type: ignore[arg-type]
    first = term.first_monday + timedelta(days=DAYS.index(entry.day), weeks=offset)
    while first < term.start:
        first += timedelta(weeks=cycle)
    days = []
    day = first
    while day <= term.end:
        days.append(day)
        day += timedelta(weeks=cycle)
    kept = [d for d in days if d not in term.holidays]
    if not kept:
        return None
    return _Occurrences(
        first=kept[0],
        last=kept[-1],
        step_weeks=cycle,
        excluded=[d for d in days if d in term.holidays and kept[0] < d < kept[-1]],
    )


def _untimed_titles(timetable: Timetable, timings: list[_Timing], ranks: dict[str, int]) -> list[str]:
    """Titles of all-day entries. In a period-only timetable a day is a pile of all-day events that
    calendar apps sort by title, so each title starts with its slot's place in the day ("01. Maths")."""
    if any(t.start for t in timings):
        return [e.subject for e in timetable.entries]
    width = len(str(len(ranks)))
    return [f"{ranks[_slot_label(e)] + 1:0{width}d}. {e.subject}" for e in timetable.entries]


def _calendar_description(entry: Entry, timing: _Timing) -> str:
    lines = [_description(entry)] if _description(entry) else []
    if timing.from_bells:
        lines.append("Times: from the school's bell times (the document prints only the period)")
    if timing.end_note:
        lines.append(f"End: {timing.end_note}")
    if timing.start is None:
        lines.append("Time: not printed (all-day placeholder; set bell times for real times)")
    return "\n".join(lines)


def _vtimezone(term: Term) -> icalendar.Timezone | None:
    try:
        return vtimezone(term.timezone)
    except (UnsupportedZoneRule, OSError):
        return None


def to_ics(timetable: Timetable, term: Term, *, stamp: datetime | None = None) -> bytes:
    """Weekly recurring events from the term's start to its end, holidays excluded (EXDATE).

    Alternating weeks (A/B, or more labels) recur every N weeks, anchored to the term start
    (``term.first_week`` names the week it falls in), so the same dates show the same lessons
    whenever the calendar is fetched. ``stamp`` is the DTSTAMP (default: now); pass when the
    timetable was produced to make the output depend on nothing but its inputs.
    """
    zone = ZoneInfo(term.timezone)
    original = timetable
    timetable = apply_bell_times(timetable, term.bell_times)
    labels = _week_labels(timetable)
    ranks = slot_ranks(timetable)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if timetable.title:
        cal.add("x-wr-calname", timetable.title)
    cal.add("x-wr-timezone", term.timezone)
    timezone_block = _vtimezone(term)
    if timezone_block is not None:
        cal.add_component(timezone_block)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    uids = _entry_uids(original)
    timings = _timings(timetable, original)
    titles = _untimed_titles(timetable, timings, ranks)
    for index in sorted(range(len(timetable.entries)), key=_order_key(timetable, ranks)):
        entry, uid, timing = timetable.entries[index], uids[index], timings[index]
        repeats = _occurrences(entry, term, labels)
        if repeats is None:
            continue
        event = icalendar.Event()
        event.add("uid", uid)
        event.add("dtstamp", stamp)
        rule: dict[str, Any] = {"freq": "weekly"}
        if repeats.step_weeks > 1:
            rule["interval"] = repeats.step_weeks
        if timing.start and timing.end:
            start_clock, end_clock = _hhmm(timing.start), _hhmm(timing.end)
            event.add("summary", entry.subject)
            event.add("dtstart", datetime.combine(repeats.first, start_clock, tzinfo=zone))
            event.add("dtend", datetime.combine(repeats.first, end_clock, tzinfo=zone))
            # UNTIL is UTC when DTSTART has a zone (RFC 5545, 3.3.10): the last occurrence's start.
            rule["until"] = datetime.combine(repeats.last, start_clock, tzinfo=zone).astimezone(UTC)
            if repeats.excluded:
                event.add("exdate", [datetime.combine(d, start_clock, tzinfo=zone) for d in repeats.excluded])
            if timing.end_note:
                event.add("x-timetable-note", timing.end_note)
        else:
            event.add("summary", titles[index])
            event.add("dtstart", repeats.first)
            event.add("dtend", repeats.first + timedelta(days=1))
            rule["until"] = repeats.last
            if repeats.excluded:
                event.add("exdate", repeats.excluded)
            event.add("x-timetable-untimed", f"no time printed; period {entry.period or '?'}")
        event.add("rrule", rule)
        if entry.room:
            event.add("location", entry.room)
        description = _calendar_description(entry, timing)
        if description:
            event.add("description", description)
        event.add("categories", [entry.kind])
        cal.add_component(event)
    if timezone_block is None:  # a rule with no yearly form: list the transitions over the term's years
        cal.add_missing_timezones(
            first_date=date(term.start.year - 1, 1, 1), last_date=date(term.end.year + 2, 1, 1)
        )
    return cal.to_ical()


def _order_key(timetable: Timetable, ranks: dict[str, int]) -> Callable[[int], tuple[Any, ...]]:
    def key(index: int) -> tuple[Any, ...]:
        e = timetable.entries[index]
        return (
            e.week or "",
            DAYS.index(e.day),
            _clean_time(e.start) or "99:99",
            ranks[_slot_label(e)],
            index,
        )

    return key


def to_fullcalendar(timetable: Timetable, term: Term) -> list[dict[str, Any]]:
    """FullCalendar 6 event objects repeating through the term.

    Plain weekly entries use the built-in recurrence (``daysOfWeek``/``startTime``/``endTime``/
    ``startRecur``/``endRecur``). Alternating weeks and holidays need an interval and exclusions,
    which only FullCalendar's rrule plugin expresses, so those carry ``rrule`` (+ ``exdate``) and
    ``duration``. Every entry has its own ``id`` and no ``groupId``: dragging one lesson moves
    that lesson's repeats, not the other lessons of its week.
    """
    original = timetable
    timetable = apply_bell_times(timetable, term.bell_times)
    labels = _week_labels(timetable)
    ranks = slot_ranks(timetable)
    uids = _entry_uids(original)
    timings = _timings(timetable, original)
    titles = _untimed_titles(timetable, timings, ranks)
    events: list[dict[str, Any]] = []
    for index in sorted(range(len(timetable.entries)), key=_order_key(timetable, ranks)):
        entry, uid, timing = timetable.entries[index], uids[index], timings[index]
        repeats = _occurrences(entry, term, labels)
        if repeats is None:
            continue
        rank = ranks[_slot_label(entry)]
        props = {
            k: v
            for k, v in entry.model_dump(mode="json").items()
            if k not in ("day", "start", "end", "subject") and v is not None
        }
        props["slotOrder"] = rank
        if timing.from_bells:
            props["timesFromBells"] = True
        if timing.end_note:
            props["endAssumed"] = timing.end_note
        timed = bool(timing.start and timing.end)
        event: dict[str, Any] = {
            "id": uid,
            "title": entry.subject if timed else titles[index],
            "extendedProps": props,
        }
        if repeats.step_weeks > 1 or repeats.excluded:
            clock = f"T{timing.start}:00" if timed else ""
            rrule: dict[str, Any] = {
                "freq": "weekly",
                "interval": repeats.step_weeks,
                "dtstart": f"{repeats.first.isoformat()}{clock}",
                "until": f"{repeats.last.isoformat()}{clock}",
            }
            event["rrule"] = rrule
            if repeats.excluded:
                event["exdate"] = [f"{d.isoformat()}{clock}" for d in repeats.excluded]
            if timed:
                assert timing.start and timing.end
                minutes = _minutes(timing.end) - _minutes(timing.start)
                event["duration"] = f"{minutes // 60:02d}:{minutes % 60:02d}"
            else:
                event["allDay"] = True
        else:
            event["daysOfWeek"] = [(DAYS.index(entry.day) + 1) % 7]  # FullCalendar counts from Sunday = 0
            event["startRecur"] = repeats.first.isoformat()
            event["endRecur"] = (repeats.last + timedelta(days=1)).isoformat()  # exclusive
            if timed:
                event["startTime"] = timing.start
                event["endTime"] = timing.end
            else:
                event["allDay"] = True
        events.append(event)
    return events


# ----------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ExportOptions:
    """What shapes an export besides the timetable: the term (calendars, bell times) and the DTSTAMP."""

    term: Term
    stamp: datetime | None = None


@dataclass(frozen=True)
class ExportFormat:
    """One output the API (``?format=NAME``) and the CLI (``--format NAME``) both offer."""

    name: str
    media_type: str
    extension: str
    summary: str
    render: Callable[[Timetable, ExportOptions], bytes]


def _render_json(timetable: Timetable, options: ExportOptions) -> bytes:
    return (json.dumps(timetable.to_json_dict(), indent=2, ensure_ascii=False) + "\n").encode()


def _with_bells(timetable: Timetable, options: ExportOptions) -> Timetable:
    return apply_bell_times(timetable, options.term.bell_times)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "json",
            "application/json",
            "json",
            "the timetable as extracted (timetable.schema.json)",
            _render_json,
        ),
        ExportFormat(
            "csv",
            "text/csv; charset=utf-8",
            "csv",
            "plain CSV for programs (UTF-8, no BOM; formula cells neutralised)",
            lambda t, o: to_csv(_with_bells(t, o)).encode(),
        ),
        ExportFormat(
            "csv-excel",
            "text/csv; charset=utf-8",
            "csv",
            "CSV for Excel/LibreOffice (UTF-8 with BOM; numbers, dates and times kept as text)",
            lambda t, o: to_csv_excel(_with_bells(t, o)).encode(),
        ),
        ExportFormat(
            "ics",
            "text/calendar; charset=utf-8",
            "ics",
            "iCalendar: weekly events through the term, holidays excluded",
            lambda t, o: to_ics(t, o.term, stamp=o.stamp),
        ),
        ExportFormat(
            "fullcalendar",
            "application/json",
            "json",
            "FullCalendar 6 event objects (alternating weeks and holidays need @fullcalendar/rrule)",
            lambda t, o: (json.dumps(to_fullcalendar(t, o.term), ensure_ascii=False) + "\n").encode(),
        ),
    )
}


def render(name: str, timetable: Timetable, options: ExportOptions) -> bytes:
    """The timetable in the registered format ``name`` (``KeyError`` for an unknown name)."""
    return EXPORT_FORMATS[name].render(timetable, options)


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
    ranks = slot_ranks(timetable)
    sections: list[str] = []
    by_week: dict[str | None, list[Entry]] = defaultdict(list)
    for entry in timetable.entries:
        by_week[entry.week].append(entry)
    if not by_week:
        by_week[None] = []
    for week in sorted(by_week, key=lambda w: w or ""):
        entries = by_week[week]
        rows: dict[str, dict[str, list[str]]] = {}
        order: dict[str, tuple[str, int, str]] = {}
        shown: dict[str, str] = {}
        for entry in entries:
            # Untimed entries share a row per slot ("P1", "Period 1" and "1." alike); one without a
            # period is its own slot (Registration, Break, Lunch), never a "?" row.
            row = _row_label(entry) if entry.start else f"slot {_slot_label(entry)}"
            shown.setdefault(row, _row_label(entry) if entry.start or entry.period else entry.subject)
            rows.setdefault(row, defaultdict(list))[entry.day].append(_cell_text(entry))
            key = (_clean_time(entry.start) or "99:99", ranks[_slot_label(entry)], entry.end or "")
            order[row] = min(order.get(row, key), key)
        lines = []
        if week:
            lines.append(f"**Week {_md_escape(week)}**\n")
        lines.append("| Time | " + " | ".join(DAY_NAMES[d][:3] for d in days) + " |")
        lines.append("|---" * (len(days) + 1) + "|")
        for row in sorted(rows, key=lambda k: order[k]):
            cells = [_md_escape(" / ".join(rows[row].get(d, []))) for d in days]
            lines.append(f"| {_md_escape(shown[row])} | " + " | ".join(cells) + " |")
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


def _html_entry(entry: Entry, low_confidence: float, box: str | None = None, entry_id: str | None = None) -> str:
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
    if entry_id is not None:  # edit mode: the block opens its form (review.js), by click or keyboard
        attributes += (
            f' data-entry-id="{html.escape(entry_id, quote=True)}" tabindex="0" role="button"'
            f' aria-label="{html.escape("Edit " + hover, quote=True)}"'
        )
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
    entries: list[Entry],
    days: list[str],
    low_confidence: float,
    *,
    caption: str,
    flagged: set[str],
    entry_ids: Mapping[int, str] | None = None,
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
                blocks.append(_html_entry(entry, low_confidence, style, _id_of(entry, entry_ids)))
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
                inner = "".join(
                    _html_entry(e, low_confidence, entry_id=_id_of(e, entry_ids)) for e in per_day.get(day, [])
                )
                cells.append(f"<td>{inner}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        parts.append(
            f'<table class="week untimed"><caption>{html.escape(caption)}: lessons without a full time</caption>\n'
            f"<thead>{head}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
        )
    return "\n".join(parts)


def _id_of(entry: Entry, entry_ids: Mapping[int, str] | None) -> str | None:
    return entry_ids.get(id(entry)) if entry_ids is not None else None


def to_html_week(
    timetable: Timetable,
    *,
    low_confidence: float = 0.6,
    links: dict[str, str] | None = None,
    entry_ids: Mapping[int, str] | None = None,
    head_extra: str = "",
    body_top: str = "",
    body_end: str = "",
) -> str:
    """A self-contained HTML page (inline CSS, no script) showing each week on a time axis.

    Blocks are as tall as they last and overlapping ones stand side by side; on a phone the days
    stack. Entries whose confidence is under ``low_confidence`` are outlined; a day between days
    with lessons that has none is flagged; what to check is listed in a teacher's words
    (``review.notices``). ``links`` maps a label to an export URL.

    Edit mode (``domain.review_page``): ``entry_ids`` maps ``id(entry)`` of the timetable's entries to
    their ids, making each block a focusable control; ``head_extra``/``body_top``/``body_end`` are
    trusted markup put in the head, after the heading, and before ``</body>``.
    """
    from timetable_platform.domain import review

    heading = review.heading_or_none(timetable.title)
    days = _days_shown(timetable)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(heading or 'Timetable')}</title><style>{_HTML_STYLE}</style>{head_extra}</head><body>",
    ]
    if heading:
        parts.append(f"<h1>{html.escape(heading)}</h1>")
    if body_top:
        parts.append(body_top)
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
                by_week[week], days, low_confidence, caption=caption, flagged=flagged - on_every_week,
                entry_ids=entry_ids,
            )
        )
    if body_end:
        parts.append(body_end)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
