"""The timetables the export tests feed to consumers, and their occurrences worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.term import Term, TermSettings, resolve

LONDON = ZoneInfo("Europe/London")
# Autumn to summer: the clocks go back on 26 Oct 2025 and forward on 29 Mar 2026.
HOLIDAYS = [
    "2025-10-27/2025-10-31",
    "2025-12-22/2026-01-02",
    "2026-02-16/2026-02-20",
    "2026-04-06/2026-04-17",
]
SETTINGS = TermSettings(term_start=date(2025, 9, 3), term_end=date(2026, 7, 22), holidays=HOLIDAYS)
TERM: Term = resolve(SETTINGS, date(2025, 9, 1))
SINCE, UNTIL = date(2025, 8, 25), date(2026, 8, 3)


def week_ab() -> Timetable:
    return Timetable(
        title="7A",
        entries=[
            Entry(day="MON", start="08:30", end="09:30", period="1", subject="French", week="A"),
            Entry(day="MON", start="08:30", end="09:30", period="1", subject="Spanish", week="B"),
            Entry(
                day="TUE",
                start="09:00",
                end="10:00",
                period="1.",
                subject="Maths",
                room="274",
                teacher="Frau Groß",
            ),
            Entry(day="TUE", start="10:00", end="10:20", kind="break", subject="Große Pause"),
        ],
    )


def saturday() -> Timetable:
    return Timetable(
        entries=[
            Entry(day="FRI", start="15:00", end="16:00", subject="Chess club"),
            Entry(day="SAT", start="09:00", end="12:00", subject="Saturday school"),
        ]
    )


def period_only() -> Timetable:
    """Document order: Monday down the column, then Tuesday (no period 2 on Tuesday)."""
    monday = ["Registration", "1", "2", "Break", "3", "Lunch", "4"]
    subjects = {"1": "Maths", "2": "English", "3": "Science", "4": "Art"}
    entries = []
    for day, slots in (("MON", monday), ("TUE", [s for s in monday if s != "2"])):
        for slot in slots:
            if slot.isdigit():
                entries.append(Entry(day=day, period=slot, subject=subjects[slot]))
            else:
                kind = "other" if slot == "Registration" else "break"
                entries.append(Entry(day=day, subject=slot, kind=kind))  # type: ignore[arg-type]
    return Timetable(entries=entries)


def start_only() -> Timetable:
    return Timetable(
        entries=[
            Entry(day="WED", start="08:40", subject="Registration", kind="other"),
            Entry(day="WED", start="09:00", end="10:00", subject="History"),
            Entry(day="WED", start="10:00", end="11:00", subject="Geography"),
            Entry(day="WED", start="15:10", subject="Clubs", kind="other"),
        ]
    )


CASES = {"week_ab": week_ab, "saturday": saturday, "period_only": period_only, "start_only": start_only}


def holiday_dates() -> set[date]:
    days: set[date] = set()
    for item in HOLIDAYS:
        first, last = (date.fromisoformat(p) for p in item.split("/"))
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return days


def school_days(weekday: int, week: str | None = None) -> list[date]:
    """Every date in term on ``weekday`` (Monday 0) outside the holidays; with ``week``, only the weeks
    with that label, counting the week of 3 Sep 2025 (term start) as Week A."""
    term_monday = date(2025, 9, 1)
    out = []
    day = date(2025, 9, 3)
    while day <= date(2026, 7, 22):
        weeks_in = (day - term_monday).days // 7
        label = "AB"[weeks_in % 2]
        if day.weekday() == weekday and day not in holiday_dates() and (week is None or label == week):
            out.append(day)
        day += timedelta(days=1)
    return out


def utc(day: date, clock: str) -> str:
    hours, minutes = (int(p) for p in clock.split(":"))
    local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=LONDON)
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M")
