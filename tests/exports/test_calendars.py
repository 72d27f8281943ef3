"""iCalendar and FullCalendar exports as three iCalendar parsers and FullCalendar 6 read them (issue 16, items 1-5, 7)."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.exports import cases
from tests.exports.cases import CASES, SINCE, TERM, UNTIL, school_days, utc
from tests.exports.consumers import (
    Occurrence,
    dateutil_expand,
    fullcalendar,
    fullcalendar_occurrences,
    ical_js,
    recurring_ical_events_expand,
)
from timetable_platform.domain.exports import ExportOptions, render, to_fullcalendar, to_ics
from timetable_platform.domain.term import BellTime, TermSettings, resolve
from timetable_platform.domain.vtimezone import vtimezone

OPTIONS = ExportOptions(term=TERM, stamp=datetime(2025, 8, 30, tzinfo=UTC))


def _by_summary(found: list[Occurrence]) -> dict[str, list[Occurrence]]:
    grouped: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in found:
        grouped[occurrence.summary.split(". ", 1)[-1]].append(occurrence)
    return grouped


def _expected(case: str) -> dict[str, list[tuple[str, str]]]:
    """(start, end) per subject, worked out from the school calendar (not from the exporter)."""
    if case == "week_ab":
        return {
            "French": [(utc(d, "08:30"), utc(d, "09:30")) for d in school_days(0, "A")],
            "Spanish": [(utc(d, "08:30"), utc(d, "09:30")) for d in school_days(0, "B")],
            "Maths": [(utc(d, "09:00"), utc(d, "10:00")) for d in school_days(1)],
            "Große Pause": [(utc(d, "10:00"), utc(d, "10:20")) for d in school_days(1)],
        }
    if case == "saturday":
        return {
            "Chess club": [(utc(d, "15:00"), utc(d, "16:00")) for d in school_days(4)],
            "Saturday school": [(utc(d, "09:00"), utc(d, "12:00")) for d in school_days(5)],
        }
    if case == "start_only":
        wednesdays = school_days(2)
        return {
            # until the next entry of the day; the last one lasts the usual 60 minutes
            "Registration": [(utc(d, "08:40"), utc(d, "09:00")) for d in wednesdays],
            "History": [(utc(d, "09:00"), utc(d, "10:00")) for d in wednesdays],
            "Geography": [(utc(d, "10:00"), utc(d, "11:00")) for d in wednesdays],
            "Clubs": [(utc(d, "15:10"), utc(d, "16:10")) for d in wednesdays],
        }
    assert case == "period_only"
    monday, tuesday = school_days(0), school_days(1)
    all_day = {
        subject: sorted(
            (d.isoformat(), (d + timedelta(days=1)).isoformat())
            for d in (monday + tuesday if subject != "English" else monday)
        )
        for subject in ("Registration", "Maths", "English", "Break", "Science", "Lunch", "Art")
    }
    return all_day


@pytest.mark.parametrize("case", sorted(CASES))
def test_three_icalendar_parsers_agree_with_the_school_calendar(case: str, tmp_path: Path) -> None:
    """Items 1-4: every occurrence, in ical.js, dateutil (over the file's VTIMEZONE) and
    recurring-ical-events: term start to term end, holidays skipped, summer and winter at the printed time."""
    payload = render("ics", CASES[case](), OPTIONS)
    by_ical_js = ical_js(payload, SINCE, UNTIL, tmp_path)
    by_dateutil = dateutil_expand(payload, SINCE, UNTIL)
    by_rie = recurring_ical_events_expand(payload, SINCE, UNTIL)
    assert by_ical_js == by_dateutil == by_rie
    found = {s: sorted((o.start, o.end) for o in occ) for s, occ in _by_summary(by_ical_js).items()}
    assert found == _expected(case)


def test_lessons_keep_their_wall_time_on_both_sides_of_each_clock_change(tmp_path: Path) -> None:
    """Item 2: Tuesday 09:00 London is 08:00 UTC in summer time and 09:00 UTC in winter, in the parsers
    that read the VTIMEZONE block, also years after the export was made."""
    for term_start, term_end, checks in (
        (date(2025, 9, 3), date(2026, 7, 22), {"2025-10-21": "08:00", "2025-11-04": "09:00",
                                               "2026-03-24": "09:00", "2026-03-31": "08:00"}),
        (date(2031, 9, 3), date(2032, 7, 21), {"2032-03-23": "09:00", "2032-06-08": "08:00"}),
    ):  # fmt: skip
        term = resolve(TermSettings(term_start=term_start, term_end=term_end), term_start)
        payload = to_ics(cases.week_ab(), term)
        since, until = term_start, term_end + timedelta(days=1)
        for found in (ical_js(payload, since, until, tmp_path), dateutil_expand(payload, since, until)):
            maths = {o.start[:10]: o.start[11:] for o in found if o.summary == "Maths"}
            assert {day: maths[day] for day in checks} == checks


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/London",
        "Europe/Dublin",
        "America/New_York",
        "Australia/Sydney",
        "Pacific/Auckland",
        "Asia/Tokyo",
    ],
)
def test_vtimezone_yearly_rules_match_the_tz_database_for_twenty_years(zone: str) -> None:
    from dateutil import tz

    text = vtimezone(zone).to_ical().decode()
    assert "RDATE" not in text
    read = tz.tzical(io.StringIO("BEGIN:VCALENDAR\r\n" + text + "END:VCALENDAR\r\n")).get(zone)
    truth = ZoneInfo(zone)
    # every hour of the days around each transition, and noon of every week in between
    checked = 0
    day = datetime(2025, 1, 1, tzinfo=UTC)
    while day.year < 2045:
        later = day + timedelta(days=1)
        changes = day.astimezone(truth).utcoffset() != later.astimezone(truth).utcoffset()
        hours = range(-24, 48) if changes else ([12] if day.weekday() == 0 else [])
        for hour in hours:
            moment = day + timedelta(hours=hour)
            assert moment.astimezone(read).utcoffset() == moment.astimezone(truth).utcoffset(), (zone, moment)
            checked += 1
        day = later
    assert checked > 1000


def test_a_subscribed_feed_is_identical_whenever_it_is_fetched(tmp_path: Path) -> None:
    """Item 1: without any term settings, a feed fetched in the week of 1 Sep and a week later gives the
    same events on the same dates (Week A no longer follows the download date)."""
    import time_machine

    fetched = []
    for today in (datetime(2025, 9, 2, 12, tzinfo=UTC), datetime(2025, 9, 9, 12, tzinfo=UTC)):
        with time_machine.travel(today, tick=False):
            term = resolve(None, date(2025, 9, 1))  # the upload's submission date, as the API passes it
            fetched.append(to_ics(cases.week_ab(), term, stamp=datetime(2025, 9, 1, 10, tzinfo=UTC)))
    assert fetched[0] == fetched[1]
    monday = {o.start[:10]: o.summary for o in ical_js(fetched[0], date(2025, 9, 1), date(2025, 9, 30), tmp_path)
              if o.summary in ("French", "Spanish")}  # fmt: skip
    assert monday == {"2025-09-01": "French", "2025-09-08": "Spanish", "2025-09-15": "French",
                      "2025-09-22": "Spanish", "2025-09-29": "French"}  # fmt: skip


def test_the_school_says_which_week_the_term_starts_in(tmp_path: Path) -> None:
    term = resolve(
        TermSettings(term_start=date(2025, 9, 3), term_end=date(2025, 12, 19), first_week="B"), date.today()
    )
    found = ical_js(to_ics(cases.week_ab(), term), date(2025, 9, 1), date(2025, 9, 23), tmp_path)
    monday = {o.start[:10]: o.summary for o in found if o.summary in ("French", "Spanish")}
    assert monday == {"2025-09-08": "French", "2025-09-15": "Spanish", "2025-09-22": "French"}


def test_start_only_entries_say_their_end_is_assumed(tmp_path: Path) -> None:
    """Item 4: the length is explained in the description and marked in FullCalendar's extendedProps."""
    import icalendar

    calendar = icalendar.Calendar.from_ical(to_ics(cases.start_only(), TERM))
    notes = {str(e["SUMMARY"]): str(e.get("DESCRIPTION", "")) for e in calendar.walk("VEVENT")}
    assert "until the next entry at 09:00" in notes["Registration"]
    assert "assumed to last 60 minutes" in notes["Clubs"]
    assert "assumed" not in notes["History"]
    events = {e["title"]: e for e in to_fullcalendar(cases.start_only(), TERM)}
    assert "allDay" not in events["Registration"] and events["Registration"]["extendedProps"]["endAssumed"]


def test_period_only_all_day_events_sort_in_period_order(tmp_path: Path) -> None:
    """Item 5: calendar apps sort a day's all-day events by title; the titles keep period order."""
    found = ical_js(to_ics(cases.period_only(), TERM), date(2025, 9, 8), date(2025, 9, 10), tmp_path)
    days: dict[str, list[str]] = defaultdict(list)
    for occurrence in found:
        days[occurrence.start].append(occurrence.summary)
    monday, tuesday = sorted(days["2025-09-08"]), sorted(days["2025-09-09"])
    assert [t.split(". ", 1)[1] for t in monday] == [
        "Registration",
        "Maths",
        "English",
        "Break",
        "Science",
        "Lunch",
        "Art",
    ]
    assert [t.split(". ", 1)[1] for t in tuesday] == [
        "Registration",
        "Maths",
        "Break",
        "Science",
        "Lunch",
        "Art",
    ]


def test_bell_times_give_period_only_timetables_real_times(tmp_path: Path) -> None:
    """Item 5: a school's bell times (per period, or per named slot) turn all-day piles into timed lessons."""
    bells = {
        "Registration": BellTime(start="08:40", end="08:50"), "1": BellTime(start="08:50", end="09:40"),
        "2": BellTime(start="09:40", end="10:30"), "Break": BellTime(start="10:30", end="10:50"),
        "P3": BellTime(start="10:50", end="11:40"), "Lunch": BellTime(start="11:40", end="12:30"),
        "Period 4": BellTime(start="12:30", end="13:20"),
    }  # fmt: skip
    term = resolve(SETTINGS_WITH(bells), date.today())
    found = ical_js(to_ics(cases.period_only(), term), date(2025, 9, 8), date(2025, 9, 9), tmp_path)
    assert [(o.summary, o.start[11:], o.all_day) for o in sorted(found, key=lambda o: o.start)] == [
        ("Registration", "07:40", False),
        ("Maths", "07:50", False),
        ("English", "08:40", False),
        ("Break", "09:30", False),
        ("Science", "09:50", False),
        ("Lunch", "10:40", False),
        ("Art", "11:30", False),
    ]  # fmt: skip (08:40 BST is 07:40 UTC)
    csv_text = render("csv", cases.period_only(), ExportOptions(term=term)).decode()
    assert "MON,08:50,09:40,1,lesson,Maths" in csv_text


def SETTINGS_WITH(bells: dict[str, BellTime]) -> TermSettings:
    return cases.SETTINGS.model_copy(update={"bell_times": bells})


# ----------------------------------------------------------------------------------------- FullCalendar


def _wall(found: list[Occurrence]) -> list[Occurrence]:
    """ICS occurrences with London wall times, as FullCalendar (timeZone UTC) shows the export's times."""
    london = ZoneInfo("Europe/London")

    def wall(text: str) -> str:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(london)
        return moment.strftime("%Y-%m-%dT%H:%M")

    return sorted(
        o if o.all_day else Occurrence(o.uid, wall(o.start), wall(o.end), o.summary, o.all_day) for o in found
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_fullcalendar_shows_the_same_occurrences_as_the_ics_feed(case: str, tmp_path: Path) -> None:
    timetable = CASES[case]()
    events = to_fullcalendar(timetable, TERM)
    days = (UNTIL - SINCE).days
    shown = fullcalendar(events, SINCE, days, tmp_path)
    by_fullcalendar = fullcalendar_occurrences(shown["before"], {})
    by_ics = _wall(ical_js(to_ics(timetable, TERM), SINCE, UNTIL, tmp_path))
    assert len(by_fullcalendar) == len(by_ics) > 0
    assert by_fullcalendar == by_ics


def test_dragging_one_lesson_in_fullcalendar_moves_only_that_lesson(tmp_path: Path) -> None:
    """Item 7: every entry has its own id; nothing else shares a groupId with it."""
    events = to_fullcalendar(cases.week_ab(), TERM)
    assert len({e["id"] for e in events}) == len(events) and not any("groupId" in e for e in events)
    shown = fullcalendar(events, date(2025, 9, 1), 28, tmp_path, drag="Maths")
    before = {(e["id"], e["start"]) for e in shown["before"]}
    moved = [e for e in shown["after"] if (e["id"], e["start"]) not in before]
    assert moved and {e["title"] for e in moved} == {"Maths"}


def test_a_week_a_entry_without_an_end_is_not_ended_by_a_week_b_lesson() -> None:
    from timetable_platform.domain.model import Entry, Timetable

    timetable = Timetable(
        entries=[
            Entry(day="MON", start="09:00", subject="Assembly", week="A"),
            Entry(day="MON", start="09:20", end="10:00", subject="Choir", week="B"),
            Entry(day="MON", start="09:40", end="10:40", subject="Maths"),
        ]
    )
    events = {e["title"]: e for e in to_fullcalendar(timetable, TERM)}
    assert events["Assembly"]["duration"] == "00:40"  # until Maths (every week), not Choir (week B)
