"""Day × time grids read from hand-made tables: orientation, spans, in-cell times, letters, weeks."""

from __future__ import annotations

from timetable_platform.domain.layout import BBox, Line, Table, Word
from timetable_platform.reading.grid import Block, read_grid, transpose

from .gridkit import table


def _slots(blocks: list[Block]) -> set[tuple[str, str | None, str | None, str | None, str]]:
    return {
        (
            b.day,
            b.start.hhmm() if b.start else None,
            b.end.hhmm() if b.end else None,
            b.week,
            " ".join(b.lines) or b.subject or "",
        )
        for b in blocks
    }


def _read(t: Table, language: str | None = None) -> list[Block]:
    reading = read_grid(t, language=language)
    assert reading is not None
    return reading.blocks


def _timed_texts(t: Table) -> set[tuple[str, str | None, str | None, str]]:
    """(day, start, end, text) of each block the table reads as."""
    return {(day, start, end, text) for day, start, end, _, text in _slots(_read(t))}


def _sized_line(text: str, top: float, height: float) -> Line:
    """A cell's text line at ``top`` in print ``height`` tall, words 60 points apart."""
    words = [Word(w, BBox(10 + 60 * k, top, 60 + 60 * k, top + height)) for k, w in enumerate(text.split())]
    return Line(words=words, bbox=BBox(10, top, 60 * len(words), top + height))


DAYS_AS_COLUMNS = table(
    [
        ["Time", "Monday", "Tuesday", "Wednesday"],
        ["08:30-09:20", "Maths", "Art", "PE"],
        ["09:20-10:10", "^", "English", "History"],
        ["10:10-10:30", "Break", "<", "<"],
        ["10:30-11:20", "French", "-", ""],
    ]
)


def test_double_period_is_one_block_and_full_width_row_is_one_per_day() -> None:
    got = _slots(_read(DAYS_AS_COLUMNS))
    assert got == {
        ("MON", "08:30", "10:10", None, "Maths"),
        ("TUE", "08:30", "09:20", None, "Art"),
        ("TUE", "09:20", "10:10", None, "English"),
        ("WED", "08:30", "09:20", None, "PE"),
        ("WED", "09:20", "10:10", None, "History"),
        ("MON", "10:10", "10:30", None, "Break"),
        ("TUE", "10:10", "10:30", None, "Break"),
        ("WED", "10:10", "10:30", None, "Break"),
        ("MON", "10:30", "11:20", None, "French"),
    }


def test_days_as_rows_reads_the_same_as_days_as_columns() -> None:
    assert _slots(_read(transpose(DAYS_AS_COLUMNS))) == _slots(_read(DAYS_AS_COLUMNS))


def test_a_row_ruled_off_by_taller_tiles_belongs_to_the_labelled_row_above() -> None:
    """Lesson tiles drawn as boxes as tall as their text: the taller tiles' edges rule off rows with no
    label and no cell starting in them. Those rows belong to the slot above; a tile reaching into
    them is one period, not a lesson running into an untimed slot."""
    tiles = table(
        [
            ["", "Mon", "Tue", "Wed"],
            ["1. 09:00-10:00", "Maths", "Art", "Music"],
            ["", "^", "^", ""],
            ["", "", "^", ""],
            ["2. 10:00-11:00", "French", "History", "Drama"],
            ["", "^", "", ""],
        ]
    )
    assert _slots(_read(tiles)) == {
        ("MON", "09:00", "10:00", None, "Maths"),
        ("TUE", "09:00", "10:00", None, "Art"),
        ("WED", "09:00", "10:00", None, "Music"),
        ("MON", "10:00", "11:00", None, "French"),
        ("TUE", "10:00", "11:00", None, "History"),
        ("WED", "10:00", "11:00", None, "Drama"),
    }
    # A double lesson ending in the labelled row of a slot with sub-rows ends with that slot.
    double = table([["", "Mon", "Tue"], ["09:00-10:00", "Maths", "Art"], ["10:00-11:00", "^", "Music"], ["", "", "^"]])
    assert _slots(_read(double)) == {
        ("MON", "09:00", "11:00", None, "Maths"),
        ("TUE", "09:00", "10:00", None, "Art"),
        ("TUE", "10:00", "11:00", None, "Music"),
    }
    # A row whose label is blank but which starts lessons of its own is still a row of its own.
    lost = table([["", "Mon"], ["09:00-10:00", "Maths"], ["", "Art"], ["11:00-12:00", "Music"]])
    assert ("MON", "09:00", "10:00", None, "Maths") in _slots(_read(lost))
    assert any(text == "Art" for *_, text in _slots(_read(lost)))


def test_a_lesson_cut_by_a_rule_across_its_merged_cell_is_one_block() -> None:
    """Striped rows each drawn with their own edges cut a double lesson's centred text: its name in the
    upper cell, its teacher and room alone in the lower one. They are one lesson over both rows; a
    lesson below printed as a lone code ('PE') stays a lesson of its own."""
    cut = table(
        [
            ["", "Mon", "Tue"],
            ["09:00-10:00", "Biology", "Maths"],
            ["10:00-11:00", "Mr Hill|Lab 2", "PE"],
            ["11:00-12:00", "Art|Ms Ray|B2", "Music"],
        ]
    )
    assert _slots(_read(cut)) == {
        ("MON", "09:00", "11:00", None, "Biology Mr Hill Lab 2"),
        ("MON", "11:00", "12:00", None, "Art Ms Ray B2"),
        ("TUE", "09:00", "10:00", None, "Maths"),
        ("TUE", "10:00", "11:00", None, "PE"),
        ("TUE", "11:00", "12:00", None, "Music"),
    }
    # A cell led by a code is a lesson whose subject is printed as a code.
    coded = table([["", "Mon"], ["09:00-10:00", "Drawing"], ["10:00-11:00", "SVT|Mr Roux|Lab 1"]])
    assert ("MON", "10:00", "11:00", None, "SVT Mr Roux Lab 1") in _slots(_read(coded))


def test_period_label_over_time_in_header_and_period_kept() -> None:
    t = table(
        [
            ["", "Period 1", "Period 2", ""],
            ["Day", "8.30 - 9.15", "9.15 - 10.00", "1.15-2pm"],
            ["Mo", "Maths", "Art", "Music"],
            ["Tu", "Science", "<", "PE"],
        ]
    )
    blocks = _read(t)
    by_key = {(b.day, b.lines[0]): b for b in blocks}
    assert by_key[("MON", "Maths")].period == "Period 1"
    science = by_key[("TUE", "Science")]
    assert (science.start.hhmm(), science.end.hhmm(), science.period) == ("08:30", "10:00", "Period 1")
    music = by_key[("MON", "Music")]  # 12-hour time without am/pm inside a school day
    assert (music.start.hhmm(), music.end.hhmm()) == ("13:15", "14:00")


