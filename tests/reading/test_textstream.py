from __future__ import annotations

import json
from pathlib import Path

import pytest

from timetable_platform.domain.layout import BBox, Layout, Page, Word
from timetable_platform.reading.textstream import build_phrases, read_text_stream

CHAR_W = 5.0
LINE_H = 10.0


def words_at(text: str, x: float, y: float, *, style: str | None = None) -> list[Word]:
    """Words of one printed line starting at (x, y), 5 units per character, one space between words."""
    out = []
    for token in text.split(" "):
        if token:
            out.append(Word(token, BBox(x, y, x + CHAR_W * len(token), y + LINE_H), style=style))
        x += CHAR_W * (len(token) + 1)
    return out


def cell(lines: list[str], x: float, y: float, *, row_h: float, centred: bool = True) -> list[Word]:
    """A table cell's lines, centred vertically in a row of height ``row_h`` (or from its top)."""
    block_h = len(lines) * LINE_H * 1.2
    top = y + (row_h - block_h) / 2 if centred else y + 2
    out: list[Word] = []
    for i, line in enumerate(lines):
        out.extend(words_at(line, x, top + i * LINE_H * 1.2))
    return out


def page_of(words: list[Word], width: float = 900, height: float = 700) -> Page:
    return Page(number=1, width=width, height=height, words=words)


def layout_of(*pages: Page, media_type: str = "application/pdf") -> Layout:
    return Layout(pages=list(pages), media_type=media_type, reader="test")


def days_as_columns(*, centred: bool) -> Layout:
    """Days across, times down; a full-width Break row printed once; a double lesson on Tuesday."""
    words = words_at("Class 7B Timetable", 20, 10)
    col_x = [150, 280, 410, 540, 670]
    for x, name in zip(col_x, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], strict=True):
        words += words_at(name, x, 50)
    rows = [("08:50-09:40", 70), ("09:40-10:30", 110), ("10:30-10:50", 150), ("10:50-11:40", 180), ("11:40-12:30", 220)]
    row_h = 40
    for label, y in rows:
        words += cell([label], 20, y, row_h=30 if label.startswith("10:30") else row_h, centred=centred)
    subjects = {
        0: [["Maths", "OKA", "R101"], None, ["English", "IBR", "R12"], ["PE", "HAD", "Gym"], ["Art", "DOY", "A-2"]],
        1: [["History", "MIT", "D-03"], None, ["Maths", "OKA", "R101"], ["French", "JEN", "D-01"], ["Music", "NOV", "M1"]],
        3: [["Science", "NAK", "Lab 1"], ["Drama", "PAT", "S1"], ["Maths", "OKA", "R101"], ["RE", "BIA", "R3"], ["Geography", "MUR", "R5"]],
        4: [["English", "IBR", "R12"], ["Spanish", "REY", "R9"], ["History", "MIT", "D-03"], ["Maths", "OKA", "R101"], ["PE", "HAD", "Gym"]],
    }
    for row, by_day in subjects.items():
        _, y = rows[row]
        for day, lines in enumerate(by_day):
            if lines:
                words += cell(lines, col_x[day], y, row_h=row_h, centred=centred)
    # Tuesday: a double period merged over the first two rows (text centred on the pair).
    words += cell(["Chemistry", "BRE", "Lab 4"], col_x[1], 70, row_h=80, centred=True)
    # The break row, printed once across all days.
    words += words_at("Morning Break", 390, 155)
    return layout_of(page_of(words))


def entries_by_key(layout: Layout) -> dict[tuple[str, str | None, str | None], tuple[str, str | None, str | None, str]]:
    timetable = read_text_stream(layout)
    return {(e.day, e.start, e.end): (e.subject, e.teacher, e.room, e.kind) for e in timetable.entries}


