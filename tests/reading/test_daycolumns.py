"""Day columns: day headings with blocks under them that print their own times (calendar week views,
app day lists, list timetables printed in columns). Made-up pages, positions in points."""

from __future__ import annotations

from timetable_platform.domain.layout import BBox, Layout, Line, Page
from timetable_platform.domain.times import Clock
from timetable_platform.reading.daycolumns import read_day_columns
from timetable_platform.reading.grid import Block
from timetable_platform.reading.interpret import interpret

from .gridkit import placed_line as line


def page(lines: list[Line], width: float = 900.0, height: float = 900.0) -> Page:
    return Page(number=1, width=width, height=height, lines=lines)


def summary(blocks: list) -> list[tuple[str, str, str, list[str]]]:
    return [(b.day, b.start.hhmm(), b.end.hhmm(), b.lines) for b in blocks]


def test_a_calendar_week_view_reads_each_box_in_the_column_of_its_day() -> None:
    """Events as boxes under the day header, each printing name, time range and room; hour labels on
    the left axis are no blocks; boxes are told apart by the padding between them."""
    lines = [
        line("Mon", 200, 20), line("Tue", 500, 20),
        line("08:00", 10, 100), line("09:00", 10, 160), line("10:00", 10, 220),
        line("Maths", 110, 110), line("08:15 - 09:45", 110, 124), line("Room 12 · Mr Smith", 110, 138),
        line("Art", 110, 190), line("10:00 - 11:00", 110, 204),
        line("Music", 410, 150), line("9:00 - 10:00", 410, 164), line("Hall", 410, 178),
    ]
    blocks = read_day_columns(page(lines))
    assert summary(blocks) == [
        ("MON", "08:15", "09:45", ["Maths", "Room 12", "Mr Smith"]),
        ("MON", "10:00", "11:00", ["Art"]),
        ("TUE", "09:00", "10:00", ["Music", "Hall"]),
    ]


def test_a_list_printed_in_two_columns_keeps_each_day_to_its_column() -> None:
    lines = [line("Monday", 20, 20), line("Tuesday", 470, 20)]
    for k, (a, b) in enumerate([("Maths (Smith, R1)", "Art (Jones, R2)"), ("English (Brown, R3)", "Music (Lee, R4)")]):
        y = 40 + 14 * k
        time = f"0{8 + k}:00 - 0{8 + k}:45"
        lines += [line(f"{time} {a}", 20, y), line(f"{time} {b}", 470, y)]
    blocks = read_day_columns(page(lines))
    assert summary(blocks) == [
        ("MON", "08:00", "08:45", ["Maths", "Smith", "R1"]),
        ("MON", "09:00", "09:45", ["English", "Brown", "R3"]),
        ("TUE", "08:00", "08:45", ["Art", "Jones", "R2"]),
        ("TUE", "09:00", "09:45", ["Music", "Lee", "R4"]),
    ]


def test_a_day_heading_under_a_strip_of_day_tabs_owns_the_cards_below_it() -> None:
    """An app's day tabs (one per weekday, side by side) end where a lone day heading starts: the
    cards under it, time on the left and name on the right, are that day's."""
    tabs = [line(day, 20 + 90 * k, 20) for k, day in enumerate(["Mo", "Di", "Mi", "Do", "Fr"])]
    cards = []
    for k, (time, name, who) in enumerate([("7:45-9:20", "Chemie", "Hr. Brandt | S166"), ("9:45-11:20", "Physik", "Fr. Becker | 307")]):
        y = 120 + 70 * k
        cards += [line(name, 200, y), line(time, 30, y + 8), line(who, 200, y + 16)]
    blocks = read_day_columns(page([*tabs, line("Donnerstag", 20, 80), *cards], width=480))
    assert summary(blocks) == [
        ("THU", "07:45", "09:20", ["Chemie", "Hr. Brandt", "S166"]),
        ("THU", "09:45", "11:20", ["Physik", "Fr. Becker", "307"]),
    ]


def test_interpret_takes_the_day_columns_when_they_read_more_lessons() -> None:
    lines = [line("Monday", 20, 20), line("Tuesday", 470, 20)]
    for k in range(3):
        time = f"{9 + k}:00 - {9 + k}:50"
        lines += [line(f"{time} Maths", 20, 40 + 14 * k), line(f"{time} Art", 470, 40 + 14 * k)]
    timetable = interpret(Layout(pages=[page(lines)], media_type="image/png", reader="tesseract"))
    assert sorted((e.day, e.start, e.subject) for e in timetable.entries) == [
        ("MON", "09:00", "Maths"), ("MON", "10:00", "Maths"), ("MON", "11:00", "Maths"),
        ("TUE", "09:00", "Art"), ("TUE", "10:00", "Art"), ("TUE", "11:00", "Art"),
    ]