def test_time_in_cell_overrides_header_and_neighbours_take_printed_boundaries() -> None:
    # Header slot 2.30-3.15 split into sub-columns; cells print their own times (like a real primary timetable).
    t = table(
        [
            ["", "1.40 - 2.30", "2.30-3.15", "<", "<", "3.20"],
            ["MON", "Swimming|1.15-3PM", "<", "TTRS/|Story", "<", "H"],
            ["TUE", "PE", "<", "<", "Story", "O"],
            ["WED", "Science", "TTRS", "2.50|KS2|Assembly", "<", "M"],
            ["THU", "Art", "Games", "<", "<", "E"],
        ]
    )
    got = _slots(_read(t, "en"))
    assert ("MON", "13:15", "15:00", None, "Swimming") in got
    assert ("MON", "15:00", "15:15", None, "TTRS/ Story") in got  # starts at the neighbour's printed end
    assert ("TUE", "13:40", "14:30", None, "PE") in got  # ends inside a slot: boundary at the slot start
    assert ("TUE", "14:30", "15:15", None, "Story") in got
    assert ("WED", "14:30", "14:50", None, "TTRS") in got  # ends where the next cell's printed time starts
    assert ("WED", "14:50", "15:15", None, "KS2 Assembly") in got
    # The last start-only column has no end; its word is spelt one letter per day row.
    homes = {b for b in got if b[4] == "Home"}
    assert homes == {(d, "15:20", None, None, "Home") for d in ("MON", "TUE", "WED", "THU")}


def test_vertical_day_letters_are_days() -> None:
    t = table([["", "9:00-10:00"], ["M|O|N", "Maths"], ["T|U|E|S", "Art"], ["W|E|D", "PE"]])
    assert {(b.day, b.lines[0]) for b in _read(t)} == {("MON", "Maths"), ("TUE", "Art"), ("WED", "PE")}


def test_start_only_header_ends_at_next_start_and_last_has_no_end() -> None:
    t = table(
        [
            ["Zeit", "Mo", "Di"],
            ["08:00", "Mathe", "Deutsch"],
            ["08:45", "Sport", "Kunst"],
            ["09:30", "Pause", "<"],
        ]
    )
    got = _slots(_read(t, "de"))
    assert ("MON", "08:00", "08:45", None, "Mathe") in got
    assert ("TUE", "08:45", "09:30", None, "Kunst") in got
    assert ("MON", "09:30", None, None, "Pause") in got


def test_period_only_grid_has_no_times() -> None:
    t = table([["", "Lundi", "Mardi"], ["P1", "Maths", "Anglais"], ["P2", "Histoire", "^"]])
    blocks = _read(t, "fr")
    assert {(b.day, b.period, b.start, b.end, b.lines[0]) for b in blocks} == {
        ("MON", "P1", None, None, "Maths"),
        ("MON", "P2", None, None, "Histoire"),
        ("TUE", "P1", None, None, "Anglais"),
    }


def test_week_sections_inside_one_table_and_caption() -> None:
    t = table(
        [
            ["Time", "Monday", "Tuesday"],
            ["9:00-10:00", "Maths", "Art"],
            ["Week B", "", ""],
            ["Time", "Monday", "Tuesday"],
            ["9:00-10:00", "Music", "PE"],
        ]
    )
    got = _slots(_read(t))
    assert ("MON", "09:00", "10:00", "A", "Maths") in got  # the section before 'Week B' is week A
    assert ("TUE", "09:00", "10:00", "B", "PE") in got
    assert len(got) == 4
    captioned = table([["", "Mon"], ["9:00-10:00", "Maths"]], caption="Week A")
    assert {b.week for b in _read(captioned)} == {"A"}


def test_stacked_weeks_in_days_as_rows_orientation() -> None:
    t = table(
        [
            ["Woche A", "", ""],
            ["Zeit", "08:00-08:45", "08:45-09:30"],
            ["Montag", "Mathe", "Deutsch"],
            ["Woche B", "", ""],
            ["Zeit", "08:00-08:45", "08:45-09:30"],
            ["Montag", "Sport", "Kunst"],
        ]
    )
    got = _slots(_read(t, "de"))
    assert got == {
        ("MON", "08:00", "08:45", "A", "Mathe"),
        ("MON", "08:45", "09:30", "A", "Deutsch"),
        ("MON", "08:00", "08:45", "B", "Sport"),
        ("MON", "08:45", "09:30", "B", "Kunst"),
    }


def test_several_timed_blocks_in_one_cell() -> None:
    t = table([["", "Friday"], ["1:00-3:00", "1:00 Maths|2:15 Art|Room 4"]])
    got = _slots(_read(t))
    assert ("FRI", "13:00", "14:15", None, "Maths") in got
    assert ("FRI", "14:15", "15:00", None, "Art Room 4") in got


def test_a_meridiem_wrapped_onto_the_name_line_stays_with_its_time() -> None:
    # A narrow cell breaks '9:30 AM - 9:50 AM' before the last 'AM', which then opens the name's line.
    t = table([["", "Friday"], ["9:30 AM - 10:15 AM", "9:30 AM - 9:50|AM Art|9:50 AM - 10:15|AM Music"]])
    got = _slots(_read(t))
    assert ("FRI", "09:30", "09:50", None, "Art") in got
    assert ("FRI", "09:50", "10:15", None, "Music") in got


def test_saturday_and_sunday_columns() -> None:
    t = table([["", "Sa", "So"], ["10:00-11:00", "Chor", "Orgel"]])
    assert {b.day for b in _read(t, "de")} == {"SAT", "SUN"}


def test_table_without_days_is_not_a_grid() -> None:
    assert read_grid(table([["Name", "Score"], ["Ann", "3"]])) is None


def test_times_settled_one_by_one_and_a_lost_dash_still_gives_a_range() -> None:
    # OCR often loses the dash: '1.15 2pm' in the header, '1:30 2:30' inside a cell.
    t = table([["", "1.15 2pm", "2- 3pm"], ["Monday", "1:30 2:30|Science", "Art"]])
    got = _slots(_read(t))
    assert ("MON", "13:30", "14:30", None, "Science") in got
    # Art fills its own 2-3pm slot: the overlap Science's printed 2:30 creates is kept as printed.
    assert ("MON", "14:00", "15:00", None, "Art") in got


def test_one_day_name_across_the_whole_table_is_a_heading_not_an_axis() -> None:
    assert read_grid(table([["Daily Schedule|Friday", "<"], ["8:35", "Arrival"]])) is None


