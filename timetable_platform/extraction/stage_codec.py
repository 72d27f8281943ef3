"""JSON (de)serialisation of a stage's result, its layout included.

The Dagster steps run the two stages as separate steps and pass candidates through the blob store
as JSON. Carrying the layout lets the second stage reuse the first stage's reading (``context.layout``)
instead of reading and OCR-ing the document again. The round trip is exact: every field of every
``domain.layout`` dataclass is written, floats as JSON numbers (Python writes them with enough digits
to read back the same value).
"""

from __future__ import annotations

from typing import Any

from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word
from timetable_platform.domain.model import Timetable
from timetable_platform.extraction.base import StageResult

# Bumped when the layout's JSON shape changes; a stored layout of another format is not used
# (the interpreter then reads the document itself, as it did before layouts were stored).
LAYOUT_FORMAT = 1


def _bbox(box: BBox) -> list[float]:
    return [box.x0, box.top, box.x1, box.bottom]


def _bbox_or_none(box: BBox | None) -> list[float] | None:
    return None if box is None else _bbox(box)


def _read_bbox(data: list[float]) -> BBox:
    x0, top, x1, bottom = data
    return BBox(x0, top, x1, bottom)


def _read_bbox_or_none(data: list[float] | None) -> BBox | None:
    return None if data is None else _read_bbox(data)


def _word(word: Word) -> dict[str, Any]:
    return {
        "text": word.text,
        "bbox": _bbox(word.bbox),
        "confidence": word.confidence,
        "rotation": word.rotation,
        "style": word.style,
    }


def _read_word(data: dict[str, Any]) -> Word:
    return Word(
        text=data["text"],
        bbox=_read_bbox(data["bbox"]),
        confidence=data["confidence"],
        rotation=data["rotation"],
        style=data["style"],
    )


def _line(line: Line) -> dict[str, Any]:
    return {"words": [_word(w) for w in line.words], "bbox": _bbox(line.bbox)}


def _read_line(data: dict[str, Any]) -> Line:
    return Line(words=[_read_word(w) for w in data["words"]], bbox=_read_bbox(data["bbox"]))


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "row": cell.row,
        "col": cell.col,
        "text": cell.text,
        "rowspan": cell.rowspan,
        "colspan": cell.colspan,
        "bbox": _bbox_or_none(cell.bbox),
        "lines": [_line(line) for line in cell.lines],
        "confidence": cell.confidence,
        "background": cell.background,
    }


def _read_cell(data: dict[str, Any]) -> Cell:
    return Cell(
        row=data["row"],
        col=data["col"],
        text=data["text"],
        rowspan=data["rowspan"],
        colspan=data["colspan"],
        bbox=_read_bbox_or_none(data["bbox"]),
        lines=[_read_line(line) for line in data["lines"]],
        confidence=data["confidence"],
        background=data["background"],
    )


def _table(table: Table) -> dict[str, Any]:
    return {
        "n_rows": table.n_rows,
        "n_cols": table.n_cols,
        "cells": [_cell(c) for c in table.cells],
        "bbox": _bbox_or_none(table.bbox),
        "caption": table.caption,
    }


def _read_table(data: dict[str, Any]) -> Table:
    return Table(
        n_rows=data["n_rows"],
        n_cols=data["n_cols"],
        cells=[_read_cell(c) for c in data["cells"]],
        bbox=_read_bbox_or_none(data["bbox"]),
        caption=data["caption"],
    )


def _page(page: Page) -> dict[str, Any]:
    return {
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "words": [_word(w) for w in page.words],
        "lines": [_line(line) for line in page.lines],
        "tables": [_table(t) for t in page.tables],
        "rulings": [_bbox(r) for r in page.rulings],
        "boxes": [_bbox(b) for b in page.boxes],
        "fills": [_bbox(b) for b in page.fills],
    }


def _read_page(data: dict[str, Any]) -> Page:
    return Page(
        number=data["number"],
        width=data["width"],
        height=data["height"],
        words=[_read_word(w) for w in data["words"]],
        lines=[_read_line(line) for line in data["lines"]],
        tables=[_read_table(t) for t in data["tables"]],
        rulings=[_read_bbox(r) for r in data["rulings"]],
        boxes=[_read_bbox(b) for b in data.get("boxes", [])],  # layouts stored before boxes were kept have none
        fills=[_read_bbox(b) for b in data.get("fills", [])],
    )


def layout_to_json(layout: Layout) -> dict[str, Any]:
    """``layout`` as JSON-ready data (lists, dicts, strings, numbers, None)."""
    return {
        "format": LAYOUT_FORMAT,
        "pages": [_page(p) for p in layout.pages],
        "media_type": layout.media_type,
        "reader": layout.reader,
        "languages": list(layout.languages),
        "paragraphs": list(layout.paragraphs),
        "warnings": list(layout.warnings),
    }


def layout_from_json(data: dict[str, Any]) -> Layout | None:
    """The layout ``layout_to_json`` wrote; None for a layout stored in another format."""
    if data.get("format") != LAYOUT_FORMAT:
        return None
    return Layout(
        pages=[_read_page(p) for p in data["pages"]],
        media_type=data["media_type"],
        reader=data["reader"],
        languages=list(data["languages"]),
        paragraphs=list(data["paragraphs"]),
        warnings=list(data["warnings"]),
    )


def stage_to_json(stage: StageResult, *, with_layout: bool = True) -> dict[str, Any]:
    """``stage`` as JSON-ready data, its layout included unless ``with_layout=False``;
    ``mean_confidence`` is written for people reading the blob."""
    return {
        "backend": stage.backend,
        "seconds": stage.seconds,
        "pages": stage.pages,
        "input_tokens": stage.input_tokens,
        "output_tokens": stage.output_tokens,
        "cost_usd": stage.cost_usd,
        "warnings": list(stage.warnings),
        "mean_confidence": stage.mean_confidence,
        "timetable": stage.timetable.to_json_dict(),
        "layout": None if stage.layout is None or not with_layout else layout_to_json(stage.layout),
        # How many timetables (owners) the layout stage found: a school-wide document has two or more.
        "parts": len(stage.parts or []),
    }


def stage_from_json(data: dict[str, Any], *, with_layout: bool = True) -> StageResult:
    """The stage ``stage_to_json`` wrote. ``with_layout=False`` skips decoding the layout (the merge
    does not need it); a candidate stored before layouts were kept has none."""
    layout_data = data.get("layout") if with_layout else None
    return StageResult(
        timetable=Timetable.model_validate(data["timetable"]),
        backend=data["backend"],
        seconds=data["seconds"],
        layout=None if layout_data is None else layout_from_json(layout_data),
        pages=data.get("pages"),
        input_tokens=data.get("input_tokens", 0),
        output_tokens=data.get("output_tokens", 0),
        cost_usd=data.get("cost_usd", 0.0),
        warnings=list(data.get("warnings", [])),
    )
