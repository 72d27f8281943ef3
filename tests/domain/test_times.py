from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timetable_platform.domain.times import (
    Clock,
    find_times,
    parse_time,
    parse_time_range,
    school_day,
    school_day_range,
    strip_times,
)


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:30", "08:30"),
        ("08.30", "08:30"),
        ("8h30", "08:30"),
        ("8:30am", "08:30"),
        ("8.30 a.m.", "08:30"),
        ("3PM", "15:00"),
        ("12pm", "12:00"),
        ("12am", "00:00"),
        ("1.15", "01:15"),
        ("13:15", "13:15"),
        ("9", "09:00"),
        ("9 am", "09:00"),
        (" 7.45 ", "07:45"),
    ],
)
def test_parse_time_reads_printed_styles(text: str, expected: str) -> None:
    clock = parse_time(text)
    assert clock is not None
    assert clock.hhmm() == expected


@pytest.mark.parametrize("text", ["2024", "1.", "25:00", "8:75", "13pm", "R101", "7B", "", "Maths", "12.11.2024"])
def test_parse_time_rejects_non_times(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("8.35 - 8.50 am", "08:35", "08:50"),
        ("1.15-3PM", "13:15", "15:00"),
        ("9 – 9.30", "09:00", "09:30"),
        ("10:35 – 11:35", "10:35", "11:35"),
        ("08:00-08:45", "08:00", "08:45"),
        ("from 8.30 to 9.15", "08:30", "09:15"),
        ("8h30 - 9h15", "08:30", "09:15"),
        ("11.30-12.15", "11:30", "12:15"),
        ("12-1", "12:00", "13:00"),
        ("11-1pm", "11:00", "13:00"),
        ("10 – 10:15am", "10:00", "10:15"),
        ("2-3pm", "14:00", "15:00"),
        ("9:00 bis 9:45", "09:00", "09:45"),
        ("8:00 til 8:45", "08:00", "08:45"),  # Danish, Norwegian
        ("8h00 à 9h00", "08:00", "09:00"),
        ("8.45 –\n8.55", "08:45", "08:55"),
        ("7.45—8.30", "07:45", "08:30"),
        ("7.45 ‑ 8.30", "07:45", "08:30"),
        ("7.45 − 8.30", "07:45", "08:30"),
    ],
)
def test_parse_time_range(text: str, start: str, end: str) -> None:
    match = parse_time_range(text)
    assert match is not None
    assert match.start.hhmm() == start
    assert match.end is not None and match.end.hhmm() == end


def test_parse_time_range_single_time_has_no_end() -> None:
    match = parse_time_range("3.20")
    assert match is not None and match.end is None and match.start.hhmm() == "03:20"


@pytest.mark.parametrize("text", ["Maths 9-10", "Week 2", "10.30-11.15 Music", "9:00 - Maths"])
def test_parse_time_range_needs_the_whole_string(text: str) -> None:
    assert parse_time_range(text) is None


def test_find_times_in_free_text() -> None:
    [music] = find_times("10.30-11.15 Music: Brass")
    assert (music.start.hhmm(), music.end and music.end.hhmm(), music.span) == ("10:30", "11:15", (0, 11))
    [assembly] = find_times("2.50 KS2 Assembly")
    assert assembly.start.hhmm() == "02:50" and assembly.end is None
    both = find_times("Maths 9:00-9:45, then PE at 10.15")
    assert [(m.start.hhmm(), m.end.hhmm() if m.end else None) for m in both] == [
        ("09:00", "09:45"),
        ("10:15", None),
    ]


@pytest.mark.parametrize(
    "text",
    ["12.11.2024", "Montag 12.11.", "R101", "7B", "Week 2", "Year 10", "1.", "Room 5", "Year 10-11 Maths",
     "Lab 2", "A-12", "12/11", "Daily 5: Station 5", "Station 2.5"],
)
def test_find_times_no_false_hits(text: str) -> None:
    assert find_times(text) == []


def test_bare_hour_range_counts_only_on_its_own_line() -> None:
    assert [m.start.hhmm() for m in find_times("9-10\nMaths")] == ["09:00"]
    assert find_times("Maths 9-10 group") == []


def test_strip_times() -> None:
    assert strip_times("10.30-11.15 Music: Brass") == "Music: Brass"
    assert strip_times("Maths (9:00-10:00)") == "Maths"
    assert strip_times("Period 1\n08:55-09:50") == "Period 1"
    # Lines without a time keep their separators as printed.
    assert strip_times("Swimming\n/ Bedrock\n1.15-3PM") == "Swimming\n/ Bedrock"
    assert strip_times("Maths  R101") == "Maths R101"