def test_activity_printed_in_the_header_applies_to_days_without_their_own_text() -> None:
    t = table(
        [
            ["", "8.40", "9.15 - 10.45", "10.45 - 11.00"],
            ["Daily routine", "Register", "Indoor provision", "Snack time"],
            ["Mon", "", "Readers", ""],
            ["Tue", "", "", "Fruit"],
        ]
    )
    blocks = _read(t)
    got = _slots(blocks)
    assert ("MON", "08:40", "09:15", None, "Register") in got  # start-only header: ends at the next start
    assert ("MON", "09:15", "10:45", None, "Readers") in got
    assert ("TUE", "09:15", "10:45", None, "Indoor provision") in got
    assert ("TUE", "10:45", "11:00", None, "Fruit") in got
    assert len(got) == 6
    readers = next(b for b in blocks if b.lines == ["Readers"])
    assert readers.notes == ["column header: Indoor provision"] and readers.period is None


def test_bare_hour_before_a_time_in_a_header_is_a_start_but_a_period_number_is_not() -> None:
    lost_dash = table([["", "3 3.15pm"], ["Monday", "Storytime"]])
    assert _slots(_read(lost_dash)) == {("MON", "15:00", "15:15", None, "Storytime")}
    period_over_time = table([["Time", "Mon"], ["1|08:40", "English"], ["2|09:25", "Drama"]])
    blocks = _read(period_over_time)
    assert [(b.period, b.start.hhmm()) for b in blocks if b.start] == [("1", "08:40"), ("2", "09:25")]


def test_half_range_in_a_header_of_ranges_is_repaired_with_the_usual_gap() -> None:
    t = table(
        [
            ["Day", "09:00-09:50", "09:55-10:45", "10:50-11:40", "12:00", "12:05-12:55"],
            ["Mon", "Maths", "Art", "PE", "Break", "Music"],
        ]
    )
    assert ("MON", "11:45", "12:00", None, "Break") in _slots(_read(t))
    # Where most slots share one length, the lost half is that length away: a long break before it
    # ('?-12:15' after '10:10-10:55', lessons of 45 minutes) does not stretch the lesson.
    lengths = table(
        [
            ["Day", "08:30-09:15", "09:20-10:05", "10:10-10:55", "12:15", "13:10-13:55"],
            ["Mon", "Maths", "Art", "PE", "Music", "Latin"],
        ]
    )
    assert ("MON", "11:30", "12:15", None, "Music") in _slots(_read(lengths))


def test_a_lost_label_between_timed_slots_keeps_the_usual_gap_when_that_leaves_a_usual_length() -> None:
    header = ["Day", "08:40-09:40", "09:50-10:50", "11:00-12:00", "5", "13:20-14:20", "14:30-15:30"]
    got = _read(table([header, ["Mon", "Maths", "Art", "PE", "Music", "Latin", "Greek"]]))
    music = next(b for b in got if b.lines == ["Music"])
    assert (music.start.hhmm(), music.end.hhmm()) == ("12:10", "13:10")  # type: ignore[union-attr]
    assert music.confidence < next(b for b in got if b.lines == ["PE"]).confidence  # inferred, not read
    # Gaps that differ: the slot fills the whole space between its neighbours.
    uneven = ["Day", "08:40-09:40", "09:40-10:40", "10:50-11:50", "5", "13:20-14:20", "14:25-15:25"]
    got = _read(table([uneven, ["Mon", "Maths", "Art", "PE", "Music", "Latin", "Greek"]]))
    music = next(b for b in got if b.lines == ["Music"])
    assert (music.start.hhmm(), music.end.hhmm()) == ("11:50", "13:20")  # type: ignore[union-attr]


def test_misread_day_name_split_over_two_header_cells() -> None:
    # OCR cut 'Friday' into 'Fric' | 'lay'; the Friday cells span both columns.
    t = table(
        [
            ["Time", "Wednesday", "Thursday", "Fric", "lay"],
            ["09:00-09:50", "Art", "PE", "French", "<"],
            ["09:55-10:45", "Maths", "", "Spanish", "<"],
        ]
    )
    got = _slots(_read(t))
    assert ("FRI", "09:00", "09:50", None, "French") in got
    assert ("FRI", "09:55", "10:45", None, "Spanish") in got
    assert all(b.period is None and not b.notes for b in _read(t))


def test_printed_time_of_the_next_cell_does_not_move_a_clean_slot_boundary() -> None:
    t = table(
        [
            ["Time", "Monday"],
            ["08:00-08:10", "Tutor time"],
            ["08:20-09:10", "Maths|08:35-09:10"],
        ]
    )
    got = _slots(_read(t))
    assert got == {("MON", "08:00", "08:10", None, "Tutor time"), ("MON", "08:35", "09:10", None, "Maths")}


def test_week_cells_above_the_day_names_and_repeated_days() -> None:
    # Days as rows, a 'Week A' / 'Week B' cell spanning each week's day rows.
    t = table(
        [
            ["", "", "9:00-10:00"],
            ["Week A", "Mon", "Maths"],
            ["^", "Tue", "Art"],
            ["Week B", "Mon", "Music"],
            ["^", "Tue", "PE"],
        ]
    )
    got = _slots(_read(t))
    assert got == {
        ("MON", "09:00", "10:00", "A", "Maths"),
        ("TUE", "09:00", "10:00", "A", "Art"),
        ("MON", "09:00", "10:00", "B", "Music"),
        ("TUE", "09:00", "10:00", "B", "PE"),
    }
    # No markers: the second run of the same days is the second week.
    repeated = table([["", "Mon", "Tue", "Mon", "Tue"], ["9:00-10:00", "Maths", "Art", "Music", "PE"]])
    assert {(b.day, b.week, b.lines[0]) for b in _read(repeated)} == {
        ("MON", "A", "Maths"),
        ("TUE", "A", "Art"),
        ("MON", "B", "Music"),
        ("TUE", "B", "PE"),
    }


def test_a_day_cut_into_sub_rows_by_a_text_line_is_read_as_one() -> None:
    t = table(
        [
            ["", "8.40-9.00", "9.15-10.45", "10.45-11.00", "11.00-11.30"],
            ["Mon", "Register", "Readers and", "Snack", "Play"],
            ["^", "^", "reading champions", "^", "^"],
            ["Tue", "Register", "Maths", "Snack", "Play"],
        ]
    )
    got = _slots(_read(t))
    assert ("MON", "09:15", "10:45", None, "Readers and reading champions") in got
    assert len([g for g in got if g[0] == "MON"]) == 4