def test_a_page_without_day_headings_has_no_day_columns() -> None:
    lines = [line("08:00 - 09:00 Maths", 20, 20), line("09:00 - 10:00 Art", 20, 40), line("Room 4", 20, 60)]
    assert read_day_columns(page(lines)) == []


def test_a_reading_that_gives_blocks_times_their_own_print_contradicts_scores_nothing() -> None:
    """A grid laid over boxes that each print their time: blocks whose own range disagrees with the
    time they were given make no lessons; a list repeated under a heading of several days counts once."""
    from timetable_platform.domain.times import parse_time
    from timetable_platform.reading.grid import Block
    from timetable_platform.reading.interpret import _reading_score

    def block(day: str, start: str, end: str, lines: list[str]) -> Block:
        return Block(day=day, start=parse_time(start), end=parse_time(end), period=None, lines=lines)  # type: ignore[arg-type]

    assert _reading_score([block("MON", "08:00", "09:00", ["Maths", "08:15 - 09:45"])]) == 0
    assert _reading_score([block("MON", "08:15", "09:45", ["Maths", "08:15 - 09:45"])]) == 1
    repeated = [block(day, "08:00", "09:00", ["Maths"]) for day in ("MON", "TUE", "THU")]
    assert _reading_score(repeated) == 1


def test_the_same_block_in_week_a_and_week_b_counts_twice() -> None:
    from timetable_platform.domain.times import parse_time
    from timetable_platform.reading.grid import Block
    from timetable_platform.reading.interpret import _reading_score

    weeks = [
        Block(day="MON", start=parse_time("08:00"), end=parse_time("09:00"), period=None, lines=["Maths"], week=week)
        for week in ("A", "B")
    ]
    assert _reading_score(weeks) == 2


def test_lines_of_one_filled_box_are_one_block_however_close_the_next_box_is() -> None:
    """Calendar events drawn back to back: the padding between two boxes is no wider than the space
    between the lines of one box, so only the boxes the reader saw tell where one event ends."""
    lines = [
        line("Mon", 200, 20), line("Tue", 500, 20),
        line("Maths", 110, 100), line("08:00 - 09:00", 110, 114), line("Room 12", 110, 128),
        line("Art", 110, 142), line("09:00 - 10:00", 110, 156), line("Hall", 110, 170),
    ]
    boxed = page(lines)
    boxed.boxes = [BBox(105, 97, 390, 140), BBox(105, 141, 390, 184)]
    assert summary(read_day_columns(boxed)) == [
        ("MON", "08:00", "09:00", ["Maths", "Room 12"]),
        ("MON", "09:00", "10:00", ["Art", "Hall"]),
    ]


def _calendar(event_lines: list[Line], boxes: list[BBox]) -> Page:
    """A week view with an hour axis of 60 points an hour from 08:00 at y=100."""
    axis = [line(f"{h:02d}:00", 10, 100 + 60 * (h - 8) - 6) for h in range(8, 13)]
    calendar = page([line("Mon", 200, 20), line("Tue", 500, 20), *axis, *event_lines])
    calendar.boxes = boxes
    return calendar


def test_a_box_without_printed_times_takes_them_from_its_place_on_the_hour_axis() -> None:
    """Events whose time the print does not give (or OCR lost) sit where the hour axis says; the
    block says its times were inferred."""
    calendar = _calendar(
        [line("Maths", 110, 104), line("08:00 - 09:00", 110, 118), line("Art", 410, 134), line("Hall", 410, 148)],
        [BBox(105, 100, 390, 160), BBox(405, 130, 690, 190)],
    )
    blocks = read_day_columns(calendar)
    assert summary(blocks) == [("MON", "08:00", "09:00", ["Maths"]), ("TUE", "08:30", "09:30", ["Art", "Hall"])]
    assert blocks[0].printed_start and blocks[0].confidence > blocks[1].confidence
    assert not blocks[1].printed_start and not blocks[1].printed_end


def test_a_printed_time_its_box_contradicts_is_taken_from_the_box() -> None:
    """OCR misreads a digit ('10:28' for 10:20): the box's bottom on the axis says 10:20."""
    calendar = _calendar(
        [line("Maths", 110, 164), line("09:00 - 10:28", 110, 178), line("Art", 410, 254), line("10:30 - 11:00", 410, 268)],
        [BBox(105, 160, 390, 240), BBox(405, 250, 690, 280)],
    )
    blocks = read_day_columns(calendar)
    assert summary(blocks) == [("MON", "09:00", "10:20", ["Maths"]), ("TUE", "10:30", "11:00", ["Art"])]
    assert blocks[0].printed_start and not blocks[0].printed_end
    assert blocks[0].confidence < blocks[1].confidence


