"""Tables rebuilt from words and ruling lines (unruled PDFs, OCR)."""

from __future__ import annotations

from timetable_platform.domain.layout import BBox, Page, Table, Word
from timetable_platform.reading.grid import read_grid
from timetable_platform.reading.tablefind import table_from_rulings, table_from_words


def _word(text: str, x: float, y: float, w: float | None = None) -> Word:
    return Word(text=text, bbox=BBox(x, y, x + (w or 7 * len(text)), y + 10))


def _hline(y: float, x0: float, x1: float) -> BBox:
    return BBox(x0, y - 0.5, x1, y + 0.5)


def _vline(x: float, y0: float, y1: float) -> BBox:
    return BBox(x - 0.5, y0, x + 0.5, y1)


def _read_blocks(table: Table) -> set[tuple[str, str | None, str]]:
    """(day, start, text) of every block the grid reader reads from the table."""
    reading = read_grid(table)
    assert reading is not None
    return {(b.day, b.start.hhmm() if b.start else None, " ".join(b.lines)) for b in reading.blocks}


def test_rulings_give_slots_and_a_missing_segment_gives_a_span() -> None:
    xs, ys = [0, 100, 200, 300], [0, 30, 60, 90]
    rulings = [_hline(y, 0, 300) for y in (0, 90)] + [_hline(y, 0, 300) for y in (30,)]
    # The line at y=60 is missing under the Monday column: Maths spans two rows there.
    rulings += [_hline(60, 0, 100), _hline(60, 200, 300)]
    rulings += [_vline(x, 0, 90) for x in xs]
    words = [
        _word("Time", 5, 10),
        _word("Mon", 105, 10),
        _word("Tue", 205, 10),
        _word("9:00-10:00", 5, 40),
        _word("Maths", 105, 55),
        _word("Art", 205, 40),
        _word("10:00-11:00", 5, 70),
        _word("PE", 205, 70),
    ]
    page = Page(number=1, width=300, height=100, words=words, rulings=rulings)
    t = table_from_rulings(page)
    assert t is not None and (t.n_rows, t.n_cols) == (len(ys) - 1, len(xs) - 1)
    maths = next(c for c in t.cells if c.text == "Maths")
    assert (maths.row, maths.col, maths.rowspan, maths.colspan) == (1, 1, 2, 1)
    reading = read_grid(t)
    assert reading is not None
    got = {(b.day, b.start.hhmm(), b.end.hhmm(), b.lines[0]) for b in reading.blocks if b.start and b.end}
    assert got == {
        ("MON", "09:00", "11:00", "Maths"),
        ("TUE", "09:00", "10:00", "Art"),
        ("TUE", "10:00", "11:00", "PE"),
    }


def test_wrapped_text_spilling_over_a_short_row_is_read_in_the_row_it_is_centred_on() -> None:
    """A spreadsheet printout: a one-hour row too short for its three wrapped lines prints them
    centred on it, over the row lines above and below; the rows around it stay empty."""
    xs, ys = [0, 100, 200, 300], [0, 20, 40, 60, 80]
    rulings = [_hline(y, 0, 300) for y in ys] + [_vline(x, 0, 80) for x in xs]
    words = [
        _word("Time", 5, 5), _word("Mon", 105, 5), _word("Tue", 205, 5), _word("Art", 205, 45),
        _word("8:00-9:00", 5, 25), _word("9:00-10:00", 5, 45), _word("10:00-11:00", 5, 65),
        # Centred on the 9:00 row (40-60): 35-45, 45-55 and 55-65, tightly spaced.
        _word("Cooking", 105, 35), _word("and", 105, 45), _word("tidying", 105, 55),
    ]  # fmt: skip
    page = Page(number=1, width=300, height=100, words=words, rulings=rulings)
    t = table_from_rulings(page)
    assert t is not None
    assert {c.row: c.text for c in t.cells if c.col == 1 and c.text} == {0: "Mon", 2: "Cooking\nand\ntidying"}
    # Text of a cell's own above a spill is no part of it: lines crowded together stay where they are.
    crowded = Page(number=1, width=300, height=100, words=[*words, _word("Choir", 105, 24)], rulings=rulings)
    t = table_from_rulings(crowded)
    assert t is not None and {c.row: c.text for c in t.cells if c.col == 1 and c.text}[1].startswith("Choir")


