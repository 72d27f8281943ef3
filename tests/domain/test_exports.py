from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from html.parser import HTMLParser

import icalendar
import pytest

from timetable_platform.domain.exports import (
    CSV_FIELDS,
    PX_PER_MINUTE,
    to_csv,
    to_fullcalendar,
    to_html_week,
    to_ics,
    to_markdown_week,
)
from timetable_platform.domain.model import Entry, Owner, Timetable
from timetable_platform.domain.term import Term

MONDAY = date(2025, 9, 1)
TERM = Term(start=MONDAY, end=date(2026, 7, 22))


def _week() -> Timetable:
    return Timetable(
        title="Class 7B Timetable",
        owner=Owner(kind="class", name="7B"),
        entries=[
            Entry(
                day="MON",
                start="08:50",
                end="10:30",
                period="1",
                subject="Maths",
                teacher="Mr Okafor",
                room="R101",
            ),
            Entry(day="MON", start="10:30", end="10:50", kind="break", subject="Break"),
            Entry(
                day="TUE", start="08:50", end="09:40", period="1", subject="Art", room="Art 1", confidence=0.4
            ),
            Entry(
                day="TUE",
                start="09:40",
                end="10:30",
                period="2",
                subject='Science, "lab"',
                notes="bring goggles",
            ),
            Entry(day="TUE", start="10:30", end="10:50", kind="break", subject="Break"),
        ],
    )


def _ab_weeks() -> Timetable:
    return Timetable(
        entries=[
            Entry(day="WED", start="09:00", end="10:00", subject="French", week="A"),
            Entry(day="WED", start="09:00", end="10:00", subject="Spanish", week="B"),
            Entry(day="THU", period="3", subject="Drama"),
        ]
    )


# ----------------------------------------------------------------------------------------- CSV


def test_csv_has_a_header_and_one_row_per_entry_with_every_field() -> None:
    timetable = _week()
    rows = list(csv.DictReader(io.StringIO(to_csv(timetable))))
    assert tuple(rows[0].keys()) == CSV_FIELDS
    assert len(rows) == len(timetable.entries)
    maths = next(r for r in rows if r["subject"] == "Maths")
    assert (maths["day"], maths["start"], maths["end"], maths["teacher"], maths["room"]) == (
        "MON", "08:50", "10:30", "Mr Okafor", "R101",
    )  # fmt: skip
    assert maths["group"] == "" and maths["confidence"] == ""
    quoted = next(r for r in rows if r["subject"].startswith("Science"))
    assert quoted["subject"] == 'Science, "lab"'  # commas and quotes survive the round trip
    assert next(r for r in rows if r["subject"] == "Art")["confidence"] == "0.4"


# ----------------------------------------------------------------------------------------- iCalendar