def test_a_room_column_after_each_day_gives_the_room() -> None:
    # Word timetables often print a narrow room column ('S' for sala, 'Rm') right of each day's column.
    t = table(
        [
            ["", "Lun.", "S", "Mar.", "S", "Mer.", "S"],
            ["09:00-10:00", "Chimie", "B12", "", "", "Latin", "C3"],
            ["10:00-11:00", "Chimie", "B12", "Sport", "Gym", "", ""],
        ]
    )
    got = {(b.day, b.start.hhmm(), " ".join(b.lines), b.fields.get("room")) for b in _read(t)}
    assert got == {
        ("MON", "09:00", "Chimie", "B12"),
        ("MON", "10:00", "Chimie", "B12"),
        ("TUE", "10:00", "Sport", "Gym"),
        ("WED", "09:00", "Latin", "C3"),
    }


def test_a_room_row_serves_the_periods_after_it_until_the_next_room_row() -> None:
    # Days as rows; a 'Room' column before a run of periods names the room of that run ('---' none).
    t = table(
        [
            ["Day", "Room 1", "9-10", "10-11", "Room 2", "11-12"],
            ["Mon", "L-101", "Bio", "Chem", "---", "Art"],
            ["Tue", "L-202", "Geo", "X", "H-3", "Law"],
        ]
    )
    got = {(b.day, b.start.hhmm(), " ".join(b.lines), b.fields.get("room")) for b in _read(t)}
    assert got == {
        ("MON", "09:00", "Bio", "L-101"),
        ("MON", "10:00", "Chem", "L-101"),
        ("MON", "11:00", "Art", None),
        ("TUE", "09:00", "Geo", "L-202"),
        ("TUE", "11:00", "Law", "H-3"),
    }


def test_a_lesson_row_whose_codes_read_as_days_in_another_language_opens_no_section() -> None:
    # 'PE' abbreviates Friday in Hungarian and Finnish; in an English timetable it is a subject.
    t = table(
        [
            ["Day", "09:00-10:00", "10:00-11:00"],
            ["Mon", "Maths", "Art"],
            ["Tue", "PE", "Music"],
        ]
    )
    assert _slots(_read(t)) == {
        ("MON", "09:00", "10:00", None, "Maths"),
        ("MON", "10:00", "11:00", None, "Art"),
        ("TUE", "09:00", "10:00", None, "PE"),
        ("TUE", "10:00", "11:00", None, "Music"),
    }


def test_crossed_out_slots_are_empty_and_spell_no_word() -> None:
    t = table([["Time", "Mon", "Tue", "Wed"], ["9-10", "Maths", "X", "Art"], ["10-11", "X", "X", "X"]])
    assert _slots(_read(t)) == {("MON", "09:00", "10:00", None, "Maths"), ("WED", "09:00", "10:00", None, "Art")}


def test_a_break_printed_once_in_an_empty_row_is_a_break_on_every_day() -> None:
    t = table(
        [
            ["Time", "Mon", "Tue", "Wed"],
            ["9-10", "Maths", "Art", "PE"],
            ["10-11", "", "LUNCH", ""],
            ["11-12", "Music", "", "Drama"],
        ]
    )
    assert {s for s in _slots(_read(t)) if s[1] == "10:00"} == {
        ("MON", "10:00", "11:00", None, "LUNCH"),
        ("TUE", "10:00", "11:00", None, "LUNCH"),
        ("WED", "10:00", "11:00", None, "LUNCH"),
    }


def test_a_misread_first_start_in_a_regular_run_of_start_times_is_put_back() -> None:
    # OCR read '8.00' as '6.00'; the rows below start an hour apart.
    t = table([["", "Mon"], ["6.00", "Maths"], ["9.00", "Art"], ["10.00", "PE"], ["11.00", "Music"], ["12.00", ""]])
    assert ("MON", "08:00", "09:00", None, "Maths") in _slots(_read(t))
    # A first step of less than twice the usual one is printed as it is (a longer first lesson).
    longer = table([["", "Mon"], ["7.30", "Maths"], ["9.00", "Art"], ["10.00", "PE"], ["11.00", "Music"]])
    assert ("MON", "07:30", "09:00", None, "Maths") in _slots(_read(longer))


def test_a_misread_short_day_label_between_two_days_names_the_day_between() -> None:
    # German short labels, one garbled by OCR ('Dl' for 'Di'): the header does not skip Tuesday.
    blocks = _read(table([["", "Mo", "Dl", "Mi", "Do"], ["1", "Kunst", "Musik", "Sport", "Physik"]]))
    assert {b.day: " ".join(b.lines) for b in blocks} == {
        "MON": "Kunst", "TUE": "Musik", "WED": "Sport", "THU": "Physik",
    }


def test_a_room_column_after_each_day_is_no_missing_day() -> None:
    # 'R' between Monday and Tuesday is one day apart: nothing is missing there, so no day is invented.
    blocks = _read(table([["", "Mon", "R", "Tue", "R", "Wed"], ["9:00-10:00", "Art", "12", "PE", "Gym", "Maths"]]))
    assert sorted(b.day for b in blocks) == ["MON", "TUE", "WED"]


def test_garbled_full_day_names_take_the_day_their_neighbours_call_for() -> None:
    # Shaded header bands make OCR drop or swap letters; the order settles which day each one is.
    blocks = _read(
        table([["Time", "Mondai", "Tuesdav", "Wednesday", "Thursday"], ["9:00-10:00", "Art", "PE", "Maths", "Music"]])
    )
    assert {b.day: " ".join(b.lines) for b in blocks} == {"MON": "Art", "TUE": "PE", "WED": "Maths", "THU": "Music"}


def test_stacked_day_letters_with_one_garbled_line_take_the_day_the_order_calls_for() -> None:
    # Days printed one letter per line down the side of a scan: OCR garbled Monday's middle letter
    # and Tuesday entirely. Monday's first and last letters are right and Wednesday is two rows on;
    # Tuesday then lies between two days read.
    rows = [
        ["", "9:00-10:00", "10:00-11:00"],
        ["M\nfe)\nN", "Art", "PE"],
        ["amca", "Maths", "Music"],
        ["W\nE\nD", "French", "German"],
        ["T\nH\nU", "Drama", "Dance"],
    ]
    blocks = _read(table(rows))
    assert sorted({(b.day, " ".join(b.lines)) for b in blocks if b.start and b.start.hhmm() == "09:00"}) == [
        ("MON", "Art"), ("THU", "Drama"), ("TUE", "Maths"), ("WED", "French"),
    ]
    # Letters that do not spell the day the order calls for leave the row unnamed.
    other = _read(table([rows[0], ["X\nfe)\nZ", "Art", "PE"], *rows[3:]]))
    assert sorted({b.day for b in other}) == ["THU", "WED"]


