"""Document-level doubt lowers confidence: debris read as names, blocks that lost their times, OCR."""

from __future__ import annotations

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.reading.plausibility import (
    OCR_CAP,
    adjust_confidence,
    assess,
    looks_like_debris,
    without_legends,
    without_unplaced_repeats,
)


def _entry(subject: str, start: str | None = "09:00") -> Entry:
    return Entry(day="MON", start=start, end="10:00" if start else None, subject=subject, kind="lesson", confidence=1.0)


def test_debris_is_told_from_names() -> None:
    assert looks_like_debris("¢ |")
    assert looks_like_debris("nt")
    assert not looks_like_debris("Maths")
    assert not looks_like_debris("DC(L)")
    assert not looks_like_debris("Engg Mech - NMEC101")
    assert not looks_like_debris("Ita-Sto")
    assert not looks_like_debris("PE")


def test_a_clean_digital_reading_keeps_its_confidence() -> None:
    timetable = Timetable(entries=[_entry("Maths"), _entry("Art")])
    adjust_confidence(timetable, ocr=False)
    assert [e.confidence for e in timetable.entries] == [1.0, 1.0]


def test_debris_and_lost_times_lower_the_whole_reading() -> None:
    timetable = Timetable(entries=[_entry("Maths"), _entry("Art"), _entry("¢@ |"), _entry("History", start=None)])
    found = assess(timetable)
    assert found.debris_share == 0.25 and found.timeless_share == 0.25
    adjust_confidence(timetable, ocr=False)
    maths, _, debris, timeless = timetable.entries
    assert maths.confidence is not None and maths.confidence < 1.0
    assert debris.confidence is not None and debris.confidence < maths.confidence
    assert timeless.confidence is not None and timeless.confidence < maths.confidence


def test_nothing_read_from_pixels_reaches_the_ocr_ceiling() -> None:
    timetable = Timetable(entries=[_entry("Maths")])
    adjust_confidence(timetable, ocr=True)
    assert timetable.entries[0].confidence == OCR_CAP


def test_an_unchecked_reading_with_a_guess_stays_under_nine_tenths() -> None:
    guessed, sure = _entry("Maths"), _entry("Art")
    guessed.confidence, sure.confidence = 0.92, 0.98
    timetable = Timetable(entries=[guessed, sure])
    adjust_confidence(timetable, ocr=False, single_reading=True)
    assert [e.confidence for e in timetable.entries] == [0.85, 0.98]


def test_an_unplaced_repeat_of_a_lesson_the_day_holds_placed_is_dropped() -> None:
    placed = Entry(day="THU", period="1", subject="Maths", kind="lesson")
    repeat = Entry(day="THU", subject="maths", kind="lesson")  # read again with no row label
    other_day = Entry(day="FRI", subject="Maths", kind="lesson")  # no placed twin that day: kept
    note = Entry(day="THU", subject="Trip to the museum", kind="lesson")  # nothing placed repeats it: kept
    timetable = Timetable(entries=[placed, repeat, other_day, note])
    assert without_unplaced_repeats(timetable) == 1
    assert timetable.entries == [placed, other_day, note]


def test_a_legends_lines_under_the_table_are_no_lessons() -> None:
    """Marked lessons ('Chemistry #') and the legend explaining the marks under the table, which a reading by
    position puts in the last row: a line opening with a footnote mark and a space is no lesson."""
    marked = Entry(day="MON", start="12:00", end="13:00", subject="Chemistry #", kind="lesson")
    legend = Entry(day="MON", start="17:00", end="18:00", subject="# Science stream only", kind="lesson")
    extra = Entry(day="WED", start="17:00", end="18:00", subject="† Held in the library", kind="lesson")
    starred = Entry(day="TUE", start="09:00", end="10:00", subject="*Choir", kind="lesson")  # no space: a name
    timetable = Timetable(entries=[marked, legend, extra, starred])
    assert without_legends(timetable) == 2
    assert timetable.entries == [marked, starred]
    only = Timetable(entries=[legend])
    assert without_legends(only) == 0 and only.entries == [legend]
