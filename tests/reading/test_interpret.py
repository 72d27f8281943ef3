"""interpret(): title, owner, the reader chosen per table, fields split from what the document shows."""

from __future__ import annotations

import pytest

from timetable_platform.domain.layout import BBox, Word
from timetable_platform.domain.model import Timetable
from timetable_platform.reading.interpret import find_owner, find_title, interpret

from .gridkit import layout, table


def _grid_words(rows: list[list[str]]) -> list[Word]:
    """The words of an unruled grid: 120 pt columns, 30 pt rows; empty texts print nothing."""
    return [
        Word(text, BBox(120.0 * c + 5, 30.0 * r + 10, 120.0 * c + 5 + 7 * len(text), 30.0 * r + 20))
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
        if text
    ]


def _day_slots(timetable: Timetable) -> list[tuple[str, str | None, str]]:
    return sorted((e.day, e.start, e.subject) for e in timetable.entries)


def _expected_slots(rows: list[list[str]]) -> list[tuple[str, str, str]]:
    """Hourly rows from 09:00 under a Mon / Tue / Wed header."""
    return sorted(
        (day, f"{9 + r}:00".zfill(5), rows[r + 1][c + 1]) for r in range(3) for c, day in enumerate(("MON", "TUE", "WED"))
    )


@pytest.mark.parametrize(
    ("title", "kind", "name"),
    [
        ("Class 10E – Weekly Timetable", "class", "10E"),
        ("9D Timetable – Autumn Term 2024", "class", "9D"),
        ("Timetable: Form 7D", "class", "7D"),
        ("Klasse 5b: Stundenplan 1. Halbjahr", "class", "5b"),
        ("Stundenplan 7c – Schuljahr 2024/25", "class", "7c"),
        ("Mr Ellis – Timetable 2024–25", "teacher", "Mr Ellis"),
        ("Teacher Timetable – Ms Lewis (LEW)", "teacher", "Ms Lewis"),
        ("Staff Timetable: Ms Murphy", "teacher", "Ms Murphy"),
        ("School - Class: 2EJ Term: Autumn 2 2024 Teacher: Miss Joynes", "teacher", "Miss Joynes"),
        ("Reception timetable January 2025", "class", "Reception"),
        ("Emploi du temps – Classe 6e", "class", "6e"),
    ],
)
def test_owner_from_title(title: str, kind: str, name: str) -> None:
    owner = find_owner(title)
    assert owner is not None
    assert (owner.kind, owner.name) == (kind, name)


def test_no_owner_when_none_printed() -> None:
    assert find_owner("Daily Schedule") is None


def test_title_is_the_heading_that_names_a_timetable() -> None:
    lines = ["Northfield Academy", "Class 10E – Weekly Timetable", "Tutor: Dr Baptiste"]
    assert find_title(lines) == "Class 10E – Weekly Timetable"
    # The tutor line names the class's tutor, not the owner.
    assert find_owner(find_title(lines), lines).kind == "class"  # type: ignore[union-attr]


def test_interpret_grid_splits_fields_consistently() -> None:
    t = table(
        [
            ["Time", "Monday", "Tuesday"],
            ["09:00-10:00", "Maths|OKA|R101", "English|IBR|R102"],
            ["10:00-10:20", "Break", "<"],
            ["10:20-11:20", "History|MIT|R103", "Maths|OKA|R101"],
        ]
    )
    tt = interpret(layout(t, paragraphs=["Oak School", "Class 7B Timetable"]))
    assert tt.title == "Class 7B Timetable"
    assert tt.owner is not None and (tt.owner.kind, tt.owner.name) == ("class", "7B")
    by_slot = {(e.day, e.start, e.end): e for e in tt.entries}
    maths = by_slot[("MON", "09:00", "10:00")]
    assert (maths.subject, maths.teacher, maths.room, maths.kind) == ("Maths", "OKA", "R101", "lesson")
    assert by_slot[("TUE", "10:00", "10:20")].kind == "break"
    assert len(tt.entries) == 6
    assert all(e.confidence is not None and 0 < e.confidence <= 1 for e in tt.entries)