def test_hour_labels_set_tightly_in_an_unruled_printout_are_each_a_row() -> None:
    """A spreadsheet printed without borders: one-hour rows only a line apart, '7h', '8h', '9h' ...
    down the label column, lessons beside them. Each hour is a row of its own; a start and an end
    stacked in one label (close together, then far from the next) stay one label."""
    hours = ["7h", "8h", "9h", "10h", "11h"]
    words = [_word("Mon", 105, 5), _word("Tue", 205, 5), _word("Wed", 305, 5)]
    words += [_word(h, 5, 22 + 12 * k) for k, h in enumerate(hours)]
    words += [_word("Maths", 105, 34), _word("Art", 205, 58), _word("Choir", 305, 70)]
    t = table_from_words(words)
    assert t is not None
    assert _read_blocks(t) == {("MON", "08:00", "Maths"), ("TUE", "10:00", "Art"), ("WED", "11:00", "Choir")}
    stacked = [_word("Mon", 105, 5), _word("Tue", 205, 5), _word("Wed", 305, 5)]
    for k, (start, end) in enumerate((("8:00", "8:45"), ("9:00", "9:45"), ("10:00", "10:45"))):
        stacked += [_word(start, 5, 30 + 40 * k), _word(end, 5, 41 + 40 * k)]
        stacked += [_word(("Maths", "Art", "PE")[k], 105, 35 + 40 * k)]
    t = table_from_words(stacked)
    assert t is not None and ("MON", "09:00", "Art") in _read_blocks(t)


def test_a_lesson_centred_in_its_filled_box_spans_the_rows_the_box_covers() -> None:
    """A borderless printout: Maths's fill covers the 8h and 9h rows, its name printed once in the
    middle; Art's fill covers one row. The fills, not the text, give each lesson's length."""
    hours = ["7h", "8h", "9h", "10h"]
    words = [_word("Mon", 105, 5), _word("Tue", 205, 5), _word("Wed", 305, 5)]
    words += [_word(h, 5, 22 + 12 * k) for k, h in enumerate(hours)]
    words += [_word("Maths", 105, 40), _word("Art", 205, 46), _word("PE", 305, 58)]
    fills = [BBox(100, 32, 200, 56), BBox(200, 44, 300, 56)]  # Maths: 8h-10h; Art: 9h-10h
    t = table_from_words(words, fills)
    assert t is not None
    reading = read_grid(t)
    assert reading is not None
    got = {(b.day, b.start.hhmm(), b.end.hhmm(), b.lines[0]) for b in reading.blocks if b.start and b.end}
    assert ("MON", "08:00", "10:00", "Maths") in got and ("TUE", "09:00", "10:00", "Art") in got


def test_a_band_painted_across_the_days_with_its_name_printed_once_is_a_lesson_on_each() -> None:
    """A borderless printout's evening course: one fill across Monday to Wednesday at 10h, its name
    printed once in the middle; Art's own fill on Monday at 8h is a lesson of one day."""
    hours = ["7h", "8h", "9h", "10h"]
    words = [_word("Mon", 105, 5), _word("Tue", 205, 5), _word("Wed", 305, 5)]
    words += [_word(h, 5, 22 + 12 * k) for k, h in enumerate(hours)]
    words += [_word("Art", 105, 34), _word("PE", 305, 46), _word("Choir", 205, 58)]
    fills = [BBox(100, 32, 200, 44), BBox(100, 56, 400, 68)]
    t = table_from_words(words, fills)
    assert t is not None
    got = {(day, start, text) for day, start, text in _read_blocks(t) if text in ("Choir", "Art")}
    assert got == {("MON", "10:00", "Choir"), ("TUE", "10:00", "Choir"), ("WED", "10:00", "Choir"), ("MON", "08:00", "Art")}


