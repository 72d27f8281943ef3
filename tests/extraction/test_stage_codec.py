"""A stage's result, layout included, survives the JSON the Dagster steps pass through the blob store."""

from __future__ import annotations

import json
from pathlib import Path

from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word
from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.extraction.base import StageResult
from timetable_platform.extraction.stage_codec import (
    LAYOUT_FORMAT,
    layout_from_json,
    layout_to_json,
    stage_from_json,
    stage_to_json,
)


def _through_json(data: dict) -> dict:
    return json.loads(json.dumps(data, ensure_ascii=False))


def _made_up_layout() -> Layout:
    maths = Word("Maths", BBox(10.25, 20.5, 48.125, 31.0), confidence=0.8731, style="bold")
    room = Word("R1", BBox(50.0, 20.5, 61.3, 31.0), confidence=0.5, style="#ff0000")
    vertical = Word("Monday", BBox(2.0, 40.0, 9.0, 90.0), confidence=0.99, rotation=90)
    upside = Word("Üben", BBox(70.0, 40.0, 95.0, 50.0), rotation=270, style=None)
    line = Line([maths, room], BBox(10.25, 20.5, 61.3, 31.0))
    merged = Cell(
        row=1,
        col=0,
        text="Maths R1",
        rowspan=2,
        colspan=3,
        bbox=BBox(0.0, 18.0, 120.0, 60.0),
        lines=[line, Line([upside], upside.bbox)],
        confidence=0.61,
        background="#c0ffee",
    )
    plain = Cell(row=0, col=1, text="Tue")  # defaults: no box, no lines, no background
    table = Table(n_rows=3, n_cols=3, cells=[plain, merged], bbox=BBox(0, 0, 120, 60), caption="Week A")
    bare_table = Table(n_rows=1, n_cols=1, cells=[Cell(row=0, col=0, text="")])
    first = Page(
        number=1,
        width=595.2756,
        height=841.8898,
        words=[maths, room, vertical, upside],
        lines=[line],
        tables=[table, bare_table],
        rulings=[BBox(0, 18, 120, 18.5), BBox(60.0, 0, 60.4, 60)],
        boxes=[BBox(4, 20, 58, 40.5)],
    )
    empty = Page(number=2, width=1240, height=1754)  # image pixels: ints stay ints
    return Layout(
        pages=[first, empty],
        media_type="image/png",
        reader="tesseract",
        languages=["de", "en"],
        paragraphs=["Stundenplan 7B", "Notes: bring 1/3 of a \"cake\"\n"],
        warnings=["page 2 is blank"],
    )


def test_layout_round_trips_exactly_through_json() -> None:
    layout = _made_up_layout()
    back = layout_from_json(_through_json(layout_to_json(layout)))
    assert back == layout
    # Equality of floats and of int vs float: the boxes are the same numbers, not just close.
    assert back is not None and type(back.pages[1].width) is int
    assert back.pages[0].tables[0].cells[1].lines[1].words[0].rotation == 270
    assert back.pages[0].tables[0].grid()[2][2] is back.pages[0].tables[0].cells[1]  # spans still cover their slots


def test_stage_round_trips_with_its_layout_and_figures() -> None:
    timetable = Timetable(
        title="7B", entries=[Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.75)]
    )
    stage = StageResult(
        timetable=timetable,
        backend="embedded:tesseract",
        seconds=1.25,
        layout=_made_up_layout(),
        pages=2,
        input_tokens=12,
        output_tokens=34,
        cost_usd=0.0015,
        warnings=["a warning"],
    )
    back = stage_from_json(_through_json(stage_to_json(stage)))
    assert back == stage
    assert back.mean_confidence == 0.75

    without = stage_from_json(_through_json(stage_to_json(stage)), with_layout=False)
    assert without.layout is None and without.timetable == stage.timetable
    assert stage_to_json(stage, with_layout=False)["layout"] is None


def test_a_candidate_stored_before_layouts_were_kept_or_in_another_format_has_no_layout() -> None:
    stage = StageResult(timetable=Timetable(entries=[]), backend="embedded:pdfplumber", seconds=0.1)
    old = stage_to_json(stage)
    del old["layout"]
    assert stage_from_json(old).layout is None
    other = layout_to_json(_made_up_layout()) | {"format": LAYOUT_FORMAT + 1}
    assert layout_from_json(other) is None


def test_a_real_reading_round_trips_exactly(corpus_dir: Path) -> None:
    from timetable_platform.extraction.base import Limits
    from timetable_platform.extraction.readers import read_document

    path = corpus_dir / "l1_pdf_001.pdf"
    _, layout = read_document(path.read_bytes(), path.name, Limits())
    assert layout.pages[0].tables and layout_from_json(_through_json(layout_to_json(layout))) == layout