def test_school_day() -> None:
    assert school_day(Clock.of(1, 15)).hhmm() == "13:15"
    assert school_day(Clock.of(6, 0)).hhmm() == "18:00"
    assert school_day(Clock.of(7, 45)).hhmm() == "07:45"
    assert school_day(Clock.of(12, 30)).hhmm() == "12:30"
    assert school_day(Clock.of(14, 0)).hhmm() == "14:00"
    # Order wins: 7.30 after 18:00 is an evening time.
    assert school_day(Clock.of(7, 30), reference=Clock.of(18, 0)).hhmm() == "19:30"
    assert school_day(Clock.of(9, 0), reference=Clock.of(8, 0)).hhmm() == "09:00"


def test_school_day_range_leaves_settled_times() -> None:
    loose = parse_time_range("1.15-2.30")
    assert loose is not None
    moved = school_day_range(loose)
    assert (moved.start.hhmm(), moved.end and moved.end.hhmm()) == ("13:15", "14:30")
    explicit = parse_time_range("1.15-2.30am")
    assert explicit is not None and school_day_range(explicit) == explicit
    twenty_four = parse_time_range("01:15-02:30")
    assert twenty_four is not None and school_day_range(twenty_four) == twenty_four


# --- property tests: any time printed in any common style reads back -----------------------------

STYLES_24 = [
    lambda h, m: f"{h}:{m:02d}",
    lambda h, m: f"{h:02d}:{m:02d}",
    lambda h, m: f"{h}.{m:02d}",
    lambda h, m: f"{h:02d}.{m:02d}",
    lambda h, m: f"{h}h{m:02d}",
    lambda h, m: f"{h:02d}H{m:02d}",
]
STYLES_12 = [
    lambda h, m, s: f"{h}:{m:02d}{s}",
    lambda h, m, s: f"{h}.{m:02d} {s}",
    lambda h, m, s: f"{h}:{m:02d} {s.upper()}",
    lambda h, m, s: f"{h}:{m:02d}{s[0]}.{s[1]}.",
]


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from(STYLES_24))
def test_round_trip_24_hour_styles(hour: int, minute: int, style) -> None:  # type: ignore[no-untyped-def]
    clock = parse_time(style(hour, minute))
    assert clock == Clock.of(hour, minute)
    assert clock is not None and parse_time(clock.hhmm()) == clock


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from(STYLES_12))
def test_round_trip_12_hour_styles(hour: int, minute: int, style) -> None:  # type: ignore[no-untyped-def]
    twelve = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    assert parse_time(style(twelve, minute, suffix)) == Clock.of(hour, minute)


@given(
    st.integers(0, 22),
    st.integers(0, 59),
    st.integers(1, 120),
    st.sampled_from(["-", " - ", "–", " – ", " — ", " to ", " bis ", "−", "‑"]),
    st.sampled_from(STYLES_24),
    st.sampled_from(["", "Maths ", "P1 "]),
)
def test_round_trip_ranges_in_text(  # type: ignore[no-untyped-def]
    hour: int, minute: int, length: int, dash: str, style, prefix: str
) -> None:
    start = Clock.of(hour, minute)
    end = start.plus(length)
    printed = style(start.hour, start.minute) + dash + style(end.hour % 24, end.minute)
    if end.minutes >= 24 * 60:
        return
    text = f"{prefix}{printed} Room 5"
    [match] = find_times(text)
    assert (match.start, match.end) == (start, end)
    assert text[match.span[0] : match.span[1]].strip() == printed.strip()
    assert strip_times(text) == f"{prefix}Room 5".strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:25/9:25", ("08:25", "09:25")),  # slash between two times
        ("07:45:00 - 08:30:00", ("07:45", "08:30")),  # seconds printed
        ("12noon - 1:15pm", ("12:00", "13:15")),
        ("noon-1pm", ("12:00", "13:00")),
        ("8 - 9 Uhr", ("08:00", "09:00")),  # bare hours made times by the word after them
        ("08:00 às 09:00", ("08:00", "09:00")),
        ("10:00 s/d 11:00", ("10:00", "11:00")),
    ],
)
def test_more_printed_range_forms(text: str, expected: tuple[str, str]) -> None:
    (m,) = find_times(text)
    assert (m.start.hhmm(), m.end.hhmm() if m.end else None) == expected


@pytest.mark.parametrize("text", ["12/11", "Mon 12/11/2024", "3/4", "Midday break", "Noon"])
def test_dates_and_words_are_no_times(text: str) -> None:
    assert find_times(text) == []