def test_a_heading_underline_and_a_footer_rule_are_no_edges_of_the_grid() -> None:
    """A title underlined above the table and a signature line below it cross no ruling of the table
    and are shorter than it: the grid runs from the table's own top edge to its bottom edge, and the
    title's words are no row of it."""
    xs, ys = [100, 200, 300, 400], [100, 130, 160, 190]
    rulings = [_hline(y, 100, 400) for y in ys] + [_vline(x, 100, 190) for x in xs]
    rulings += [_hline(60, 180, 320), _hline(260, 20, 140)]  # under the title; the signature line
    words = [
        _word("Class", 190, 45), _word("Timetable", 240, 45),
        _word("Time", 105, 110), _word("Mon", 205, 110), _word("Tue", 305, 110),
        _word("9:00-10:00", 105, 140), _word("Maths", 205, 140), _word("Art", 305, 140),
        _word("10:00-11:00", 105, 170), _word("PE", 305, 170),
        _word("Principal", 20, 270),
    ]  # fmt: skip
    page = Page(number=1, width=500, height=300, words=words, rulings=rulings)
    t = table_from_rulings(page)
    assert t is not None and t.bbox == BBox(100, 100, 400, 190)
    assert (t.n_rows, t.n_cols) == (3, 3)
    # A rule across the whole table over a header band the column rules do not reach is its top edge.
    banded = Page(number=1, width=500, height=300, words=words, rulings=[*rulings, _hline(75, 100, 400)])
    t = table_from_rulings(banded)
    assert t is not None and t.bbox == BBox(100, 75, 400, 190)


def test_words_only_table_uses_shared_column_gaps() -> None:
    words = [
        _word("Time", 0, 0),
        _word("Monday", 120, 0),
        _word("Tuesday", 240, 0),
        _word("9:00-10:00", 0, 30),
        _word("Maths", 120, 30),
        _word("Art", 240, 30),
        _word("10:00-11:00", 0, 60),
        _word("Science", 120, 60),
        _word("Music", 240, 60),
    ]
    t = table_from_words(words)
    assert t is not None and (t.n_rows, t.n_cols) == (3, 3)
    reading = read_grid(t)
    assert reading is not None
    got = {(b.day, b.start.hhmm(), b.lines[0]) for b in reading.blocks if b.start}
    assert got == {
        ("MON", "09:00", "Maths"),
        ("TUE", "09:00", "Art"),
        ("MON", "10:00", "Science"),
        ("TUE", "10:00", "Music"),
    }


def test_no_words_no_table() -> None:
    page = Page(number=1, width=100, height=100)
    assert table_from_rulings(page) is None and table_from_words(page.words) is None


def test_unruled_rows_anchor_on_label_column_and_lone_break_spans_the_week() -> None:
    # Label column with one line per row, body cells with two lines; a break printed once in Monday's column.
    words = [
        _word("Zeit", 0, 0),
        _word("Mo", 100, 0),
        _word("Di", 200, 0),
        _word("Mi", 300, 0),
        _word("8:00-8:45", 0, 30),
        _word("Mathe", 100, 30),
        _word("Sport", 200, 30),
        _word("Kunst", 300, 30),
        _word("KOH", 100, 41),
        _word("SCM", 200, 41),
        _word("ZIM", 300, 41),
        _word("8:45-9:00", 0, 70),
        _word("Pause", 100, 70),
        _word("9:00-9:45", 0, 100),
        _word("Physik", 100, 100),
        _word("Musik", 200, 100),
        _word("Latein", 300, 100),
        _word("LEH", 100, 111),
        _word("KLE", 200, 111),
        _word("HOF", 300, 111),
    ]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 4
    mathe = next(c for c in t.cells if c.text.startswith("Mathe"))
    assert mathe.text == "Mathe\nKOH" and mathe.rowspan == 1
    pause = next(c for c in t.cells if c.text == "Pause")
    assert pause.colspan == 3
    reading = read_grid(t, language="de")
    assert reading is not None
    assert {b.day for b in reading.blocks if b.lines == ["Pause"]} == {"MON", "TUE", "WED"}


def test_random_words_and_rulings_never_raise() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from timetable_platform.domain.layout import Layout
    from timetable_platform.reading.interpret import interpret

    coords = st.floats(0, 500, allow_nan=False)
    word = st.builds(
        lambda t, x, y, w: _word(t, x, y, w),
        st.sampled_from(["Mon", "Tue", "9:00-10:00", "Maths", "Break", "P1", "x"]),
        coords,
        coords,
        st.floats(1, 80, allow_nan=False),
    )
    ruling = st.one_of(
        st.builds(lambda y, a, b: _hline(y, min(a, b), max(a, b) + 1), coords, coords, coords),
        st.builds(lambda x, a, b: _vline(x, min(a, b), max(a, b) + 1), coords, coords, coords),
    )

    @settings(max_examples=80, deadline=None)
    @given(st.lists(word, max_size=40), st.lists(ruling, max_size=12))
    def check(words: list[Word], rulings: list[BBox]) -> None:
        page = Page(number=1, width=600, height=600, words=words, rulings=rulings)
        for table in (table_from_rulings(page), table_from_words(words)):
            if table is None:
                continue
            covered: set[tuple[int, int]] = set()
            for c in table.cells:
                assert 0 <= c.row < c.row_end <= table.n_rows and 0 <= c.col < c.col_end <= table.n_cols
                slots = {(r, k) for r in range(c.row, c.row_end) for k in range(c.col, c.col_end)}
                assert not slots & covered  # every slot belongs to one cell
                covered |= slots
        interpret(Layout(pages=[page], media_type="image/png", reader="test"))

    check()