def test_interpret_records_table() -> None:
    t = table(
        [
            ["Tag", "Beginn", "Ende", "Fach", "Lehrer", "Raum"],
            ["Montag", "8:00", "8:45", "Mathe", "KOH", "A302"],
            ["Dienstag", "1.15", "2.00", "Sport", "SCM", "TH2"],
        ]
    )
    tt = interpret(layout(t))
    got = {(e.day, e.start, e.end, e.subject, e.teacher, e.room) for e in tt.entries}
    assert got == {
        ("MON", "08:00", "08:45", "Mathe", "KOH", "A302"),
        ("TUE", "13:15", "14:00", "Sport", "SCM", "TH2"),
    }


def test_interpret_list_style_document() -> None:
    paragraphs = [
        "Daily Schedule",
        "Monday, Tuesday",
        "1. 8:35 Students inside",
        "2. 9:00-10:00 Maths",
        "Friday",
        "9:00-9:30 Assembly",
    ]
    tt = interpret(layout(paragraphs=paragraphs))
    assert tt.title == "Daily Schedule"
    got = {(e.day, e.start, e.end, e.period, e.subject) for e in tt.entries}
    assert got == {
        ("MON", "08:35", "09:00", "1", "Students inside"),
        ("TUE", "08:35", "09:00", "1", "Students inside"),
        ("MON", "09:00", "10:00", "2", "Maths"),
        ("TUE", "09:00", "10:00", "2", "Maths"),
        ("FRI", "09:00", "09:30", None, "Assembly"),
    }


def test_nothing_timetable_like_gives_no_entries_and_a_reason() -> None:
    tt = interpret(layout(table([["Name", "Score"], ["Ann", "3"]]), paragraphs=["Results"]))
    assert tt.entries == []
    assert tt.warnings


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Stundenplan Hr. Lange", "Hr. Lange"),
        ("Orario – Prof.ssa Ricci", "Prof.ssa Ricci"),
        ("Lesrooster Dhr. de Vries", "Dhr. de Vries"),
        ("Emploi du temps – M. Lefèvre", "M. Lefèvre"),
        ("Horario – Sra. Martínez", "Sra. Martínez"),
    ],
)
def test_teacher_titles_in_other_languages(title: str, name: str) -> None:
    owner = find_owner(title)
    assert owner is not None and (owner.kind, owner.name) == ("teacher", name)


def test_title_printed_inside_the_table_and_footnotes_ignored() -> None:
    from timetable_platform.domain.layout import BBox, Line, Word

    t = table(
        [["4M", "<", "<"], ["", "9:00-10:00", "10:00-11:00"], ["Mon", "Maths", "PE"], ["Tue", "Art", "RE"]]
    )
    t.bbox = BBox(0, 100, 500, 400)
    lay = layout(t)
    note = Word("If adult working on task work", BBox(0, 420, 300, 430))
    lay.pages[0].lines = [Line(words=[note], bbox=note.bbox)]
    tt = interpret(lay)
    assert tt.title == "4M"
    assert tt.owner is not None and (tt.owner.kind, tt.owner.name) == ("class", "4M")


def test_a_name_heading_several_topics_on_one_line_is_the_subject() -> None:
    from timetable_platform.domain.model import Entry
    from timetable_platform.reading.interpret import _names_before_descriptions

    def entry(day: str, subject: str) -> Entry:
        return Entry(day=day, start="09:00", end="10:00", subject=subject, kind="lesson", confidence=0.9)

    entries = [
        entry("MON", "Maths - place value"), entry("TUE", "Maths - counting in fives"), entry("WED", "Maths"),
        entry("MON", "English Literature"), entry("TUE", "English Literature"), entry("WED", "English"),
        entry("THU", "Science forces and magnets"),
    ]
    _names_before_descriptions(entries)
    assert [(e.subject, e.notes) for e in entries] == [
        ("Maths", "place value"), ("Maths", "counting in fives"), ("Maths", None),
        ("English Literature", None), ("English Literature", None), ("English", None),
        ("Science forces and magnets", None),  # no other entry names 'Science': nothing shows the cut
    ]


