"""List-style timetables: day headings then timed lines."""

from __future__ import annotations

from timetable_platform.reading.listing import heading_days, item_lines, lines_beside_times, read_listing

from .gridkit import placed_line


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
    assert [(e.subject, e.teacher) for e in timetable.entries] == [
        ("Design & Technology", None),
        ("Maths", "Mr Smith"),
    ]


def test_bare_list_number_before_a_time_is_the_period() -> None:
    blocks = read_listing(["Friday", "1 08:00-08:45 Maths", "2 08:50-09:35 Art"])
    assert [(b.period, b.lines) for b in blocks] == [("1", ["Maths"]), ("2", ["Art"])]
    # A numbered time alone on its line takes the lines below it (its name was printed apart).
    blocks = read_listing(["Friday", "1 08:00-08:45", "Maths", "2 08:50-09:35", "Art"])
    assert [(b.period, b.lines) for b in blocks] == [("1", ["Maths"]), ("2", ["Art"])]


def test_names_beside_lone_times_go_with_the_nearest_time() -> None:
    # An app's day list: the time alone at the left, centred against a name (a little higher) and its
    # details (a little lower) at the right. Reading order puts each name after the item before.
    lines = [placed_line("Tuesday", 20, 10)]
    for n, (time, name, details) in enumerate(
        [("08:00-08:45", "Physics", "KL | B12"), ("08:50-09:35", "Chemistry", "MO | Lab"),
         ("09:40-10:25", "History", "RS | A3")]
    ):  # fmt: skip
        top = 60 + 80 * n
        lines += [
            placed_line(name, 300, top),
            placed_line(f"{n + 1} {time}", 40, top + 12),
            placed_line(details, 300, top + 24),
        ]
    lines.append(placed_line("Home Timetable Homework Grades", 20, 400))
    texts = lines_beside_times(lines)
    blocks = read_listing(texts)
    assert [(b.day, b.start.hhmm(), b.period, b.lines) for b in blocks] == [
        ("TUE", "08:00", "1", ["Physics", "KL | B12"]),
        ("TUE", "08:50", "2", ["Chemistry", "MO | Lab"]),
        ("TUE", "09:40", "3", ["History", "RS | A3"]),
    ]


def test_times_printed_with_their_names_keep_reading_order() -> None:
    lines = [placed_line("Tuesday", 20, 10)]
    for n, name in enumerate(["Physics", "Chemistry", "History"]):
        lines += [
            placed_line(f"0{8 + n}:00-0{8 + n}:45 {name}", 40, 60 + 50 * n),
            placed_line("Room 4", 300, 85 + 50 * n),
        ]
    assert lines_beside_times(lines) == [line.text for line in lines]


def test_a_record_tables_rows_are_no_cards() -> None:
    # Each row prints its time range and its fields side by side: the lines read as printed.
    lines = [placed_line("Day Time Subject Room", 20, 10)]
    for n, name in enumerate(["Physics", "Chemistry", "History"]):
        top = 50 + 40 * n
        lines += [placed_line("Mon", 20, top), placed_line(f"0{8 + n}:00-0{8 + n}:45", 100, top), placed_line(name, 300, top),
                  placed_line(f"B{n}", 500, top)]  # fmt: skip
    assert lines_beside_times(lines) == [line.text for line in lines]