def test_heading_above_an_unruled_table_and_a_sparse_break_column() -> None:
    # A centred title crosses the column gaps; the break column holds text in one row only (days as rows).
    words = [
        _word("Timetable", 120, -40),
        _word("Class", 190, -40),
        _word("7B", 235, -40),
        _word("Day", 0, 0),
        _word("9:00-10:00", 80, 0),
        _word("10:00-10:15", 180, 0),
        _word("10:15-11:15", 280, 0),
        _word("Mon", 0, 30),
        _word("Maths", 80, 30),
        _word("Art", 280, 30),
        _word("Tue", 0, 60),
        _word("PE", 80, 60),
        _word("Break", 180, 60),
        _word("Music", 280, 60),
        _word("Wed", 0, 90),
        _word("Latin", 80, 90),
        _word("Drama", 280, 90),
    ]
    t = table_from_words(words)
    assert t is not None and t.n_cols == 4
    reading = read_grid(t)
    assert reading is not None
    breaks = {(b.day, b.start.hhmm()) for b in reading.blocks if b.lines == ["Break"] and b.start}
    assert breaks == {("MON", "10:00"), ("TUE", "10:00"), ("WED", "10:00")}


def test_unlabelled_header_row_and_break_row_become_rows() -> None:
    # The day header and a break row have nothing in the label column; the title above is no row.
    words = [
        _word("Timetable", 130, -60),
        _word("3C", 210, -60),
        _word("Monday", 100, 0),
        _word("Tuesday", 200, 0),
        _word("P1", 0, 30),
        _word("Maths", 100, 30),
        _word("Art", 200, 30),
        _word("Break", 100, 60),
        _word("P2", 0, 90),
        _word("French", 100, 90),
        _word("Music", 200, 90),
    ]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 4
    reading = read_grid(t)
    assert reading is not None
    got = {(b.day, b.period, b.lines[0]) for b in reading.blocks}
    assert ("MON", "P1", "Maths") in got and ("TUE", "P2", "Music") in got
    assert {d for d, _, text in got if text == "Break"} == {"MON", "TUE"}


def test_a_registration_row_above_the_first_period_is_a_row_and_the_header_sits_above_it() -> None:
    """'Registration' printed once, with no label, between the day header and period 1: a row across
    the days, and the header (further from the first label than a header usually stands) still a row."""
    words = [
        _word("Monday", 100, 0),
        _word("Tuesday", 200, 0),
        _word("Wednesday", 300, 0),
        _word("Registration", 100, 30),
        _word("P1", 0, 60),
        _word("Maths", 100, 60),
        _word("Art", 200, 60),
        _word("Music", 300, 60),
        _word("P2", 0, 90),
        _word("French", 100, 90),
        _word("Music", 200, 90),
        _word("Art", 300, 90),
    ]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 4
    reading = read_grid(t)
    assert reading is not None
    got = {(b.day, b.period, b.lines[0]) for b in reading.blocks}
    assert ("MON", "P1", "Maths") in got and ("WED", "P2", "Art") in got
    assert {d for d, _, text in got if text == "Registration"} == {"MON", "TUE", "WED"}