def test_a_word_beside_the_days_that_is_no_day_name_stays_out_of_the_axis() -> None:
    blocks = _read(table([["Time", "Monday", "Tuesday", "Notes"], ["9:00-10:00", "Art", "PE", "bring kit"]]))
    assert sorted(b.day for b in blocks) == ["MON", "TUE"]


def test_misread_period_labels_between_well_read_ones_take_the_missing_numbers() -> None:
    rows = [
        ["", "Monday", "Tuesday"],
        ["P2", "Art", "PE"],
        ["P3", "Maths", "Music"],
        ["", "Break", "<"],
        ["Pa", "French", "German"],
        ["i]", "Drama", "Dance"],
        ["P6", "Latin", "Greek"],
    ]
    periods = {" ".join(b.lines): b.period for b in _read(table(rows))}
    assert periods["French"] == "P4" and periods["Drama"] == "P5"
    assert periods["Art"] == "P2" and periods["Latin"] == "P6"


def test_period_labels_with_a_gap_that_does_not_fit_are_left_alone() -> None:
    # Three labels where one number is missing: which one is which cannot be told, so none is renamed.
    rows = [["", "Monday"], ["P1", "Art"], ["ab", "PE"], ["cd", "Maths"], ["P3", "Music"]]
    periods = {" ".join(b.lines): b.period for b in _read(table(rows))}
    assert "P2" not in (periods["PE"], periods["Maths"])
    assert periods["Art"] == "P1" and periods["Music"] == "P3"


def test_period_labels_lost_by_ocr_take_the_number_of_their_row() -> None:
    # Breaks across every day are no lesson rows; the labels that were read count up one per lesson row.
    rows = [
        ["", "Monday", "Tuesday"],
        ["", "Assembly", "<"],
        ["", "Art", "PE"],
        ["2", "Maths", "Music"],
        ["", "Break", "<"],
        ["3", "French", "German"],
        ["", "Drama", "Dance"],
    ]
    periods = {" ".join(b.lines): b.period for b in _read(table(rows))}
    assert periods["Art"] == "1" and periods["Drama"] == "4"
    assert periods["Assembly"] is None and periods["Break"] is None


def test_a_range_whose_start_ocr_misread_keeps_its_end() -> None:
    """'6:90-7:10', '8:99-9:10': no such minute, so only the end was read. It starts where the block
    before it ends, or, first in the header, the header's usual length before its end."""
    t = table(
        [
            ["", "1|6:90-7:10", "2|7:10-7:50", "3|7:50-8:30", "4|8:99-9:10", "5|9:10-9:50", "6|N9:50-10:30"],
            ["Senin", "Art", "PE", "Maths", "Music", "Drama", "IT"],
        ]
    )
    assert _slots(_read(t, "id")) == {
        ("MON", "06:30", "07:10", None, "Art"), ("MON", "07:10", "07:50", None, "PE"),
        ("MON", "07:50", "08:30", None, "Maths"), ("MON", "08:30", "09:10", None, "Music"),
        ("MON", "09:10", "09:50", None, "Drama"), ("MON", "09:50", "10:30", None, "IT"),
    }  # fmt: skip
    periods = [b.period for b in _read(t, "id")]
    assert periods == ["1", "2", "3", "4", "5", "6"]


def test_a_first_range_misread_into_the_afternoon_keeps_its_end_and_the_usual_length() -> None:
    """'1:30-8:15' for '7:30-8:15' reads as 13:30-20:15, before a header of 45-minute periods from
    8:20: its end, twelve hours back, fits before the next start, and it lasts as long as they do."""
    t = table(
        [
            ["", "1|1:30-8:15", "2|8:20-9:05", "3|9:10-9:55", "4|10:20-11:05", "5|11:10-11:55"],
            ["Monday", "Art", "PE", "Maths", "Music", "Drama"],
        ]
    )
    assert ("MON", "07:30", "08:15", None, "Art") in _slots(_read(t))
    # A long block in its place keeps its printed times (a double practical at the end of the day).
    long_last = table(
        [
            ["", "8:20-9:05", "9:10-9:55", "10:20-11:05", "11:10-11:55", "12:00-13:30"],
            ["Monday", "Art", "PE", "Maths", "Music", "Lab"],
        ]
    )
    assert ("MON", "12:00", "13:30", None, "Lab") in _slots(_read(long_last))


def test_a_range_that_ends_before_it_starts_lost_its_start_to_ocr() -> None:
    """'17.20-10.50' between '9.05-9.50' and '10.50-11.35': a digit of the start was misread (a 7 for
    a 1), since the end, read after the block before, comes before it. The block starts where the one
    before it ends."""
    t = table(
        [
            ["", "8.20-9.05", "9.05-9.50", "17.20-10.50", "10.50-11.35"],
            ["Monday", "Art", "PE", "Maths", "Music"],
        ]
    )
    assert _slots(_read(t)) == {
        ("MON", "08:20", "09:05", None, "Art"), ("MON", "09:05", "09:50", None, "PE"),
        ("MON", "09:50", "10:50", None, "Maths"), ("MON", "10:50", "11:35", None, "Music"),
    }  # fmt: skip
    evening = table([["", "9.05-9.50", "17.20-18.50"], ["Monday", "PE", "Choir"]])
    assert ("MON", "17:20", "18:50", None, "Choir") in _slots(_read(evening))  # an evening block stays


def test_a_lone_time_right_of_its_labels_centre_is_the_end_of_a_range_read_in_half() -> None:
    """OCR reads only the end of a last label '14:10-14:55' printed centred, as '14:55' right of the
    label's centre: in a header of ranges that is the slot's end, and it starts the header's usual
    length before (a lunch break before it stays a break). A lone time centred in its label is a
    start."""
    from timetable_platform.domain.layout import BBox, Line, Word

    t = table(
        [
            ["", "8:30-9:15", "9:25-10:10", "10:20-11:05", "12:35-13:20", "14:55"],
            ["Monday", "Art", "PE", "Maths", "Music", "Latin"],
        ]
    )
    for cell in t.cells:
        cell.bbox = BBox(100 * cell.col, 100 * cell.row, 100 * cell.col + 100, 100 * cell.row + 100)
    last = next(c for c in t.cells if c.row == 0 and c.col == 5)
    printed = BBox(552, 40, 580, 50)  # starts right of the centre (550)
    last.lines = [Line(words=[Word("14:55", printed)], bbox=printed)]
    assert ("MON", "14:10", "14:55", None, "Latin") in _slots(_read(t))
    centred = BBox(536, 40, 564, 50)
    last.lines = [Line(words=[Word("14:55", centred)], bbox=centred)]
    assert ("MON", "14:55", None, None, "Latin") in _slots(_read(t))