def test_without_an_hour_axis_nothing_is_inferred() -> None:
    """Cards that print no times on a page with no time axis give no blocks: there is nothing to place them by."""
    cards = page([line("Mon", 200, 20), line("Tue", 500, 20), line("Maths", 110, 104), line("Art", 410, 134)])
    cards.boxes = [BBox(105, 100, 390, 160), BBox(405, 130, 690, 190)]
    assert read_day_columns(cards) == []


def test_a_day_word_under_the_heading_row_not_written_like_the_headings_is_no_heading() -> None:
    """OCR debris inside a week view ('J', read in a box) names a day in some language; it is not
    written like the row of headings (TUE, WED...), so it does not start a region of its own."""
    lines = [
        line("MON", 200, 20), line("TUE", 500, 20), line("WED", 800, 20),
        line("Maths", 110, 100), line("08:00 - 09:00", 110, 114),
        line("J", 400, 150),
        line("Art", 110, 200), line("10:00 - 11:00", 110, 214),
        line("Music", 710, 200), line("10:00 - 11:00", 710, 214),
    ]
    assert [(b.day, b.lines) for b in read_day_columns(page(lines, width=1000))] == [
        ("MON", ["Maths"]), ("MON", ["Art"]), ("WED", ["Music"]),
    ]


def test_a_day_heading_ocr_missed_is_put_back_between_its_neighbours() -> None:
    """Columns of a week view are evenly spaced: WED and FRI twice the usual distance apart hold
    THU's column between them, and a box there is Thursday's, not Wednesday's or Friday's."""
    lines = [
        line("MON", 100, 20), line("TUE", 300, 20), line("WED", 500, 20), line("FRI", 900, 20),
        line("Maths", 690, 100), line("08:00 - 09:00", 690, 114),
        line("Art", 490, 100), line("08:00 - 09:00", 490, 114),
    ]
    assert [(b.day, b.lines) for b in read_day_columns(page(lines, width=1000))] == [
        ("WED", ["Art"]), ("THU", ["Maths"]),
    ]


def test_a_list_in_two_columns_keeps_each_later_day_in_its_own_column() -> None:
    """A list timetable printed in two columns: the days below the first row of headings do not line
    up across the columns, so each later heading stands alone on its line. It owns the column it
    stands in, not the whole width, and the other column's lines beside it stay with their own day."""
    lines = [
        line("Monday", 20, 20), line("Wednesday", 470, 10),
        line("8.00 - 9.00 Maths (Mr Lee) R1", 20, 50), line("9.00 - 10.00 Art (Ms Kay) R2", 20, 70),
        line("8.00 - 9.00 Latin (Mr Ode) R3", 470, 40), line("9.00 - 10.00 Drama (Ms Fox) R4", 470, 60),
        line("Tuesday", 20, 110), line("Thursday", 470, 90),
        line("8.00 - 9.00 Music (Mr Ray) R5", 470, 120),  # beside Tuesday's heading, under Thursday's
        line("8.00 - 9.00 Chess (Ms Ash) R6", 20, 140), line("9.00 - 10.00 Dance (Mr Bo) R7", 470, 140),
    ]
    got = {(day, start, lines_[0]) for day, start, _, lines_ in summary(read_day_columns(page(lines)))}
    assert got == {
        ("MON", "08:00", "Maths"), ("MON", "09:00", "Art"), ("WED", "08:00", "Latin"), ("WED", "09:00", "Drama"),
        ("THU", "08:00", "Music"), ("THU", "09:00", "Dance"), ("TUE", "08:00", "Chess"),
    }  # fmt: skip


def test_days_stacked_down_an_app_page_under_day_tabs_each_own_the_whole_width() -> None:
    """A phone app page: a strip of day tabs, then each day's heading and cards one below the other.
    The second day's heading comes after timed cards, which stand under several tabs, yet it heads the
    whole width like the first: the day above it is a heading across the page."""
    tabs = [line(day, 20 + 90 * k, 20) for k, day in enumerate(["Mo", "Di", "Mi", "Do", "Fr"])]
    body = [
        line("Montag", 20, 60), line("8:00-8:45 Chemie", 20, 100), line("9:00-9:45 Physik", 200, 130),
        line("Dienstag", 200, 170), line("8:00-8:45 Kunst", 20, 210),
    ]
    got = [(day, start, lines_) for day, start, _, lines_ in summary(read_day_columns(page([*tabs, *body], width=480)))]
    assert got == [("MON", "08:00", ["Chemie"]), ("MON", "09:00", ["Physik"]), ("TUE", "08:00", ["Kunst"])]