def test_loosely_spaced_two_line_cells_of_an_unruled_table_stay_one_cell() -> None:
    """A web table read by OCR: rows 80 apart, each cell a name and a room 14 apart (more than a text
    height, line spacing 1.5): the room stays in its cell, it is no row of its own."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr("Mon", 150, 30), ocr("Tue", 300, 30)]
    for row, (start, end) in enumerate((("8:00", "8:45"), ("9:00", "9:45"), ("10:00", "10:45"))):
        top = 70 + 80 * row
        words.append(ocr(f"{start}-{end}", 10, top + 10))
        for col, x in enumerate((150, 300)):
            words += [ocr(f"Subject{row}{col}", x, top), ocr(f"Room {row}{col}", x, top + 26)]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 4
    reading = read_grid(t)
    assert reading is not None
    cells = {(b.day, b.start.hhmm() if b.start else None): " | ".join(b.lines) for b in reading.blocks}
    assert cells[("MON", "08:00")] == "Subject00 | Room 00"
    assert cells[("TUE", "10:00")] == "Subject21 | Room 21"
    assert len(reading.blocks) == 6


def test_record_rows_under_a_day_named_once_stay_one_row_each() -> None:
    """An unruled record table read by OCR: the day stands once in the first column, beside the first
    of its rows; every row prints its own start and end. The rows' pitch comes from the time column,
    so the subjects of consecutive rows do not merge into one tall cell."""
    from timetable_platform.reading.records import read_records

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr(h, x, 10) for h, x in (("Day", 10), ("Start", 120), ("End", 220), ("Subject", 320), ("Room", 520))]
    rows = [("Monday", "8.10", "8.55", "Biology", "R1"), (None, "9.05", "9.50", "Chemistry", "R2"),
            (None, "10.00", "10.25", "Break", None), ("Tuesday", "8.10", "8.55", "History", "R3"),
            (None, "9.05", "9.50", "Drawing", "R4")]  # fmt: skip
    for i, (day, start, end, subject, room) in enumerate(rows):
        y = 40 + 28 * i
        words += [ocr(start, 120, y), ocr(end, 220, y), ocr(subject, 320, y)]
        words += [ocr(day, 10, y)] if day else []
        words += [ocr(room, 520, y)] if room else []
    table = table_from_words(words)
    assert table is not None and table.n_rows == 6
    entries = read_records(table)
    assert entries is not None
    assert [(e.day, e.start, e.end, e.subject, e.room) for e in entries] == [
        ("MON", "08:10", "08:55", "Biology", "R1"),
        ("MON", "09:05", "09:50", "Chemistry", "R2"),
        ("MON", "10:00", "10:25", "Break", None),
        ("TUE", "08:10", "08:55", "History", "R3"),
        ("TUE", "09:05", "09:50", "Drawing", "R4"),
    ]


def test_a_label_below_the_one_line_read_of_its_cells_is_still_their_row() -> None:
    """A photographed web table: each time label stands level with the middle of three-line cells, but
    OCR read only the cells' top line (the small teacher and room lines lost), so label and cells no
    longer overlap. A bare label and the unlabelled row of cells just above it are one row."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr("Time", 10, 20), ocr("Mon", 200, 20), ocr("Tue", 350, 20), ocr("Wed", 500, 20)]
    rows = [("8:00-8:45", ("Maths", "Art", "Drama")), ("8:50-9:35", ("Music", "Latin", "Maths")),
            ("9:40-10:25", ("Dance", "Greek", "Chess"))]  # fmt: skip
    for row, (span, subjects) in enumerate(rows):
        top = 60 + 60 * row
        words.append(ocr(span, 10, top + 18))  # the label, level with the lost middle line
        words += [ocr(subject, x, top) for subject, x in zip(subjects, (200, 350, 500), strict=True)]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 4
    got = _read_blocks(t)
    assert got == {
        ("MON", "08:00", "Maths"), ("TUE", "08:00", "Art"), ("WED", "08:00", "Drama"),
        ("MON", "08:50", "Music"), ("TUE", "08:50", "Latin"), ("WED", "08:50", "Maths"),
        ("MON", "09:40", "Dance"), ("TUE", "09:40", "Greek"), ("WED", "09:40", "Chess"),
    }  # fmt: skip


