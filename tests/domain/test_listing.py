"""List-style timetables: day headings then timed lines."""

from __future__ import annotations

from timetable_platform.domain.listing import heading_days, item_lines, read_listing


def test_heading_days() -> None:
    assert heading_days("Monday, Tuesday, Thursday") == ["MON", "TUE", "THU"]
    assert heading_days("Mo - Mi", "de") == ["MON", "TUE", "WED"]
    assert heading_days("Maandag") == ["MON"]
    assert heading_days("Mercredi :") == ["WED"]
    assert heading_days("9:00 Maths") is None
    assert heading_days("Morning work") is None


def test_start_only_items_end_at_next_start_and_last_has_none() -> None:
    blocks = read_listing(
        ["Lunes", "8:30 Llegada", "9:00 - 10:00 Matemáticas", "3:10 Recoger", "3:15 Salida"], language="es"
    )
    got = [
        (b.day, b.start.hhmm() if b.start else None, b.end.hhmm() if b.end else None, b.lines[0])
        for b in blocks
    ]
    assert got == [
        ("MON", "08:30", "09:00", "Llegada"),
        ("MON", "09:00", "10:00", "Matemáticas"),
        ("MON", "15:10", "15:15", "Recoger"),
        ("MON", "15:15", None, "Salida"),
    ]


def test_week_markers_and_parenthesised_fields() -> None:
    blocks = read_listing(
        ["Week A", "Monday", "9:00-10:00 Maths (Mr Smith, R101)", "Week B", "Monday", "9:00-10:00 Art"]
    )
    assert [(b.week, b.lines) for b in blocks] == [("A", ["Maths", "Mr Smith", "R101"]), ("B", ["Art"])]
    assert item_lines("Word Work (Phonics)") == ["Word Work", "Phonics"]


def test_text_without_day_headings_gives_nothing() -> None:
    assert read_listing(["Dear parents,", "School starts at 8:30."]) == []