def test_slots_a_minute_apart_meet_where_the_usual_length_says() -> None:
    """'8.00-8.44' then '8.45-9.30': no school breaks for a minute, so one of the two times is a misread
    digit; the slot the usual length fits is mended. A five-minute break stays."""
    t = table(
        [
            ["", "8.00-8.44", "8.45-9.30", "9.30-10.15", "10.30-11.15", "11.15-12.00"],
            ["Monday", "Art", "PE", "Maths", "Music", "Latin"],
        ]
    )
    assert _slots(_read(t)) == {
        ("MON", "08:00", "08:45", None, "Art"), ("MON", "08:45", "09:30", None, "PE"),
        ("MON", "09:30", "10:15", None, "Maths"), ("MON", "10:30", "11:15", None, "Music"),
        ("MON", "11:15", "12:00", None, "Latin"),
    }  # fmt: skip
    later = table(
        [
            ["", "8.00-8.45", "8.46-9.30", "9.30-10.15", "10.20-11.05"],
            ["Monday", "Art", "PE", "Maths", "Music"],
        ]
    )
    got = _slots(_read(later))
    assert ("MON", "08:45", "09:30", None, "PE") in got and ("MON", "10:20", "11:05", None, "Music") in got
    # A slot two minutes short of the length all the others share: its end's last digit misread.
    short = table(
        [
            ["", "8.00-8.45", "8.50-9.35", "9.40-10.25", "10.40-11.23", "11.30-12.15"],
            ["Monday", "Art", "PE", "Maths", "Music", "Latin"],
        ]
    )
    got = _slots(_read(short))
    assert ("MON", "10:40", "11:25", None, "Music") in got and ("MON", "11:30", "12:15", None, "Latin") in got
    # The same, its end meeting the next slot's start: the start was misread.
    meeting = table(
        [
            ["", "8.00-8.45", "8.50-9.35", "9.40-10.25", "10.42-11.25", "11.25-12.10"],
            ["Monday", "Art", "PE", "Maths", "Music", "Latin"],
        ]
    )
    assert ("MON", "10:40", "11:25", None, "Music") in _slots(_read(meeting))
    # A long slot is a double lesson, not a misread.
    double = table([["", "8.00-8.45", "8.50-9.35", "9.40-10.25", "10.40-12.10"], ["Monday", "Art", "PE", "Maths", "Drama"]])
    assert ("MON", "10:40", "12:10", None, "Drama") in _slots(_read(double))


def test_a_web_page_menu_and_advert_beside_the_grid_are_no_row_labels() -> None:
    """A school portal printed to PDF is one big table: a menu down the left and an advert on the right,
    each kept apart from the grid by an empty column, are page furniture, not activities of the rows."""
    t = table(
        [
            ["", "", "", "Monday", "Tuesday", "", "Sports day|sign up now"],
            ["Home|Grades|Messages", "", "08:10-08:55", "", "Art", "", "^"],
            ["^", "", "09:05-09:50", "Latin", "", "", ""],
            ["^", "", "10:00-10:45", "", "Drama", "", ""],
        ]
    )
    assert _slots(_read(t)) == {
        ("TUE", "08:10", "08:55", None, "Art"), ("MON", "09:05", "09:50", None, "Latin"),
        ("TUE", "10:00", "10:45", None, "Drama"),
    }  # fmt: skip


def test_a_note_spanning_several_timed_rows_is_no_label_of_theirs() -> None:
    """A note printed down the side next to the times ('Term 1 only', a menu with no gap to the grid)
    spans rows the time column labels one by one: it names none of them."""
    t = table(
        [
            ["", "", "Monday", "Tuesday"],
            ["Lower|school", "08:10-08:55", "", "Art"],
            ["^", "09:05-09:50", "Latin", ""],
            ["", "10:00-10:45", "Drama", ""],
        ]
    )
    assert _slots(_read(t)) == {
        ("TUE", "08:10", "08:55", None, "Art"), ("MON", "09:05", "09:50", None, "Latin"),
        ("MON", "10:00", "10:45", None, "Drama"),
    }  # fmt: skip


def test_a_misread_start_after_a_block_whose_end_was_lost_is_the_usual_length_before_its_end() -> None:
    """'11:40' (its end lost) then '12:90-13:10' (no such minute): neither neighbour gives the boundary,
    so the misread range starts the header's usual length before its end, and the block before it
    ends there; the end read is never taken for a start."""
    t = table(
        [
            ["", "1|8:00-8:40", "2|8:40-9:20", "Recess|9:20", "3|9:90-10:20", "4|10:20-11:00"],
            ["Monday", "Art", "PE", "Recess", "Maths", "Music"],
        ]
    )
    assert _slots(_read(t)) == {
        ("MON", "08:00", "08:40", None, "Art"), ("MON", "08:40", "09:20", None, "PE"),
        ("MON", "09:20", "09:40", None, "Recess"), ("MON", "09:40", "10:20", None, "Maths"),
        ("MON", "10:20", "11:00", None, "Music"),
    }  # fmt: skip


def test_lost_labels_after_a_start_alone_share_its_time_in_usual_periods() -> None:
    """'10:20-' (its end lost) and an unreadable label, then '11:40': eighty minutes are two of the
    header's forty-minute periods, one each; a time that is no whole number of periods is left alone."""
    rows = [
        ["", "1|8:00-8:40", "2|8:40-9:20", "3|9:20-10:00", "4|10:00-", "5|", "6|11:20-12:00"],
        ["Monday", "Art", "PE", "Maths", "Music", "Drama", "IT"],
    ]
    slots = _slots(_read(table(rows)))
    assert ("MON", "10:00", "10:40", None, "Music") in slots and ("MON", "10:40", "11:20", None, "Drama") in slots
    rows[0][6] = "6|11:30-12:10"
    slots = _slots(_read(table(rows)))
    assert ("MON", "10:40", "11:20", None, "Drama") not in slots


def test_named_untimed_columns_after_a_timed_week_are_not_lessons() -> None:
    """A subject list or totals printed beside the week ('Subjects' | 'Hours') is not a lesson column;
    an untimed break column at the end and untimed columns among timed ones still are."""
    t = table(
        [
            ["", "08:00-08:45", "08:45-09:30", "09:30-10:15", "Subjects", "Hours"],
            ["Monday", "Art", "PE", "Maths", "Art", "2"],
            ["Tuesday", "PE", "Maths", "Art", "Maths", "3"],
        ]
    )
    assert {s[4] for s in _slots(_read(t))} == {"Art", "PE", "Maths"}
    assert len(_read(t)) == 6
    with_break = table(
        [
            ["", "08:00-08:45", "08:45-09:30", "09:30-10:15", "Lunch"],
            ["Monday", "Art", "PE", "Maths", "Lunch"],
        ]
    )
    assert len(_read(with_break)) == 4


