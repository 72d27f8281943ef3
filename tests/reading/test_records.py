"""Record tables (one row per block) headed in several languages."""

from __future__ import annotations

import pytest

from timetable_platform.reading.records import read_records

from .gridkit import table


@pytest.mark.parametrize(
    "header",
    [
        ["Day", "Start", "End", "Subject", "Teacher", "Room"],
        ["Jour", "Début", "Fin", "Matière", "Professeur", "Salle"],
        ["Día", "Inicio", "Fin", "Asignatura", "Profesor", "Aula"],
        ["Giorno", "Inizio", "Fine", "Materia", "Docente", "Aula"],
        ["Dag", "Begin", "Einde", "Vak", "Docent", "Lokaal"],
    ],
)
def test_headers_in_each_language(header: list[str]) -> None:
    rows = [header, ["Monday" if header[0] == "Day" else "Mon", "8.30", "9.15", "Maths", "Smith", "R1"]]
    entries = read_records(table(rows))
    assert entries is not None
    (e,) = entries
    assert (e.day, e.start, e.end, e.subject, e.teacher, e.room) == (
        "MON",
        "08:30",
        "09:15",
        "Maths",
        "Smith",
        "R1",
    )


def test_time_range_column_period_group_and_week() -> None:
    rows = [
        ["Day", "Time", "Period", "Subject", "Class", "Week"],
        ["Tue", "1.15-2.00", "P5", "Physics", "10S", "Week B"],
        ["", "2.00-2.45", "P6", "Chemistry", "11K", "A"],
    ]
    entries = read_records(table(rows))
    assert entries is not None
    assert [(e.day, e.start, e.end, e.period, e.subject, e.group, e.week) for e in entries] == [
        ("TUE", "13:15", "14:00", "P5", "Physics", "10S", "B"),
        ("TUE", "14:00", "14:45", "P6", "Chemistry", "11K", "A"),  # a blank day continues the day above
    ]


def test_a_grid_is_not_a_record_table() -> None:
    assert read_records(table([["Time", "Monday"], ["9:00-10:00", "Maths"]])) is None


def test_day_rows_head_each_days_records_and_extra_columns_become_labelled_notes() -> None:
    # A dated course programme: no day column; a row naming the day heads that day's rows, the header
    # is printed again before each day, and a column no field takes goes to notes under its header.
    rows = [
        ["Date / Time", "Activity", "People", "Materials needed", "Location"],
        ["Tuesday 14th Oct", "Day 1", "", "", ""],
        ["9.00 – 9.30", "Welcome", "Ann Lee + Bo", "Name badges", ""],
        ["9.30 – 10.45", "Lunch", "n/a", "", "Hall"],
        ["Date / Time", "Activity", "People", "Materials needed", "Location"],
        ["Wed 15th Oct", "Day 2", "", "", ""],
        ["14:00 – 15.00", "Project work", "Cy Ode", "Laptops", "Lab 3"],
    ]
    entries = read_records(table(rows))
    assert entries is not None
    assert [(e.day, e.start, e.end, e.subject, e.teacher, e.room, e.notes) for e in entries] == [
        ("TUE", "09:00", "09:30", "Welcome", "Ann Lee + Bo", None, "Materials needed: Name badges"),
        ("TUE", "09:30", "10:45", "Lunch", None, "Hall", None),
        ("WED", "14:00", "15:00", "Project work", "Cy Ode", "Lab 3", "Materials needed: Laptops"),
    ]


def test_a_table_without_day_column_or_day_rows_is_no_record_table() -> None:
    rows = [["Time", "Activity", "People"], ["9.00-9.30", "Welcome", "Ann"]]
    assert read_records(table(rows)) is None


def test_a_stroke_read_beside_a_header_word_is_the_edge_of_the_header_band() -> None:
    """OCR reads the left edge of a coloured header band as 'I' or '|' before the first label."""
    rows = [["I Giorno", "Inizio", "Fine", "Materia", "Docente", "Aula |"], ["Lun", "08:00", "09:00", "Inglese", "GRE", "B166"]]
    entries = read_records(table(rows))
    assert entries is not None
    (e,) = entries
    assert (e.day, e.start, e.end, e.subject, e.teacher, e.room) == ("MON", "08:00", "09:00", "Inglese", "GRE", "B166")