def test_an_abbreviation_heading_several_subjects_is_not_cut_off_as_their_name() -> None:
    """'Lab. Chemistry', 'Lab. Physics', 'Lab. Biology': the shared 'Lab.' is an abbreviation that
    starts each name, not a name followed by topics."""
    from timetable_platform.domain.model import Entry
    from timetable_platform.reading.interpret import _names_before_descriptions

    subjects = ["Lab. chemistry", "Lab. physics", "Lab. Biology", "Lab. Earth science"]
    entries = [
        Entry(day="MON", start=f"{9 + i:02d}:00", end=f"{10 + i:02d}:00", subject=s, kind="lesson", confidence=0.9)
        for i, s in enumerate(subjects)
    ]
    _names_before_descriptions(entries)
    assert [(e.subject, e.notes) for e in entries] == [(s, None) for s in subjects]


def test_the_table_from_word_positions_replaces_ruled_pieces_that_read_less() -> None:
    """Rules drawn around part of a timetable only (a filled header band and first row, the other rows
    left plain) make a ruled piece that reads one row: the table the word positions make reads all."""
    from timetable_platform.domain.layout import BBox, Cell, Layout, Page, Table

    rows = [
        ["Time", "Mon", "Tue", "Wed"],
        ["09:00-10:00", "Maths", "Art", "Music"],
        ["10:00-11:00", "French", "History", "Drama"],
        ["11:00-12:00", "Biology", "Latin", "Dance"],
    ]
    words = _grid_words(rows)
    piece = Table(
        n_rows=2, n_cols=4, bbox=BBox(0, 0, 480, 60),
        cells=[Cell(row=r, col=c, text=rows[r][c], bbox=BBox(120.0 * c, 30.0 * r, 120.0 * c + 120, 30.0 * r + 30))
               for r in range(2) for c in range(4)],
    )  # fmt: skip
    page = Page(number=1, width=600, height=400, words=words, tables=[piece])
    timetable = interpret(Layout(pages=[page], media_type="application/pdf", reader="test"))
    assert _day_slots(timetable) == _expected_slots(rows)


def test_ruled_pieces_that_stop_part_way_down_give_way_to_the_whole_table() -> None:
    """Striped rows ruled down to the lunch break, the afternoon drawn without edges: the ruled piece
    reads the morning only. The table from word positions reads every row, the morning's slots among
    them, and wins though it reads less than twice as much."""
    from timetable_platform.domain.layout import Cell, Layout, Page, Table

    rows = [
        ["Time", "Mon", "Tue", "Wed"],
        ["09:00-10:00", "Maths", "Art", "Music"],
        ["10:00-11:00", "French", "History", "Drama"],
        ["11:00-12:00", "Biology", "Latin", "Dance"],
        ["12:00-13:00", "Physics", "German", "Chess"],
    ]
    piece = Table(
        n_rows=4, n_cols=4, bbox=BBox(0, 0, 480, 120),
        cells=[Cell(row=r, col=c, text=rows[r][c], bbox=BBox(120.0 * c, 30.0 * r, 120.0 * c + 120, 30.0 * r + 30))
               for r in range(4) for c in range(4)],
    )  # fmt: skip
    page = Page(number=1, width=600, height=400, words=_grid_words(rows), tables=[piece])
    timetable = interpret(Layout(pages=[page], media_type="application/pdf", reader="test"))
    assert _day_slots(timetable) == sorted(
        (day, f"{9 + r}:00".zfill(5), rows[r + 1][c + 1]) for r in range(4) for c, day in enumerate(("MON", "TUE", "WED"))
    )