def test_the_header_of_day_names_is_a_row_of_its_own_however_close_the_first_row() -> None:
    """A web table photographed: rows stand far apart (loose line spacing), but the header band of day
    names sits close above the first row. Its words join no cell of the row below."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr("Time", 10, 20), ocr("SEG", 200, 20), ocr("TER", 350, 20), ocr("QUA", 500, 20)]
    for row, (span, subjects) in enumerate((("7.30 - 7.50", ("Artes", "Latim", "Drama")),
                                            ("7.55 - 8.40", ("Danca", "Grego", "Xadrez")),
                                            ("8.45 - 9.30", ("Fisica", "Musica", "Artes")))):  # fmt: skip
        top = 40 + 60 * row
        words.append(ocr(span, 10, top))
        words += [ocr(subject, x, top) for subject, x in zip(subjects, (200, 350, 500), strict=True)]
    table = table_from_words(words)
    assert table is not None
    got = _read_blocks(table)
    assert ("MON", "07:30", "Artes") in got and ("WED", "08:45", "Artes") in got and len(got) == 9


def test_lines_of_tall_cells_centred_on_their_label_are_no_rows_of_their_own() -> None:
    """A striped web table read by OCR: each cell prints a subject, a teacher and a room centred on
    the row's time label; OCR lost the small teacher line of some cells, so their subject and room
    stand apart, above and below the label. A double lesson stands half way between two labels.
    None of these is an unlabelled row: the table keeps one row per label."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr("Time", 10, 20), ocr("Mon", 150, 20), ocr("Tue", 300, 20), ocr("Wed", 450, 20)]
    slots = (("8:00", "8:50"), ("9:00", "9:50"), ("10:00", "10:50"), ("11:00", "11:50"))
    for row, (start, end) in enumerate(slots):
        middle = 100 + 100 * row
        words.append(ocr(f"{start}-{end}", 10, middle - 6))
        for col, x in enumerate((150, 300)):
            words += [ocr(f"Subj{row}{col}", x, middle - 36), ocr(f"Room{row}{col}", x, middle + 24)]
            if (row + col) % 2:
                words.append(ocr(f"Tea{row}{col}", x, middle - 6))  # the middle line survived here
    # Wednesday: one double lesson over the first two rows, centred between their labels.
    words += [ocr("Double", 450, 150 - 36), ocr("Teach", 450, 150 - 6), ocr("RoomD", 450, 150 + 24)]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 5
    reading = read_grid(t)
    assert reading is not None
    cells = {(b.day, b.start.hhmm() if b.start else None, b.end.hhmm() if b.end else None): b.lines[0]
             for b in reading.blocks}  # fmt: skip
    assert cells[("MON", "08:00", "08:50")] == "Subj00"
    assert cells[("TUE", "11:00", "11:50")] == "Subj31"
    assert cells[("WED", "08:00", "09:50")] == "Double"
    assert len(cells) == 9