def _events(payload: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(payload)
    return [c for c in cal.walk("VEVENT")]


def test_ics_weekly_events_with_times_in_the_zone_and_fields_mapped() -> None:
    events = _events(to_ics(_week(), TERM))
    assert len(events) == 5
    maths = next(e for e in events if str(e["SUMMARY"]) == "Maths")
    start = maths.decoded("DTSTART")
    assert isinstance(start, datetime)
    assert start.date() == MONDAY and (start.hour, start.minute) == (8, 50)
    assert str(start.tzinfo) == "Europe/London"
    assert maths.decoded("DTEND").time().isoformat() == "10:30:00"
    assert maths["RRULE"]["FREQ"] == ["WEEKLY"] and "INTERVAL" not in maths["RRULE"]
    assert str(maths["LOCATION"]) == "R101"
    assert "Teacher: Mr Okafor" in str(maths["DESCRIPTION"])
    art = next(e for e in events if str(e["SUMMARY"]) == "Art")
    assert art.decoded("DTSTART").date() == date(2025, 9, 2)
    assert "VTIMEZONE" in to_ics(_week(), TERM).decode()


def test_ics_uids_are_stable_and_distinct() -> None:
    first = [str(e["UID"]) for e in _events(to_ics(_week(), TERM))]
    again = [
        str(e["UID"]) for e in _events(to_ics(_week(), Term(start=date(2026, 1, 5), end=date(2026, 7, 22))))
    ]
    assert first == again
    assert len(set(first)) == len(first)
    twins = Timetable(
        entries=[Entry(day="MON", start="09:00", end="10:00", subject="Maths")] * 2  # split groups, same text
    )
    assert len({str(e["UID"]) for e in _events(to_ics(twins, TERM))}) == 2


def test_ics_alternating_weeks_recur_fortnightly_offset_by_a_week_and_untimed_are_all_day() -> None:
    events = {str(e["SUMMARY"]): e for e in _events(to_ics(_ab_weeks(), TERM))}
    french, spanish, drama = events["French"], events["Spanish"], events["Drama"]
    assert french["RRULE"]["INTERVAL"] == [2] and spanish["RRULE"]["INTERVAL"] == [2]
    assert french.decoded("DTSTART").date() == date(2025, 9, 3)
    assert spanish.decoded("DTSTART").date() == date(2025, 9, 10)
    assert drama.decoded("DTSTART") == date(2025, 9, 4)  # a date, not a datetime: all day
    assert "INTERVAL" not in drama["RRULE"]
    assert "no time printed" in str(drama["X-TIMETABLE-UNTIMED"])


# ----------------------------------------------------------------------------------------- FullCalendar


def test_fullcalendar_simple_recurrence_and_rrule_for_alternating_weeks() -> None:
    events = {e["title"]: e for e in to_fullcalendar(_week(), TERM)}
    maths = events["Maths"]
    assert maths["daysOfWeek"] == [1]  # FullCalendar: Sunday is 0
    assert (maths["startTime"], maths["endTime"], maths["startRecur"]) == ("08:50", "10:30", "2025-09-01")
    assert maths["endRecur"] == "2026-07-21"  # exclusive: the last Monday of term is 20 July
    assert maths["extendedProps"]["teacher"] == "Mr Okafor" and maths["extendedProps"]["room"] == "R101"
    assert events["Art"]["extendedProps"]["confidence"] == 0.4

    ab = {e["title"]: e for e in to_fullcalendar(_ab_weeks(), TERM)}
    assert ab["Spanish"]["rrule"] == {
        "freq": "weekly", "interval": 2, "dtstart": "2025-09-10T09:00:00", "until": "2026-07-15T09:00:00",
    }  # fmt: skip
    assert ab["Spanish"]["duration"] == "01:00"
    assert ab["Drama"]["allDay"] is True and ab["Drama"]["daysOfWeek"] == [4]


# ----------------------------------------------------------------------------------------- Markdown


def test_markdown_week_is_a_table_with_a_row_per_slot_and_a_column_per_day() -> None:
    text = to_markdown_week(_week())
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines[0] == "| Time | Mon | Tue | Wed | Thu | Fri |"
    assert all(line.count("|") == 7 for line in lines if not line.startswith("|---"))
    maths_row = next(line for line in lines if "Maths" in line)
    assert maths_row.startswith("| 08:50-10:30 | Maths (Mr Okafor, R101) |")
    assert any(line.startswith("| 10:30-10:50 | Break | Break |") for line in lines)
    ab = to_markdown_week(_ab_weeks())
    assert "**Week A**" in ab and "**Week B**" in ab and "| P3 |" in ab


def test_markdown_escapes_pipes() -> None:
    text = to_markdown_week(Timetable(entries=[Entry(day="MON", start="09:00", end="10:00", subject="A|B")]))
    assert "A\\|B" in text


# ----------------------------------------------------------------------------------------- HTML


class _Cells(HTMLParser):
    """Collects each table row's cells (tag, attributes, text) and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, dict[str, str | None], str]]] = []
        self.tags: list[str] = []
        self._cell: list[object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, dict(attrs), ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((str(self._cell[0]), self._cell[1], str(self._cell[2]).strip()))  # type: ignore[arg-type]
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[2] = str(self._cell[2]) + data


def test_html_week_places_blocks_on_a_time_axis_and_highlights_low_confidence() -> None:
    page = to_html_week(_week(), low_confidence=0.6, links={"iCalendar": "/t.ics?a=1&b=2"})
    parser = _Cells()
    parser.feed(page)
    header = [text for _, _, text in parser.rows[0]]
    assert header == ["Time", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    # The double period is one block as tall as its 100 minutes, from 08:50 on an axis from 08:00.
    maths = re.search(r'<div class="entry lesson"[^>]*data-start="08:50" data-end="10:30" style="([^"]*)"', page)
    assert maths is not None
    scale = PX_PER_MINUTE
    assert f"top:{round(50 * scale, 1)}px;height:{round(100 * scale, 1)}px" in maths.group(1)
    assert "script" not in parser.tags
    assert 'class="entry lesson low" title="08:50\u201309:40 · Art · Art 1 (low confidence: 0.40)"' in page
    assert page.count(" low\"") == 1
    assert '<a href="/t.ics?a=1&amp;b=2">iCalendar</a>' in page


def test_html_week_table_has_a_caption_and_scoped_headers() -> None:
    """Screen readers name the table and read each header as a column header (issue 16, item 8)."""
    page = to_html_week(_week())
    assert re.search(r'<table class="week"><caption>[^<]+</caption>', page)
    assert '<th scope="col" class="time">Time</th>' in page
    assert '<th scope="col">Monday</th>' in page


@pytest.mark.parametrize(
    ("title", "heading"),
    [
        ("If edult working on task work - once finished, move to intervention folders", None),
        ("Daily Schedule\u2013 Daily Schedule\u2013", "Daily Schedule"),
        ("Reception timetable January 2025", "Reception timetable January 2025"),
        ("4M", "4M"),
        (None, None),
    ],
)
def test_the_page_heading_is_the_timetables_heading_or_none(title: str | None, heading: str | None) -> None:
    page = to_html_week(Timetable(title=title, entries=[Entry(day="MON", start="09:00", end="10:00", subject="Art")]))
    if heading is None:
        assert "<h1>" not in page and "<title>Timetable</title>" in page
    else:
        assert f"<h1>{heading}</h1>" in page


def test_html_week_flags_an_empty_day_between_days_with_lessons() -> None:
    week = Timetable(
        entries=[
            Entry(day=day, start="09:00", end="10:00", subject="Art")  # type: ignore[arg-type]
            for day in ("MON", "TUE", "THU", "FRI")
        ]
    )
    page = to_html_week(week)
    assert '<td class="day flagged" data-day="WED">' in page
    assert page.count('class="day flagged"') == 1
    assert "No lessons were read for Wednesday" in page


def test_html_escapes_document_text() -> None:
    hostile = Timetable(
        title="<script>alert(1)</script>",
        entries=[
            Entry(day="MON", start="09:00", end="10:00", subject="<img src=x onerror=alert(1)>", room='"R1"')
        ],
        warnings=["<b>careful</b>"],
    )
    page = to_html_week(hostile, links={'x" onclick="evil': "javascript:alert(1)"})
    assert "<script>" not in page and "<img" not in page and "<b>careful" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'onclick="evil' not in page


@pytest.mark.parametrize("weeks", [("A", "B"), ()])
def test_html_overlapping_entries_stand_side_by_side(weeks: tuple[str, ...]) -> None:
    week = weeks[0] if weeks else None
    timetable = Timetable(
        entries=[
            Entry(day="MON", start="09:00", end="10:00", subject="One", week=week),
            Entry(day="MON", start="09:30", end="10:30", subject="Two", week=week),
            Entry(day="MON", start="10:00", end="10:30", subject="Three", week=week),
            Entry(day="MON", start="11:00", end="12:00", subject="Alone", week=week),
        ]
    )
    page = to_html_week(timetable)
    pattern = r'style="[^"]*(left:[^"]*)"><span class="when">[^<]*</span><span class="subject">(\w+)'
    lanes = {m.group(2): m.group(1) for m in re.finditer(pattern, page)}
    # One and Two overlap: two lanes; Three starts when One ends and takes its lane; Alone is full width.
    assert lanes["One"] == "left:0.000%;width:50.000%"
    assert lanes["Two"] == "left:50.000%;width:50.000%"
    assert lanes["Three"] == "left:0.000%;width:50.000%"
    assert lanes["Alone"] == "left:0.000%;width:100.000%"
    if weeks:
        assert "<caption>Week A</caption>" in page


def test_malformed_times_degrade_to_untimed_instead_of_failing() -> None:
    odd = Timetable(
        entries=[
            Entry(day="MON", start="9.30", end="10:00", subject="Odd"),
            Entry(day="MON", start="10:00", end="11:00", subject="Fine"),
        ]
    )
    events = {str(e["SUMMARY"]): e for e in _events(to_ics(odd, TERM))}
    assert events["Odd"].decoded("DTSTART") == MONDAY
    assert isinstance(events["Fine"].decoded("DTSTART"), datetime)
    calendar = {e["title"]: e for e in to_fullcalendar(odd, TERM)}
    assert calendar["Odd"]["allDay"] is True and "startTime" not in calendar["Odd"]
    assert "Odd" in to_html_week(odd) and "Odd" in to_markdown_week(odd)


def test_slot_order_follows_the_days_and_the_period_numbers() -> None:
    from timetable_platform.domain.exports import ordered_entries, slot_ranks

    timetable = Timetable(
        entries=[
            Entry(day="MON", period="2", subject="English"),
            Entry(day="MON", subject="Break", kind="break"),
            Entry(day="MON", period="P3", subject="Science"),
            Entry(day="TUE", period="Period 1", subject="Maths"),
            Entry(day="TUE", period="2.", subject="Art"),
        ]
    )
    ranks = slot_ranks(timetable)
    assert sorted(ranks, key=ranks.__getitem__) == ["1", "2", "break", "3"]
    assert [e.subject for e in ordered_entries(timetable)] == ["English", "Break", "Science", "Maths", "Art"]
    rows = [line.split("|")[1:3] for line in to_markdown_week(timetable).splitlines()[2:]]
    # one row per slot, labelled as first printed, in period order; no "?" row
    assert [(label.strip(), monday.strip()) for label, monday in rows] == [
        ("Period 1", ""), ("P2", "English"), ("Break", "Break"), ("P3", "Science"),
    ]  # fmt: skip


def test_a_document_that_contradicts_itself_keeps_its_order() -> None:
    from timetable_platform.domain.exports import slot_ranks

    timetable = Timetable(
        entries=[
            Entry(day="MON", subject="Registration"),
            Entry(day="MON", subject="Assembly"),
            Entry(day="TUE", subject="Assembly"),
            Entry(day="TUE", subject="Registration"),
        ]
    )
    assert slot_ranks(timetable) == {"registration": 0, "assembly": 1}