def test_period_numbers_count_past_break_rows_and_a_short_misread_label() -> None:
    """Periods 1-5 after a registration row, with a break cell in every day's column between 2 and 3:
    OCR lost '1' ('–') and read '3' as a short word ('Del'). Break and registration rows are no
    lesson rows, so the read numbers fit the count and the lost ones are restored; the misread label
    is no activity for the empty day."""
    t = table(
        [
            ["", "Mon", "Tue"],
            ["", "Registration", "Registration"],
            ["–", "Maths", "Art"],
            ["2", "PE", "Music"],
            ["", "Break", "Break"],
            ["Del", "", "Latin"],
            ["4", "History", "French"],
            ["5", "Drama", "Science"],
        ]
    )
    blocks = _read(t)
    periods = {(b.day, " ".join(b.lines)): b.period for b in blocks}
    assert periods[("MON", "Maths")] == "1" and periods[("TUE", "Latin")] == "3"
    assert periods[("TUE", "Science")] == "5"
    assert not any("Del" in " ".join(b.lines) or b.subject == "Del" for b in blocks)
    assert periods[("MON", "Registration")] is None  # a registration row is no period '0'


def test_slot_labels_whose_colons_ocr_lost_are_still_times() -> None:
    """A time column read from a photo: '845-930' and '1055 - 1140' lost their separators; in a slot
    label they can only be times. A school year ('2024-2025') is no lesson's length and stays."""
    from timetable_platform.reading.grid import _slot_times

    start, _, _ = _slot_times(["845-930"])
    assert start is not None and (start.start.hhmm(), start.end.hhmm() if start.end else None) == ("08:45", "09:30")
    start, _, _ = _slot_times(["1055 - 1140"])
    assert start is not None and (start.start.hhmm(), start.end.hhmm() if start.end else None) == ("10:55", "11:40")
    start, _, _ = _slot_times(["2024-2025"])
    assert start is None or start.end is None or start.end.minutes - start.start.minutes > 240


def test_a_slot_label_stacking_its_start_over_its_end_keeps_both_when_colons_are_lost() -> None:
    """A period number beside its start and end printed one above the other ('4' then '10:45' over
    '11:25'), read from a small scan without the colons. A year under a year stays no time."""
    from timetable_platform.reading.grid import _slot_times

    first, second, period = _slot_times(["4 1045\n1125"])
    assert first is not None and second is not None and period == "4"
    assert (first.start.hhmm(), second.start.hhmm()) == ("10:45", "11:25")
    first, second, _ = _slot_times(["2024\n2025"])
    assert first is None and second is None


def test_zero_padded_hours_after_noon_are_afternoon_times() -> None:
    """'12:00 - 01:00' then '01:00 - 02:00': a 12-hour clock with padded hours, as many schools print
    it. A padded hour that would run the day backwards after noon is in the afternoon; padded morning
    hours before noon stay as printed."""
    t = table(
        [
            ["", "1|08:00 - 09:00", "2|09:00 - 10:00", "LUNCH|12:00 - 01:00", "3|01:00 - 02:00", "4|02:00 - 02:55"],
            ["MON", "Maths", "Physics", "", "English", "Chemistry"],
            ["TUE", "Physics", "Maths", "", "Chemistry", "English"],
        ]
    )
    got = _timed_texts(t)
    assert ("MON", "08:00", "09:00", "Maths") in got
    assert ("MON", "13:00", "14:00", "English") in got
    assert ("TUE", "14:00", "14:55", "English") in got


def test_small_print_under_a_large_name_is_no_part_of_the_name() -> None:
    """An export prints the lesson's name large and its room and teacher codes small in the cell's
    corners; OCR gives each corner a line of its own. A corner's plain word ('Orangery') is where the
    lesson is, not more of its name; a line in print of the name's size still is."""
    from timetable_platform.domain.layout import Cell
    from timetable_platform.reading.cells import CellSplitter
    from timetable_platform.reading.grid import cell_text_lines

    line = _sized_line
    corner = Cell(row=1, col=1, text="", lines=[line("Biology", 10, 21), line("Orangery", 50, 9), line("MEI", 50, 9)])
    lines, styles = cell_text_lines(corner)
    fields = CellSplitter().split(lines, styles=styles)
    assert (fields.subject, fields.room, fields.teacher) == ("Biology", "Orangery", "MEI")
    # Under a class code printed small in the corner above it, the name is the second line, and the
    # code is no part of it, even misread into a word ('sb' for '5b' in a photo).
    atop = Cell(row=1, col=1, text="", lines=[line("5b", 2, 9), line("Physics", 14, 21), line("S111", 50, 9)])
    assert cell_text_lines(atop)[1] == ["small", None, "small"]
    misread = Cell(row=1, col=1, text="", lines=[line("sb", 2, 9), line("Physics", 14, 21), line("S111", 50, 9)])
    lines, styles = cell_text_lines(misread)
    fields = CellSplitter().split(lines, styles=styles)
    assert (fields.subject, fields.room, fields.group) == ("Physics", "S111", "sb")
    teacher_atop = Cell(row=1, col=1, text="", lines=[line("MEI", 2, 9), line("Physics", 14, 21)])
    lines, styles = cell_text_lines(teacher_atop)
    assert (CellSplitter().split(lines, styles=styles).subject, CellSplitter().split(lines, styles=styles).teacher) == (
        "Physics", "MEI",
    )
    # A name with no letter below the line stands only half as tall again as the codes ('Deutsch' over
    # a class code misread 'x'): still small print beside it.
    uppercase = Cell(row=1, col=1, text="", lines=[line("x", 2, 12), line("Deutsch", 16, 18), line("WEB", 50, 12)])
    lines, styles = cell_text_lines(uppercase)
    fields = CellSplitter().split(lines, styles=styles)
    assert (fields.subject, fields.group) == ("Deutsch", "x")
    # A lesson plan prints the day's topic small under the name: without codes beside it, a note.
    topic = Cell(row=1, col=1, text="", lines=[line("Maths", 10, 21), line("Arithmetic Test", 50, 9)])
    lines, styles = cell_text_lines(topic)
    fields = CellSplitter().split(lines, styles=styles)
    assert (fields.subject, fields.room, fields.notes) == ("Maths", None, "Arithmetic Test")
    wrapped = Cell(row=1, col=1, text="", lines=[line("Design and", 10, 20), line("Technology", 34, 19)])
    lines, styles = cell_text_lines(wrapped)
    assert CellSplitter().split(lines, styles=styles).subject == "Design and Technology"