def test_a_header_ocr_garbled_is_read_from_its_column() -> None:
    """A photographed record table: the day header on the coloured band is unreadable, 'Finish' lost a
    letter, the room header is gone, and some times lost their separator. The day column is the one that
    names days, 'Finsh' is one letter from 'finish', the column of room codes is the room, and '1055' in
    a time column is 10:55."""
    rows = [
        ["(ay", "Start", "Finsh", "Subject", "Teacher", ""],
        ["Monday", "9.05", "950", "Biology", "KUR", "S284"],
        ["Monday", "10 05", "1055", "Art", "NUG", "Lab 2"],
        ["Tuesday", "9.05", "9.50", "History", "HID", "R316"],
        ["Tuesday", "10.05", "10.55", "Drama", "SET", "A-01"],
    ]
    entries = read_records(table(rows))
    assert entries is not None
    assert [(e.day, e.start, e.end, e.subject, e.teacher, e.room) for e in entries] == [
        ("MON", "09:05", "09:50", "Biology", "KUR", "S284"),
        ("MON", "10:05", "10:55", "Art", "NUG", "Lab 2"),
        ("TUE", "09:05", "09:50", "History", "HID", "R316"),
        ("TUE", "10:05", "10:55", "Drama", "SET", "A-01"),
    ]


def test_a_day_column_needs_days_in_most_rows_and_a_misread_needs_one_close_role() -> None:
    # Days-as-rows grid: its first column names days, but no header names a subject: no record table.
    grid_rows = [["", "1", "2"], ["Monday", "Maths", "Art"], ["Tuesday", "Art", "PE"], ["Wednesday", "PE", "Maths"]]
    assert read_records(table(grid_rows)) is None
    # A header word two letters off a role word names no role.
    rows = [["Day", "Strat", "Ed", "Subject"], ["Mon", "9.00", "9.45", "Maths"]]
    assert read_records(table(rows)) is None


def test_the_header_is_found_under_page_furniture_read_into_the_table() -> None:
    """A table found from word positions on an exported web page takes in the title, the page-size
    control and the search box above the header: the header is looked for until the first time."""
    t = table([
        ["Timetable 7B", "", "", ""],
        ["50", "", "Search:", ""],
        ["", "", "", ""],
        ["", "", "", ""],
        ["Day", "Start", "End", "Subject"],
        ["Monday", "08:00", "08:45", "Maths"],
        ["Monday", "09:00", "09:45", "Art"],
    ])  # fmt: skip
    entries = read_records(t)
    assert entries is not None
    assert [(e.day, e.start, e.subject) for e in entries] == [("MON", "08:00", "Maths"), ("MON", "09:00", "Art")]


def test_a_table_continued_on_the_next_page_reads_under_the_header_of_the_page_before() -> None:
    """A browser's print flows a long record table onto the next sheet without its header; the day
    merged down its rows is printed once, on the sheet before."""
    first = table([
        ["Day", "Start", "End", "Subject", "Room"],
        ["Monday", "08:00", "08:45", "Maths", "R1"],
        ["Tuesday", "08:00", "08:45", "Art", "R2"],
    ])  # fmt: skip
    second = table([
        ["", "09:00", "09:45", "Music", "R3"],
        ["Wednesday", "08:00", "08:45", "French", "R4"],
    ])  # fmt: skip
    assert read_records(second) is None
    entries = read_records(second, continues=first, last_day="TUE")
    assert entries is not None
    assert [(e.day, e.start, e.end, e.subject, e.room) for e in entries] == [
        ("TUE", "09:00", "09:45", "Music", "R3"),
        ("WED", "08:00", "08:45", "French", "R4"),
    ]
    # A table of other columns is no continuation.
    other = table([["Note", "x"], ["Bring a pen", "y"]])
    assert read_records(other, continues=first, last_day="TUE") is None