def test_a_menu_of_links_left_of_the_time_column_is_no_part_of_the_table() -> None:
    """A school web page read by OCR: a menu of links stands left of the timetable, at its own spacing;
    its items are no row labels (the times beside them are), and none becomes a lesson. The day
    header has no label either, and it stays a row of its own however close the first row."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr(item, 10, 40 + 45 * i) for i, item in enumerate(("Home", "Lessons", "Marks", "News", "Diary"))]
    words += [ocr("Mon", 300, 40), ocr("Tue", 420, 40), ocr("Wed", 540, 40), ocr("Form", 150, 0)]
    slots = (("8:00-8:45", "Maths", "Art", "Latin"), ("8:50-9:35", "Music", "Greek", "Drama"),
             ("9:40-10:25", "Chess", "Dance", "Maths"), ("10:30-11:15", "Art", "Music", "Greek"))  # fmt: skip
    for row, (span, *subjects) in enumerate(slots):
        top = 62 + 70 * row
        words.append(ocr(span, 150, top))
        words += [ocr(subject, x, top) for subject, x in zip(subjects, (300, 420, 540), strict=True)]
    t = table_from_words(words)
    assert t is not None and t.n_rows == 6 and t.n_cols == 4
    got = _read_blocks(t)
    assert ("MON", "08:00", "Maths") in got and ("WED", "10:30", "Greek") in got
    assert len(got) == 12


def test_a_ruled_grid_drops_letter_strokes_and_the_boxes_beside_the_table() -> None:
    """A web page's screenshot: the grid's rules are found, but so are the stems of a bold word
    (short segments inside its box), the box of a menu left of the table and an advert box at its
    right. The stems cut no cell, and neither the menu nor the advert becomes a column of lessons."""
    xs = [0, 100, 200, 300, 400, 600]  # menu | times | Mon | Tue | advert
    ys = [40, 60, 100, 140, 180, 220]
    rulings = [_vline(x, 40, 220) for x in xs[1:5]] + [_vline(0, 40, 120), _vline(600, 40, 90)]
    rulings += [_hline(y, 100, 400) for y in ys] + [_hline(40, 0, 100), _hline(40, 400, 600)]
    rulings += [_vline(x, 106, 118) for x in (225, 245)]  # stems of the letters of 'Geography'
    words = [_word(item, 5, 50 + 30 * i) for i, item in enumerate(("Home", "Lessons", "Marks"))]
    words += [_word("Mon", 205, 45), _word("Tue", 305, 45), _word("Summer", 410, 42), _word("camp!", 410, 54)]
    for row, (span, a, b) in enumerate((("8:00-8:45", "Geography", "Art"), ("8:50-9:35", "Music", "Latin"),
                                        ("9:40-10:25", "Maths", "Drama"), ("10:30-11:15", "Chess", "Greek"))):  # fmt: skip
        y = 66 + 40 * row
        words += [_word(span, 105, y), _word(a, 205, y, w=60), _word(b, 305, y)]
    page = Page(number=1, width=600, height=240, words=words, rulings=rulings)
    t = table_from_rulings(page)
    assert t is not None and t.n_cols == 3
    got = _read_blocks(t)
    assert ("MON", "08:00", "Geography") in got and ("TUE", "10:30", "Greek") in got
    assert len(got) == 8


def test_tall_cells_of_an_unlabelled_first_row_do_not_reach_up_into_the_day_header() -> None:
    """OCR lost the time label of a web table's first row; its three-line cells, and two double lessons
    reaching down into the next row, stand under the header line of day names. The cells stay in
    their own row: none spans up into the header's band, so every day keeps its header cell."""

    def ocr(text: str, x: float, y: float, h: float = 9) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + h), confidence=0.9)

    def cell(x: float, top: float, name: str) -> list[Word]:
        return [ocr(name, x, top, 13), ocr("Mr Tutor", x, top + 16), ocr("R1", x, top + 30)]

    cols = (200, 350, 500, 650)
    words = [ocr("Time", 10, 75, 13), *(ocr(d, x, 75) for d, x in zip(("Mon", "Tue", "Wed", "Thu"), cols, strict=True))]
    words += cell(200, 103, "Latin") + cell(650, 103, "Greek")  # the first row, its label lost
    words += cell(350, 132, "Drama") + cell(500, 132, "Chess")  # double lessons over rows one and two
    words += cell(200, 160, "Music") + cell(650, 160, "Dance")
    for label, top, breaks in (("8:35-9:35", 175, False), ("9:40-10:40", 232, False), ("10:45-11:10", 275, True),
                               ("11:15-12:15", 318, False), ("12:20-12:50", 361, True), ("12:55-13:55", 404, False)):  # fmt: skip
        words.append(ocr(label, 10, top))
        if breaks:
            words.append(ocr("Break", 420, top))
        elif top > 200:
            words += [w for x in cols for w in cell(x, top - 15, "Maths")]
    t = table_from_words(words)
    assert t is not None
    header = [c.text for c in sorted(t.cells, key=lambda c: c.col) if c.row == 0 and c.col > 0]
    assert header == ["Mon", "Tue", "Wed", "Thu"]


def test_the_same_lesson_in_two_close_rows_is_two_cells() -> None:
    """Rows set close together: a lesson printed in two rows of one column (its name and teacher
    twice) reads as one block of lines. Its first line is level with one row label and its third with
    the next: two cells, one per row. A lesson centred between two labels stays one double lesson."""

    def ocr(text: str, x: float, y: float) -> Word:
        return Word(text=text, bbox=BBox(x, y, x + 8 * len(text), y + 12), confidence=0.9)

    words = [ocr("Time", 10, 20), ocr("Mon", 150, 20), ocr("Tue", 300, 20)]
    for row, label in enumerate(("8:00-8:45", "8:45-9:30", "9:30-10:15")):
        words.append(ocr(label, 10, 50 + 36 * row))
    words += [ocr("Music", 150, 50), ocr("Mr Grey", 150, 66), ocr("Music", 150, 86), ocr("Mr Grey", 150, 102)]
    words += [ocr("Drama", 300, 68), ocr("Ms Lee", 300, 84), ocr("Art", 150, 122), ocr("Ms Lee", 150, 138)]
    t = table_from_words(words)
    assert t is not None
    reading = read_grid(t)
    assert reading is not None
    blocks = sorted((b.day, b.start.hhmm(), b.end.hhmm(), b.lines[0]) for b in reading.blocks if b.start and b.end)
    assert blocks == [
        ("MON", "08:00", "08:45", "Music"), ("MON", "08:45", "09:30", "Music"), ("MON", "09:30", "10:15", "Art"),
        ("TUE", "08:00", "09:30", "Drama"),
    ]  # fmt: skip
