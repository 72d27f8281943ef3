"""List-style timetables: day headings then timed lines."""

from __future__ import annotations

from timetable_platform.reading.listing import heading_days, item_lines, read_listing


def test_heading_days() -> None:
    assert heading_days("Monday, Tuesday, Thursday") == ["MON", "TUE", "THU"]
    assert heading_days("Mo - Mi", "de") == ["MON", "TUE", "WED"]
    assert heading_days("Maandag") == ["MON"]
    assert heading_days("Seg., 10 de março") == ["MON"]  # a day with its date is one heading
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
    assert item_lines("Química (Profª Silva) A-14") == ["Química", "Profª Silva", "A-14"]


def test_text_without_day_headings_gives_nothing() -> None:
    assert read_listing(["Dear parents,", "School starts at 8:30."]) == []


def test_list_printed_as_a_table_under_a_day_heading() -> None:
    from timetable_platform.reading.listing import read_table_listing

    from .gridkit import table

    t = table(
        [
            ["Daily Schedule|Monday, Thursday", "<", "<"],
            ["1", "8:35", "Students inside"],
            ["2", "9:00-9:15", "Morning Work"],
            ["3", "3:15", "Dismissal"],
        ]
    )
    got = [
        (b.day, b.period, b.start.hhmm(), b.end.hhmm() if b.end else None, b.lines[0])
        for b in read_table_listing(t)
    ]
    assert got == [
        ("MON", "1", "08:35", "09:00", "Students inside"),
        ("MON", "2", "09:00", "09:15", "Morning Work"),
        ("MON", "3", "15:15", None, "Dismissal"),
        ("THU", "1", "08:35", "09:00", "Students inside"),
        ("THU", "2", "09:00", "09:15", "Morning Work"),
        ("THU", "3", "15:15", None, "Dismissal"),
    ]


def test_a_list_whose_lines_name_their_fields() -> None:
    # Programme sheets: under each day, labelled lines for the time, the activity and the people.
    from timetable_platform.domain.layout import Layout
    from timetable_platform.reading.interpret import interpret

    paragraphs = ["MONDAY", "Time: 9.00-10.00", "Activity: Yoga", "People: Sam", "Venue: Hall",
                  "TUESDAY", "Time: 9.00-10.00", "Activity: Swim"]  # fmt: skip
    timetable = interpret(Layout(pages=[], media_type="text/plain", reader="test", paragraphs=paragraphs))
    assert [(e.day, e.start, e.end, e.subject, e.teacher, e.room) for e in timetable.entries] == [
        ("MON", "09:00", "10:00", "Yoga", "Sam", "Hall"),
        ("TUE", "09:00", "10:00", "Swim", None, None),
    ]


def test_a_list_item_continued_on_the_next_line_keeps_its_field_lines() -> None:
    from timetable_platform.domain.layout import Layout
    from timetable_platform.reading.interpret import interpret

    paragraphs = ["Monday", "9:00 - 10:00 Design", "& Technology", "10:00-11:00 Maths", "Mr Smith"]
    timetable = interpret(Layout(pages=[], media_type="text/plain", reader="test", paragraphs=paragraphs))
    assert [(e.subject, e.teacher) for e in timetable.entries] == [("Design & Technology", None), ("Maths", "Mr Smith")]
