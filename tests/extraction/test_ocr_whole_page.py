"""Whole-page OCR (``read_page``): each engine finds the text itself, and words come back with boxes in
the page's own pixels whatever the engine's scaling. One small rendered grid per test."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from tests.corpusgen.degrade import GridSpec, grid_page
from timetable_platform.extraction.ocr.engine import (
    OcrWord,
    RapidOcrEngine,
    TesseractEngine,
    _word_pieces,
    page_scale,
)

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")


def rendered_grid() -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """A small timetable as a grey page, and the box of the cell each word is printed in."""
    spec = GridSpec(
        rows=[["", "Monday", "Tuesday"], ["08:15", "Maths", "History"], ["10:45", "Chemistry", "French"]],
        col_widths=[120, 200, 200],
        row_heights=[60, 60, 60],
    )
    page = grid_page(spec, line_width=0)  # an unruled table: the reader erases rulings before OCR anyway
    gray = np.asarray(page.image.convert("L"))
    cells = {text: page.boxes[(r, c)] for r, row in enumerate(spec.rows) for c, text in enumerate(row) if text}
    return gray, cells


def assert_words_in_their_cells(words: list[OcrWord], cells: dict[str, tuple[int, int, int, int]]) -> None:
    by_text = {w.text: w for w in words}
    for text, (x0, y0, x1, y1) in cells.items():
        assert text in by_text, f"{text!r} not read; got {sorted(by_text)}"
        cx = (by_text[text].box[0] + by_text[text].box[2]) / 2
        cy = (by_text[text].box[1] + by_text[text].box[3]) / 2
        assert x0 < cx < x1 and y0 < cy < y1, f"{text!r} at {by_text[text].box}, cell {(x0, y0, x1, y1)}"


@needs_tesseract
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_tesseract_reads_a_whole_page_in_page_coordinates(scale: float) -> None:
    gray, cells = rendered_grid()
    words = TesseractEngine(languages="eng", psm=11).read_page(gray, scale)
    assert_words_in_their_cells(words, cells)
    assert all(0.0 <= w.confidence <= 1.0 for w in words)
    # Separate cells are separate text lines for sparse-text segmentation.
    lines = {w.text: w.line for w in words}
    assert lines["Maths"] != lines["History"]


@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None, reason="extra ocr-alt not installed")
def test_rapidocr_reads_a_whole_page_with_its_own_detector() -> None:
    gray, cells = rendered_grid()
    words = RapidOcrEngine().read_page(gray)
    assert_words_in_their_cells(words, cells)


@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None, reason="extra ocr-alt not installed")
def test_rapidocr_does_not_turn_upright_times_upside_down() -> None:
    """RapidOCR's line classifier reads a ruled "09:00" turned by 180 degrees ("00:60"); pages reach OCR
    upright, so whole-page reading goes without it."""
    spec = GridSpec(rows=[["", "Monday"], ["09:00", "Maths"]], col_widths=[120, 200], row_heights=[60, 60])
    gray = np.asarray(grid_page(spec).image.convert("L"))
    texts = [w.text for w in RapidOcrEngine().read_page(gray)]
    assert "09:00" in texts and "00:60" not in texts


def test_rapidocr_character_boxes_become_words() -> None:
    def box(x0: int, x1: int) -> list[list[int]]:
        return [[x0, 10], [x1, 10], [x1, 30], [x0, 30]]

    chars = [box(0, 10), box(10, 20), box(20, 28), box(28, 32), box(40, 50), box(50, 60)]
    assert _word_pieces(chars, ["A", "r", "t", " ", "7", "B"]) == [
        ("Art", (0.0, 10.0, 28.0, 30.0)),
        ("7B", (40.0, 10.0, 60.0, 30.0)),
    ]
    # Word-level pieces are words of their own; pieces that do not match the texts are refused.
    assert _word_pieces([box(0, 30), box(40, 60)], ["Room", "12"]) == [
        ("Room", (0.0, 10.0, 30.0, 30.0)),
        ("12", (40.0, 10.0, 60.0, 30.0)),
    ]
    assert _word_pieces([box(0, 10)], ["A", "B"]) is None


def test_page_scale_brings_letters_to_the_crops_size_within_limits() -> None:
    assert page_scale(13.0, (1000, 800)) == pytest.approx(2.0)
    assert page_scale(60.0, (1000, 800)) == 1.0  # large print is never shrunk
    assert page_scale(2.0, (1000, 800)) == 3.0  # tiny print is enlarged at most three times
    assert page_scale(5.0, (20000, 800)) == pytest.approx(1.5)  # within Tesseract's page size limit
    assert page_scale(None, (1000, 800)) == 1.0