def test_a_list_in_columns_keeps_a_lone_heading_to_its_column() -> None:
    """CSS columns print a day list in two columns whose headings do not line up: a day heading alone on
    its row heads only the column it starts in, and the other column's days go on beside it."""
    lines = [line("Monday", 20, 20), line("Wednesday", 470, 26)]
    lines += [line("08:00 - 08:45 Maths", 20, 40), line("09:00 - 09:45 Art", 20, 54)]
    lines += [line("08:00 - 08:45 French", 470, 46), line("09:00 - 09:45 Music", 470, 60)]
    lines += [line("10:00 - 10:45 Drama", 470, 74), line("11:00 - 11:45 Chemistry", 470, 88)]
    lines += [line("Tuesday", 20, 80), line("08:00 - 08:45 English", 20, 100)]
    lines += [line("Thursday", 470, 110), line("08:00 - 08:45 History", 470, 130)]
    blocks = read_day_columns(page(lines))
    assert sorted((b.day, b.start.hhmm(), b.lines[0]) for b in blocks) == [
        ("MON", "08:00", "Maths"), ("MON", "09:00", "Art"),
        ("THU", "08:00", "History"),
        ("TUE", "08:00", "English"),
        ("WED", "08:00", "French"), ("WED", "09:00", "Music"), ("WED", "10:00", "Drama"),
        ("WED", "11:00", "Chemistry"),
    ]  # fmt: skip


def test_lines_that_run_across_columns_are_cut_where_the_columns_part_them() -> None:
    """A PDF's text layer puts a whole baseline into one line: the day headings side by side and the
    boxes of neighbouring days that happen to align. Cut at the wide gaps, each piece reads in its
    day's column; a time and its lesson a tab apart in one column stay together."""

    def joined(*parts: Line) -> Line:
        words = [w for p in parts for w in p.words]
        return Line(words=words, bbox=BBox(parts[0].bbox.x0, parts[0].bbox.top, parts[-1].bbox.x1, parts[-1].bbox.bottom))

    lines = [
        joined(line("Mon", 200, 20), line("Tue", 500, 20)),
        joined(line("Maths", 110, 110), line("Music", 410, 110)),
        joined(line("08:15 - 09:45", 110, 124), line("08:00 - 09:00", 410, 124)),
        line("Art", 110, 190), line("10:00 - 11:00", 110, 204),
    ]
    assert read_day_columns(page(lines)) == []  # read as one line each, the headings name no one column
    blocks = read_day_columns(page(lines), wide_lines=True)
    assert summary(blocks) == [
        ("MON", "08:15", "09:45", ["Maths"]),
        ("MON", "10:00", "11:00", ["Art"]),
        ("TUE", "08:00", "09:00", ["Music"]),
    ]


def test_a_number_before_a_cards_time_is_its_place_in_the_list() -> None:
    cards = [
        line("Montag", 20, 40),
        line("Chemie", 200, 80), line("1 8:00-8:45", 20, 90), line("KL B12", 200, 100),
        line("Physik", 200, 140), line("2 8:50-9:35", 20, 150), line("MO A3", 200, 160),
    ]  # fmt: skip
    blocks = read_day_columns(page(cards, width=480))
    assert [(b.period, b.lines) for b in blocks] == [("1", ["Chemie", "KL B12"]), ("2", ["Physik", "MO A3"])]


def test_a_reading_that_takes_a_day_heading_for_a_lesson_scores_less() -> None:
    """A phone app page with day tabs: a table found from word positions takes the tabs for its header,
    puts the lessons under the wrong tab and the chosen day's heading ('Terça-feira') in a cell as a
    lesson. Read by day columns, the same lessons fall under the heading: that reading must win."""
    from timetable_platform.reading.interpret import _reading_score

    def block(day: str, start: int | None, text: str) -> Block:
        times = (Clock(start), Clock(start + 45)) if start is not None else (None, None)
        return Block(day=day, start=times[0], end=times[1], period=None, lines=[text], styles=[None])

    lessons = [(480, "Física"), (550, "Biologia"), (605, "Artes")]
    by_columns = [block("TUE", start, name) for start, name in lessons]
    by_table = [block("WED", None, "Terça-feira"), *(block("WED", start, name) for start, name in lessons)]
    assert _reading_score(by_table) < _reading_score(by_columns) / 1.1