def test_box_edges_that_miss_a_column_edge_give_way_to_the_gaps_between_words() -> None:
    """Lesson tiles drawn as boxes: their edges pass for rulings, but the edge between the time labels
    and the first day is missed, so the ruled grid reads labels and Monday as one column. The table
    the word gaps make keeps them apart and reads every lesson on its day."""
    from timetable_platform.domain.layout import BBox, Layout, Page

    rows = [
        ["", "Mon", "Tue", "Wed"],
        ["09:00-10:00", "Maths", "Art", "Music"],
        ["10:00-11:00", "French", "History", "Drama"],
        ["11:00-12:00", "Biology", "Latin", "Dance"],
    ]
    words = _grid_words(rows)
    # Vertical edges at the right of each day's tiles and the panel's left edge; none at x=120.
    rulings = [BBox(x - 0.5, 30, x + 0.5, 120) for x in (0, 240, 360, 480)]
    rulings += [BBox(0, y - 0.5, 480, y + 0.5) for y in (30, 60, 90, 120)]
    page = Page(number=1, width=600, height=400, words=words, rulings=rulings)
    timetable = interpret(Layout(pages=[page], media_type="image/png", reader="test"))
    assert _day_slots(timetable) == _expected_slots(rows)


def test_a_list_in_two_columns_is_read_column_after_column() -> None:
    """A day list printed in two columns side by side: the text layer puts the lines of both columns at
    one height into one line. Read column after column, each lesson stays under its own day heading."""
    from timetable_platform.domain.layout import Layout, Line, Page

    left = [("Monday",), ("08:00-09:00", "Maths"), ("09:00-10:00", "Art"), ("10:00-11:00", "Music"),
            ("Tuesday",), ("08:00-09:00", "Latin"), ("09:00-10:00", "Drama")]
    right = [("Thursday",), ("08:00-09:00", "French"), ("09:00-10:00", "Chemistry"), ("10:00-11:00", "Dance"),
             ("Friday",), ("08:00-09:00", "Physics"), ("09:00-10:00", "Biology")]  # fmt: skip
    lines = []
    for row, (a, b) in enumerate(zip(left, right, strict=True)):
        top = 40.0 + 20 * row
        words = [Word(text, BBox(x, top, x + 8 * len(text), top + 10))
                 for texts, x0 in ((a, 40.0), (b, 320.0)) for text, x in zip(texts, (x0, x0 + 100), strict=False)]  # fmt: skip
        lines.append(Line(words=words, bbox=BBox(40.0, top, max(w.bbox.x1 for w in words), top + 10)))
    page = Page(number=1, width=600, height=400, words=[w for line in lines for w in line.words], lines=lines)
    timetable = interpret(Layout(pages=[page], media_type="application/pdf", reader="test"))
    got = {(e.day, e.start, e.subject) for e in timetable.entries}
    assert got == {
        ("MON", "08:00", "Maths"), ("MON", "09:00", "Art"), ("MON", "10:00", "Music"),
        ("TUE", "08:00", "Latin"), ("TUE", "09:00", "Drama"),
        ("THU", "08:00", "French"), ("THU", "09:00", "Chemistry"), ("THU", "10:00", "Dance"),
        ("FRI", "08:00", "Physics"), ("FRI", "09:00", "Biology"),
    }  # fmt: skip


def test_a_reading_that_puts_two_lessons_in_one_slot_of_a_day_scores_less() -> None:
    """Parallel lessons are rare: a reading that mixes two days' columns into one day overlaps itself."""
    from timetable_platform.domain.times import Clock
    from timetable_platform.reading.grid import Block
    from timetable_platform.reading.interpret import _reading_score

    def block(day: str, start: int, subject: str) -> Block:
        return Block(day=day, start=Clock(start * 60), end=Clock(start * 60 + 45), period=None,
                     lines=[subject], styles=[None])  # fmt: skip

    apart = [block("MON", 8, "Maths"), block("MON", 9, "Art"), block("TUE", 8, "Music"), block("TUE", 9, "PE")]
    mixed = [block("MON", 8, "Maths"), block("MON", 9, "Art"), block("MON", 8, "Music"), block("MON", 9, "PE")]
    assert _reading_score(apart) == 4.0
    assert _reading_score(mixed) == 3.0