def test_a_day_name_wrapped_over_two_lines_with_its_hyphen_misread_is_still_the_day() -> None:
    """'Segunda-feira' printed over two lines in a narrow day column comes out of OCR as 'Segund / feira'
    (the cell's edge took the 'a-') or 'Quarta: / feira' (the hyphen read as a colon): between the days
    read, still the day its place calls for. A two-word room name in its place is no day."""
    t = table(
        [
            ["", "08:30-09:15", "09:20-10:05"],
            ["Segund|feira", "Filosofia", "Inglês"],
            ["Terça-|feira", "Matemática", "Física"],
            ["Quarta:|feira", "História", "Biologia"],
            ["Quinta-|feira", "Português", "Química"],
            ["Sexta-|feira", "Artes", "Música"],
        ]
    )
    days = {(day, text) for day, _, _, _, text in _slots(_read(t, language="pt"))}
    assert {("MON", "Filosofia"), ("WED", "História"), ("FRI", "Artes")} <= days
    rooms = table(
        [
            ["", "08:30-09:15"],
            ["Segunda-|feira", "Filosofia"],
            ["Aula|Magna", "Inglês"],
            ["Quarta-|feira", "História"],
        ]
    )
    assert ("TUE", "Inglês") not in {(day, text) for day, _, _, _, text in _slots(_read(rooms, language="pt"))}
    # Two days' names run together in one label (a header cut wrong) are neither day.
    joined = table(
        [
            ["", "08:30-09:15"],
            ["Monday", "Maths"],
            ["Tuesday|Wednesday", "Art"],
            ["Thursday", "Music"],
            ["Friday", "Latin"],
        ]
    )
    assert ("WED", "Art") not in {(day, text) for day, _, _, _, text in _slots(_read(joined, language="en"))}


def test_the_name_under_a_corner_room_and_batch_label_is_the_largest_print() -> None:
    """A lab batch's half of a cell prints its room and batch label small across the top ('C12',
    'Group 2'), which OCR gives a line each, then the name large: both small lines are corner print."""
    from timetable_platform.domain.layout import Cell
    from timetable_platform.reading.cells import CellSplitter
    from timetable_platform.reading.grid import cell_text_lines

    line = _sized_line
    half = Cell(row=1, col=1, text="", lines=[line("C12", 2, 9), line("Group 2", 3, 10), line("Botany", 16, 19),
                                              line("PRW", 40, 9)])  # fmt: skip
    lines, styles = cell_text_lines(half)
    assert styles == ["small", "small", None, "small"]
    fields = CellSplitter().split(lines, styles=styles)
    assert (fields.subject, fields.room, fields.group, fields.teacher) == ("Botany", "C12", "Group 2", "PRW")
    # Two codes atop (a misread speck and the class) over the name: both corner print, the name stays.
    speck = Cell(row=1, col=1, text="", lines=[line("r", 2, 9), line("3C", 3, 9), line("Botany", 16, 19),
                                               line("PRW", 40, 9)])  # fmt: skip
    lines, styles = cell_text_lines(speck)
    assert CellSplitter().split(lines, styles=styles).subject == "Botany"


def test_two_batches_in_halves_of_one_period_are_two_lessons() -> None:
    """A day row cut into two lanes by one period printed as two halves ('Group 1' over 'Group 2'),
    while the day's other cells are whole: the lanes are no artefact to join there, each half is its
    batch's lesson; elsewhere the whole cells read as usual."""
    t = table(
        [
            ["", "1|08:00 - 09:00", "2|09:00 - 10:00", "3|10:00 - 11:00"],
            ["MON", "R4|Geometry|KLR", "Lab 2|Group 1|Botany|PRW", "A-04|Poetry|DSM"],
            ["^", "^", "Lab 3|Group 2|Zoology|HNT", "^"],
            ["TUE", "A-04|Poetry|DSM", "R4|Geometry|KLR", "115|Botany|PRW"],
        ]
    )
    got = _slots(_read(t))
    assert ("MON", "09:00", "10:00", None, "Lab 2 Group 1 Botany PRW") in got
    assert ("MON", "09:00", "10:00", None, "Lab 3 Group 2 Zoology HNT") in got
    assert ("MON", "08:00", "09:00", None, "R4 Geometry KLR") in got


def test_a_header_time_off_the_five_minute_marks_the_others_keep_is_a_misread_digit() -> None:
    """A bell schedule's times sit on five-minute marks; in a photo's small header print OCR misreads a
    digit ('10:49' for '10:40', '01:48' for '01:45'). The misread time is set the usual lesson length
    from the range's other end. A header whose times are off the marks anyway is read as printed."""
    t = table(
        [
            ["", "1|08:00 - 08:55", "2|09:05 - 10:00", "3|10:49 - 11:35", "4|11:45 - 12:40", "5|12:50 - 01:48"],
            ["MON", "Maths", "Physics", "Art", "English", "Chemistry"],
            ["TUE", "Physics", "Maths", "Music", "Chemistry", "English"],
        ]
    )
    got = _timed_texts(t)
    assert ("MON", "10:40", "11:35", "Art") in got
    assert ("TUE", "12:50", "13:45", "English") in got
    odd = table(
        [
            ["", "1|08:03 - 08:51", "2|08:56 - 09:44", "3|09:49 - 10:37", "4|10:42 - 11:30"],
            ["MON", "Maths", "Physics", "Art", "English"],
        ]
    )
    assert ("MON", "09:49", "10:37", "Art") in _timed_texts(odd)


def test_numbered_periods_whose_times_were_not_read_follow_their_neighbours() -> None:
    """A photo's shadow or curled edge can take all the print of the last (or first) period's times,
    leaving its number. Where the header's ranges share one length and one changeover, the period
    follows its neighbour at those; a header of uneven lengths leaves it untimed."""
    t = table(
        [
            ["", "1", "2|09:00 - 09:50", "3|10:00 - 10:50", "4|11:00 - 11:50", "5|12:00 - 12:50", "6"],
            ["MON", "Maths", "Physics", "Art", "English", "Music", "Chemistry"],
        ]
    )
    got = _timed_texts(t)
    assert ("MON", "13:00", "13:50", "Chemistry") in got
    assert ("MON", "08:00", "08:50", "Maths") in got
    uneven = table(
        [
            ["", "1|08:00 - 08:40", "2|08:50 - 09:50", "3|10:00 - 11:30", "4|11:40 - 12:00", "5"],
            ["MON", "Maths", "Physics", "Art", "Music", "English"],
        ]
    )
    assert ("MON", None, None, "English") in _timed_texts(uneven)