def test_days_as_columns_centred_cells() -> None:
    found = entries_by_key(days_as_columns(centred=True))
    assert found[("MON", "08:50", "09:40")] == ("Maths", "OKA", "R101", "lesson")
    assert found[("FRI", "11:40", "12:30")] == ("PE", "HAD", "Gym", "lesson")
    # The merged double lesson covers both rows.
    assert found[("TUE", "08:50", "10:30")] == ("Chemistry", "BRE", "Lab 4", "lesson")
    assert ("TUE", "08:50", "09:40") not in found
    # The break row printed once is one entry per day.
    for day in ("MON", "TUE", "WED", "THU", "FRI"):
        assert found[(day, "10:30", "10:50")] == ("Morning Break", None, None, "break")
    assert len(found) == 5 * 4 - 1 + 5


def test_days_as_columns_top_aligned_office_layout() -> None:
    layout = days_as_columns(centred=False)
    layout.media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    found = entries_by_key(layout)
    assert found[("MON", "08:50", "09:40")] == ("Maths", "OKA", "R101", "lesson")
    assert found[("THU", "10:50", "11:40")] == ("RE", "BIA", "R3", "lesson")


def test_days_as_rows_with_period_labels_and_letter_column() -> None:
    """Days down the page, 'P1' over its time in the header, BREAK spelt one letter per day."""
    words: list[Word] = []
    slot_x = [120, 260, 400, 470, 610]
    labels = [("P1", "9:00-9:50"), ("P2", "9:50-10:40"), (None, "10:40-11:00"), ("P3", "11:00-11:50"), ("P4", "11:50-12:40")]
    for x, (period, time) in zip(slot_x, labels, strict=True):
        if period:
            words += words_at(period, x, 40)
        words += words_at(time, x, 52)
    days = ["MON", "TUE", "WED", "THU", "FRI"]
    letters = "BREAK"
    for i, name in enumerate(days):
        y = 90 + i * 50
        words += cell([name], 20, y, row_h=50)
        words += cell(["Maths", "Mr Smith"], slot_x[0], y, row_h=50)
        words += cell(["English", "Ms Price"], slot_x[1], y, row_h=50)
        words += cell([letters[i]], slot_x[2] + 10, y, row_h=50)
        words += cell(["Science", "Dr Kaur"], slot_x[3], y, row_h=50)
        if name != "WED":
            words += cell(["French", "Mme Roux"], slot_x[4], y, row_h=50)
    timetable = read_text_stream(layout_of(page_of(words)))
    got = {(e.day, e.start, e.end): e for e in timetable.entries}
    maths = got[("MON", "09:00", "09:50")]
    assert (maths.subject, maths.teacher, maths.period) == ("Maths", "Mr Smith", "P1")
    assert got[("THU", "11:00", "11:50")].period == "P3"
    assert ("WED", "11:50", "12:40") not in got
    for day in days:
        assert got[(day, "10:40", "11:00")].subject == "Break"
        assert got[(day, "10:40", "11:00")].kind == "break"


def test_in_cell_time_overrides_the_column() -> None:
    words = words_at("Monday", 150, 20) + words_at("Tuesday", 300, 20)
    words += words_at("1.40-2.30", 20, 60) + words_at("2.30-3.15", 20, 120)
    words += words_at("Science", 150, 60) + words_at("Art", 300, 60)
    words += words_at("2.50 KS2 Assembly", 150, 120) + words_at("Story", 300, 120)
    found = entries_by_key(layout_of(page_of(words)))
    assert found[("MON", "13:40", "14:30")][0] == "Science"
    assert found[("MON", "14:50", "15:15")][0] == "KS2 Assembly"
    assert found[("TUE", "14:30", "15:15")][0] == "Story"


def test_list_style_page() -> None:
    lines = ["Monday, Tuesday", "1. 8:35 Arrival", "2. 9:00 - 10:00 Maths", "3. 1:00 Home", "Wednesday", "9:00 Art"]
    words: list[Word] = []
    for i, text in enumerate(lines):
        words += words_at(text, 30, 30 + i * 16)
    timetable = read_text_stream(layout_of(page_of(words)))
    got = [(e.day, e.start, e.end, e.period, e.subject) for e in timetable.entries]
    assert ("MON", "08:35", "09:00", "1", "Arrival") in got
    assert ("TUE", "09:00", "10:00", "2", "Maths") in got
    assert ("MON", "13:00", None, "3", "Home") in got
    assert ("WED", "09:00", None, None, "Art") in got


def test_no_days_gives_no_entries_and_a_warning() -> None:
    timetable = read_text_stream(layout_of(page_of(words_at("Minutes of the meeting 12.11.2024", 20, 20))))
    assert timetable.entries == []
    assert timetable.warnings


def test_phrases_join_wrapped_time_labels_and_stacked_letters() -> None:
    words = words_at("8.45 –", 100, 100) + words_at("8.55", 100, 112)
    words += words_at("M", 300, 100) + words_at("O", 300, 112) + words_at("N", 300, 124)
    texts = sorted(p.text for p in build_phrases(words))
    assert texts == ["8.45 – 8.55", "MON"]


CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@pytest.mark.parametrize("name", ["l7de_pdf_002.pdf", "l4_pdf_002.pdf"])
def test_corpus_pdf_reads_close_to_truth(name: str) -> None:
    """Two digital corpus PDFs (German days-as-columns, a teacher timetable): most entries right."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip("corpus not present")
    from timetable_platform.extraction.base import Limits
    from timetable_platform.extraction.pipeline import load_document
    from timetable_platform.extraction.readers import read_layout

    layout = read_layout(load_document(path, limits=Limits()), Limits())
    timetable = read_text_stream(layout)
    truth = json.loads(path.with_suffix(".json").read_text())["entries"]
    predicted = {(e.day, e.start, e.end, e.subject.casefold()) for e in timetable.entries}
    hits = sum((t["day"], t["start"], t["end"], t["subject"].casefold()) in predicted for t in truth)
    assert hits / len(truth) >= 0.85
    assert len(timetable.entries) <= len(truth) * 1.1


def test_day_names_lost_by_ocr_are_inferred_with_a_warning() -> None:
    """No day header at all: a time column and five evenly spaced text columns read as MON..FRI."""
    words: list[Word] = []
    col_x = [150, 280, 410, 540, 670]
    times = ["08:50-09:40", "09:40-10:30", "10:50-11:40", "11:40-12:30"]
    for r, label in enumerate(times):
        y = 70 + r * 40
        words += cell([label], 20, y, row_h=40)
        for c, x in enumerate(col_x):
            words += cell([["Maths", "Art", "PE", "Latin", "Music"][(r + c) % 5], "R1"], x, y, row_h=40)
    timetable = read_text_stream(layout_of(page_of(words)))
    got = {(x.day, x.start): x for x in timetable.entries}
    assert got[("MON", "08:50")].subject == "Maths" and got[("FRI", "11:40")].subject == "PE"
    assert len(timetable.entries) == 20
    assert any("no day names found" in w for w in timetable.warnings)
    assert all(x.confidence is not None and x.confidence < 0.85 for x in timetable.entries)


def test_records_one_line_per_block() -> None:
    """Day, start, end and text in columns; the day printed once for its lines; a Week column."""
    rows = [
        ("Day", "Week", "Start", "End", "Subject", "Room"),
        ("Monday", "A", "8.30", "9.15", "Maths", "R101"),
        ("", "A", "9.15", "10.00", "Art", "A-2"),
        ("", "B", "1.15", "2.00", "PE", "Gym"),
        ("Tuesday", "A", "8.30", "9.15", "Latin", "R7"),
    ]
    xs = [20, 120, 170, 240, 310, 420]
    words: list[Word] = []
    for r, row in enumerate(rows):
        for x, text in zip(xs, row, strict=True):
            if text:
                words += words_at(text, x, 30 + r * 20)
    timetable = read_text_stream(layout_of(page_of(words)))
    got = [(x.day, x.week, x.start, x.end, x.subject, x.room) for x in timetable.entries]
    assert got == [
        ("MON", "A", "08:30", "09:15", "Maths", "R101"),
        ("MON", "A", "09:15", "10:00", "Art", "A-2"),
        ("MON", "B", "13:15", "14:00", "PE", "Gym"),
        ("TUE", "A", "08:30", "09:15", "Latin", "R7"),
    ]


def test_list_under_week_headings() -> None:
    lines = ["Week A", "Monday", "9:00 - 10:00 Maths", "Week B", "Monday", "9:00 - 10:00 Art"]
    words: list[Word] = []
    for i, text in enumerate(lines):
        words += words_at(text, 30, 30 + i * 16)
    timetable = read_text_stream(layout_of(page_of(words)))
    assert [(x.week, x.day, x.subject) for x in timetable.entries] == [("A", "MON", "Maths"), ("B", "MON", "Art")]


@pytest.mark.parametrize(
    ("text", "is_period"),
    [("P1", True), ("Period 1", True), ("1.", True), ("1. Heure", True), ("1ª ora", True), ("1e uur", True),
     ("Lesson 3", True), ("Std. 2", True), ("5a", False), ("7B", False), ("Room 5", False), ("10:00", False)],
)
def test_period_labels(text: str, is_period: bool) -> None:
    from timetable_platform.reading.textstream import PERIOD_LABEL

    assert bool(PERIOD_LABEL.match(text)) is is_period


def test_rotated_text_is_read_as_phrases() -> None:
    """Words written up a narrow cell (rotation 90) read bottom to top, neighbouring lines together."""
    up = [
        Word("Early", BBox(100, 150, 110, 180), rotation=90),
        Word("Registration", BBox(100, 185, 110, 250), rotation=90),
        Word("work", BBox(113, 200, 123, 225), rotation=90),
    ]
    flat = words_at("Maths", 300, 100)
    texts = sorted(p.text for p in build_phrases([*up, *flat]))
    assert texts == ["Maths", "Registration Early work"]


def test_letter_column_with_a_picture_on_one_day() -> None:
    words = words_at("Time", 20, 20)
    col_x = [150, 250, 350, 450, 550]
    for x, name in zip(col_x, ["Mon", "Tue", "Wed", "Thu", "Fri"], strict=True):
        words += words_at(name, x, 20)
    words += words_at("9:00-10:00", 20, 60) + words_at("3.20", 20, 100)
    for x, mark in zip(col_x, ["H", "O", "M", "E", "▪"], strict=True):
        words += words_at("Maths", x, 60) + words_at(mark, x + 10, 100)
    timetable = read_text_stream(layout_of(page_of(words)))
    home = [(x.day, x.start, x.end, x.subject, x.kind) for x in timetable.entries if x.start == "15:20"]
    assert home == [(d, "15:20", None, "Home", "other") for d in ("MON", "TUE", "WED", "THU", "FRI")]


def test_two_timed_lessons_in_one_cell() -> None:
    words = words_at("Monday", 150, 20) + words_at("Tuesday", 300, 20)
    words += words_at("14:15-15:00", 20, 60)
    words += words_at("14:15-14:35 PE", 150, 55) + words_at("14:35-15:00 Maths", 150, 67)
    words += words_at("Art", 300, 60)
    found = entries_by_key(layout_of(page_of(words)))
    assert found[("MON", "14:15", "14:35")][0] == "PE"
    assert found[("MON", "14:35", "15:00")][0] == "Maths"
    assert found[("TUE", "14:15", "15:00")][0] == "Art"


def test_a_lone_letter_in_a_cell_is_no_lesson() -> None:
    """The stub of a ruling in an empty row of a photographed grid reads as 'I' or 'l': the grid reader
    drops a name of fewer than two letters, and so does the word stream."""
    layout = days_as_columns(centred=True)
    page = layout.pages[0]
    # An afternoon row with one lesson, and stubs read as letters on Monday and Wednesday.
    page.words += cell(["12:30-13:20"], 20, 260, row_h=40) + cell(["Latin", "VOS", "R7"], 540, 260, row_h=40)
    page.words += words_at("I", 160, 275) + words_at("l", 420, 275)
    found = entries_by_key(layout)
    assert [(key, value[0]) for key, value in found.items() if key[1] == "12:30"] == [
        (("THU", "12:30", "13:20"), "Latin")
    ]
    assert found[("MON", "08:50", "09:40")] == ("Maths", "OKA", "R101", "lesson")
