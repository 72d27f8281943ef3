"""OCR reader: images (PNG, JPEG, TIFF, WebP, HEIC, ...) and PDFs without a text layer -> ``Layout``.

Per page: decode under the pixel limit, make the page upright and flat (``ocr.preprocess``), find
the table grids from rulings and shading (``ocr.gridlines``), then OCR every non-empty cell and
every text block outside the tables in one batched Tesseract call (``ocr.engine``). Vertical text
(headers written at 90 or 270 degrees) is read by rotating its cell. Coordinates in the layout are
pixels of the corrected (upright, deskewed) page.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

import cv2
import numpy as np

from timetable_platform.domain.days import LANGUAGES, full_names, language_evidence, parse_day
from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word
from timetable_platform.domain.text import words as text_words
from timetable_platform.domain.times import find_times, parse_time_range, strip_times, with_lost_separators
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import (
    CorruptDocument,
    EncryptedDocument,
    NoTimetableFound,
    TooLarge,
)
from timetable_platform.extraction.ocr.engine import (
    TARGET_TEXT_HEIGHT,
    OcrEngine,
    OcrWord,
    TesseractEngine,
    installed_languages,
)
from timetable_platform.extraction.ocr.gridlines import GridTable, Rulings, find_rulings, find_tables
from timetable_platform.extraction.ocr.preprocess import PreparedPage, binarize, decode_image, prepare_page
from timetable_platform.reading.geometry import union_boxes, x_overlap, y_overlap

READER_NAME = "tesseract"
PDF_RENDER_DPI = 200
# Below this mean confidence a vertical cell is read again turned the other way.
ROTATION_RETRY_CONFIDENCE = 0.6


@dataclass
class _Crop:
    """One region sent to OCR and how to map its words back to the page."""

    image: np.ndarray
    origin: tuple[int, int]  # page x, y of the crop's top-left (before rotation)
    size: tuple[int, int]  # width, height of the unrotated crop
    rotation: int  # 0, 90 (text reads bottom-to-top) or 270 (top-to-bottom)
    scale: float
    table: int | None = None  # index into the page's tables, None for text outside tables
    cell: int | None = None
    words: list[OcrWord] = field(default_factory=list)


def read_image_layout(document: Document, limits: Limits, *, languages: str | None = None) -> Layout:
    """Layout of an image file; every frame of a multi-frame TIFF is a page."""
    frames = decode_image(document.content, limits)
    if not frames:
        raise CorruptDocument("The image has no frames.")
    reader = _PageReader(_languages(languages))
    pages: list[Page] = []
    warnings: list[str] = []
    for number, frame in enumerate(frames, start=1):
        prepared = prepare_page(frame)
        pages.append(reader.read(prepared, number))
        warnings.extend(f"page {number}: {note}" for note in prepared.notes)
    return _finish(pages, document.media_type, warnings)


def read_scanned_pdf_layout(document: Document, limits: Limits, *, languages: str | None = None) -> Layout:
    """Layout of a PDF without a text layer: each page rendered with pypdfium2 and read by OCR."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(document.content)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise EncryptedDocument("The PDF is password-protected.", detail=str(exc)) from exc
        raise CorruptDocument("The PDF could not be opened.", detail=str(exc)) from exc
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise CorruptDocument("The PDF has no pages.")
        if n_pages > limits.max_pages:
            raise TooLarge(f"The PDF has {n_pages} pages, over the limit of {limits.max_pages}.")
        reader = _PageReader(_languages(languages))
        pages: list[Page] = []
        warnings: list[str] = []
        for index in range(n_pages):
            pdf_page = pdf[index]
            width_pt, height_pt = pdf_page.get_size()
            scale = PDF_RENDER_DPI / 72
            if width_pt * scale * height_pt * scale > limits.max_pixels:
                # Render big pages at a lower resolution rather than refuse them.
                scale = (limits.max_pixels / (width_pt * height_pt)) ** 0.5 * 0.99
                if scale < 0.5:  # under 36 dpi nothing is legible
                    raise TooLarge(f"Page {index + 1} is too large to render within the pixel limit.")
            try:
                image = pdf_page.render(scale=scale).to_pil()
            except pdfium.PdfiumError as exc:
                raise CorruptDocument(f"Page {index + 1} of the PDF could not be rendered.", detail=str(exc)) from exc
            prepared = prepare_page(image)
            pages.append(reader.read(prepared, index + 1))
            warnings.extend(f"page {index + 1}: {note}" for note in prepared.notes)
    finally:
        pdf.close()
    return _finish(pages, document.media_type, warnings)


# Tesseract language codes for the ISO codes ``detect_languages`` returns.
_TESSERACT_CODES = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld", "pt": "por"}
# Languages whose subject names commonly carry letters the English model does not read (Matemáticas,
# Géographie, Educação): a page is read again in one of them on its abbreviated day names or its
# subjects alone. German and Dutch pages are read again only when they name a day in full: the
# English model reads their subjects nearly as well, and their models misread other print ('3C').
_ACCENTED = frozenset({"fra", "spa", "ita", "por"})


# The model clock times are read again with, whatever the page's language.
DIGITS_LANGUAGE = "eng"


class _PageReader:
    """Reads pages with the first configured language, and again with the page's own language alone
    when the first pass finds another configured language's timetable words (loading all six models
    at once costs about 3 s a call, one model 0.6 s)."""

    def __init__(self, languages: str) -> None:
        installed = installed_languages()
        # A configured language whose model this machine lacks is skipped, not an error on every page.
        self.allowed = [code for code in languages.split("+") if code and (not installed or code in installed)]
        self.first = self.allowed[0] if self.allowed else "eng"

    def read(self, prepared: PreparedPage, number: int) -> Page:
        found, fresh, page = _read_crops(prepared, number, TesseractEngine(languages=self.first))
        # Only the page's most likely language reads it again: an Indonesian page has no model here,
        # and reading it as the runner-up language would only garble it.
        texts = [w.text for w in page.words]
        detected = detect_languages(texts)
        other = _TESSERACT_CODES.get(detected[0]) if detected else None
        if other is not None and other not in _ACCENTED and not _names_a_day_in_full(texts, detected[0]):
            other = None
        if other is None or other == self.first or other not in self.allowed:
            return page
        # The page's own language reads every crop again (the grids found stay). Keeping the crops
        # that read as digits only was measured worse: the recogniser reads a sheet as a whole.
        # A time's digits are the same in every language, and the English model reads small blurred digits
        # far better than the others (a photo's header times: '0895-0950' in Italian, '0855-0950' in English).
        digits = TesseractEngine(languages=DIGITS_LANGUAGE if DIGITS_LANGUAGE in self.allowed else self.first)
        _ocr(TesseractEngine(languages=other), fresh, digits=digits)
        return _assemble(prepared, number, dataclasses.replace(found, crops=fresh))


def _languages(languages: str | None) -> str:
    if languages:
        return languages
    from timetable_platform.settings import get_settings

    return get_settings().ocr_languages


def _finish(pages: list[Page], media_type: str, warnings: list[str]) -> Layout:
    if not any(page.words for page in pages):
        if any(page.tables for page in pages):
            raise NoTimetableFound("A table grid was found but no text could be read in it.")
        raise NoTimetableFound("No table and no readable text were found in the image.")
    paragraphs = [line.text for page in pages for line in page.lines if not _in_table(line.bbox, page.tables)]
    words = [w.text for page in pages for w in page.words]
    low = [w for page in pages for w in page.words if w.confidence < 0.5]
    if words and len(low) > 0.4 * len(words):
        warnings.append("low OCR confidence on many words; check the image quality")
    return Layout(
        pages=pages,
        media_type=media_type,
        reader=READER_NAME,
        languages=detect_languages(words),
        paragraphs=paragraphs,
        warnings=warnings,
    )


def _in_table(box: BBox, tables: list[Table]) -> bool:
    x, y = box.center
    return any(t.bbox is not None and t.bbox.contains_point(x, y) for t in tables)


@dataclass
class _PageCrops:
    """A page's ruling lines, table grids and the regions to OCR, before any OCR."""

    rulings: Rulings
    grids: list[GridTable]
    crops: list[_Crop]
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)


def read_page(prepared: PreparedPage, number: int, engine: OcrEngine) -> Page:
    """OCR one upright page into words, lines and tables."""
    return _read_crops(prepared, number, engine)[2]


def _read_crops(prepared: PreparedPage, number: int, engine: OcrEngine) -> tuple[_PageCrops, list[_Crop], Page]:
    """The page's crops read by ``engine`` (with unread copies, for a second language) and the page they
    make. Grids that only frame the print are left out when the page read without them keeps its words."""
    found = _find_crops(prepared)
    fresh = [dataclasses.replace(crop) for crop in found.crops]
    _ocr(engine, found.crops)
    page = _assemble(prepared, number, found)
    frames = _frames(page)
    if frames:
        unframed = _find_crops(prepared, frames=frames)
        unframed_fresh = [dataclasses.replace(crop) for crop in unframed.crops]
        _ocr(engine, unframed.crops)
        without = _assemble(prepared, number, unframed)
        # Text blocks can miss print a cell crop reads (a dark screen photographed): then the frame stays.
        if len(without.words) >= FRAME_WORDS_KEPT * len(page.words):
            return unframed, unframed_fresh, without
    return found, fresh, page


# A cell naming this many different days and printing this many times holds a whole timetable.
FRAME_DAYS = 3
FRAME_TIMES = 3
# The share of its words a page read without its frames must keep (overlapping cells of a false grid
# read some print twice).
FRAME_WORDS_KEPT = 0.5


def _frames(page: Page) -> frozenset[int]:
    """Grids that only frame the print: one slot of theirs holds a whole timetable, days and times (a
    photo's sheet edge or a border drawn around an unruled table, taken for a grid). Read as one cell,
    the timetable's lines run together across its columns; found as text blocks, they stay apart. (A
    cell merged over every slot of a grid is the grid's own lines missed; the rulings still place its
    words.)"""
    frames = set()
    for index, table in enumerate(page.tables):
        for cell in table.cells:
            if cell.rowspan * cell.colspan >= table.n_rows * table.n_cols > 1:
                continue
            days = {parse_day(word) for word in cell.text.split()} - {None}
            if len(days) >= FRAME_DAYS and len(find_times(cell.text)) >= FRAME_TIMES:
                frames.add(index)
                break
    return frozenset(frames)


def _find_crops(prepared: PreparedPage, *, frames: frozenset[int] = frozenset()) -> _PageCrops:
    """The page's grids and the crops to read; ``frames`` (indices of the grids found) are left out,
    their lines erased and their print read as text outside tables."""
    rulings = find_rulings(prepared.gray, prepared.color)
    letter = _char_height(binarize(prepared.gray))
    boxes = find_filled_boxes(prepared.color, letter or 20.0)
    found = [grid for grid in find_tables(prepared.gray, prepared.color, rulings) if not _cut_through_boxes(grid, boxes)]
    grids = [grid for index, grid in enumerate(found) if index not in frames]
    clean = _without_rulings(prepared.gray, rulings, found)  # a frame's lines go too
    crops: list[_Crop] = []
    for table_index, grid in enumerate(grids):
        for cell_index, cell in enumerate(grid.cells):
            crop = _cell_crop(clean, cell.box, prepared.color, letter, faint=True)
            if crop is None:
                continue
            for part in _split_by_text_size(crop):
                part.table, part.cell = table_index, cell_index
                crops.append(part)
    # With no grid on the page, its upright rules are a table's ruled only between columns; beside a
    # grid they are mostly the sides of boxes and cards, whose print reads best with them. A dark
    # screen is an app's, drawn with cards and coloured bars, not a printed table.
    vertical = None if grids or prepared.inverted else rulings.vertical
    crops.extend(_outside_text_crops(clean, grids, prepared.color, inverted=prepared.inverted, vertical=vertical))
    return _PageCrops(rulings=rulings, grids=grids, crops=crops, boxes=boxes)


# A grid whose outline cuts this many filled boxes is not a table (see _cut_through_boxes).
CUT_BOXES = 2
# A box reaching this far past a grid's outline is cut by it; less is a cell's fill bleeding past its ruling.
CUT_REACH = 10


def _cut_through_boxes(grid: GridTable, boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether the grid's outline runs through coloured boxes. A table's fills end at its rulings; the
    hour lines of a calendar week view pass behind its event boxes, and a "grid" pieced together
    from those lines and the boxes' edges has events hanging over its border. Read as a table, it
    cuts each event in two; outside tables each box is read whole."""
    x0, y0, x1, y1 = grid.box
    cut = 0
    for bx0, by0, bx1, by1 in boxes:
        overlap = max(0, min(x1, bx1) - max(x0, bx0)) * max(0, min(y1, by1) - max(y0, by0))
        if overlap <= 0.15 * (bx1 - bx0) * (by1 - by0):
            continue
        reach = max(x0 - bx0, bx1 - x1, y0 - by0, by1 - y1)
        cut += reach > CUT_REACH
    return cut >= CUT_BOXES


def _assemble(prepared: PreparedPage, number: int, found: _PageCrops) -> Page:
    rulings, grids, crops = found.rulings, found.grids, found.crops
    _restore_mark_ones(crops)
    page = Page(number=number, width=float(prepared.width), height=float(prepared.height))
    page.rulings = _ruling_segments(rulings)
    page.boxes = [BBox(float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1 in found.boxes]
    cell_lines: dict[tuple[int, int], list[Line]] = {}
    outside_lines: list[Line] = []
    for crop in crops:
        lines = _crop_lines(crop)
        for line in lines:
            page.words.extend(line.words)
        if crop.table is not None and crop.cell is not None:
            cell_lines.setdefault((crop.table, crop.cell), []).extend(lines)
        else:
            outside_lines.extend(lines)

    for word in page.words:
        word.style = _ink_colour(prepared.color, word.bbox)
    for table_index, grid in enumerate(grids):
        page.tables.append(_table(grid, table_index, cell_lines))
    specks = _blank_specks(page.tables, outside_lines)
    if specks:  # the mark is gone from every crop that read it
        outside_lines = [line for line in outside_lines if not any(b.contains_point(*line.bbox.center) for b in specks)]
        page.words = [word for word in page.words if not any(b.contains_point(*word.bbox.center) for b in specks)]
    _attach_captions(page.tables, outside_lines)
    all_lines = outside_lines + [line for table in page.tables for cell in table.cells for line in cell.lines]
    page.lines = sorted(all_lines, key=lambda line: (round(line.bbox.top / 8), line.bbox.x0))
    page.words = _read_once(page.words)
    page.words.sort(key=lambda w: (round(w.bbox.top / 8), w.bbox.x0))
    return page


def _read_once(words: list[Word]) -> list[Word]:
    """One word for print that two overlapping crops both read (a header band inside a frame that the
    grid finder took for cells of its own): the same text on mostly the same box is one word."""
    kept: list[Word] = []
    by_text: dict[str, list[BBox]] = {}
    for word in sorted(words, key=lambda w: -w.confidence):
        box = word.bbox
        area = box.width * box.height
        seen = by_text.setdefault(word.text, [])
        if any(
            max(0.0, x_overlap(box, o)) * max(0.0, y_overlap(box, o)) >= 0.5 * min(area, o.width * o.height)
            for o in seen
        ):
            continue
        seen.append(box)
        kept.append(word)
    return kept


def _without_rulings(gray: np.ndarray, rulings: Rulings, grids: list[GridTable]) -> np.ndarray:
    """The grey page with the table's ruling lines painted white, so they do not reach OCR as "|".

    Only line pixels near a cell's own border are erased: strokes of big bold letters also pass
    the line filters, and erasing them would cut the letters.
    """
    near_edges = np.zeros_like(gray)
    band = 5
    for grid in grids:
        for cell in grid.cells:
            x0, y0, x1, y1 = cell.box
            near_edges[max(0, y0 - band) : y1 + band + 1, max(0, x0 - band) : x1 + band + 1] = 255
            near_edges[y0 + band : max(y0 + band, y1 - band), x0 + band : max(x0 + band, x1 - band)] = 0
    lines = cv2.bitwise_and(_line_shaped_ink(rulings), near_edges)  # shading edges are not ink
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    clean = gray.copy()
    clean[lines > 0] = 255
    return clean


def _line_shaped_ink(rulings: Rulings) -> np.ndarray:
    """Ink on the ruling masks, keeping only horizontal runs as long as a short ruling. The edge
    between a plain and a filled row is a separator but not ink, and its mask is a band several pixels
    high: a line of small print just above a coloured row (the times under a period number) lies in
    that band, and erasing all ink there cuts the letters in half. Vertical masks stay whole: their
    bands are narrow, and what is left of a column border is read as a letter."""
    short = max(8, min(rulings.horizontal.shape) // 80)
    horizontal = cv2.bitwise_and(rulings.horizontal, rulings.ink)
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3 * short, 1)))
    return cv2.bitwise_or(horizontal, cv2.bitwise_and(rulings.vertical, rulings.ink))


def _char_height(ink: np.ndarray) -> float | None:
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = [
        int(stats[i, cv2.CC_STAT_HEIGHT])
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_AREA] >= 6 and stats[i, cv2.CC_STAT_HEIGHT] >= 4
    ]
    if not heights:
        return None
    return float(np.percentile(heights, 75))


def _orientation(ink: np.ndarray, letter: float | None = None) -> int:
    """0 for horizontal text, 90 for vertical text (direction settled later by OCR confidence).

    Smearing ink along the writing direction joins letters into a few blobs (one per word or line);
    smearing across it leaves them apart. Whichever direction gives clearly fewer blobs is the
    writing direction. Letter size is taken orientation-free (the longer side of each blob).
    ``letter`` is the page's letter height, when known.
    """
    points = cv2.findNonZero(ink)
    if points is None:
        return 0
    _, _, width, height = cv2.boundingRect(points)
    # Rotated text makes a block taller than wide; a wider block is horizontal lines set close
    # together, which a vertical smear would join as well.
    if width > 0.9 * height:
        return 0
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    along = _elongation(stats[1:])
    if along is not None:
        return along
    sizes = [
        max(int(stats[i, cv2.CC_STAT_WIDTH]), int(stats[i, cv2.CC_STAT_HEIGHT]))
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_AREA] >= 6
    ]
    if len(sizes) < 3:  # letters run together (blur): a tall narrow block is a rotated word
        # ... as wide as the page's letters are tall; a block much narrower is one narrow glyph
        # standing upright (a period number '1' alone in its cell).
        if letter is not None and width < NARROW_GLYPH * letter:
            return 0
        return 90 if height >= 1.8 * width else 0
    k = max(3, int(float(np.median(sizes)) * 0.6))

    def blobs(kernel: tuple[int, int]) -> int:
        smeared = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        n, _, smeared_stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
        return sum(1 for i in range(1, n) if smeared_stats[i, cv2.CC_STAT_AREA] >= 6)

    across, down = blobs((k, 1)), blobs((1, k))
    return 90 if down < 0.7 * across else 0


# A lone blob narrower than this share of the page's letter height is a glyph, not a word turned.
NARROW_GLYPH = 0.5


def _elongation(stats: np.ndarray) -> int | None:
    """0 or 90 when most of the ink lies in blobs stretched one way: in a blurred photo or scan the
    letters of a word run together into one blob that lies along the writing direction, and then a
    smear tells nothing (the words are already joined, and lines set close together join across)."""
    widths, heights, areas = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    total = float(areas[areas >= 6].sum())
    if total == 0:
        return None
    # Three words at least: one tall digit ('1', '7') or a dash is a stretched blob too.
    is_wide, is_tall = (widths >= 2 * heights) & (areas >= 6), (heights >= 2 * widths) & (areas >= 6)
    wide, tall = float(areas[is_wide].sum()), float(areas[is_tall].sum())
    if is_wide.sum() >= 3 and wide >= 0.5 * total and tall < 0.25 * wide:
        return 0
    if is_tall.sum() >= 3 and tall >= 0.5 * total and wide < 0.25 * tall:
        return 90
    return None


def _cell_crop(
    clean: np.ndarray,
    box: tuple[int, int, int, int],
    color: np.ndarray | None = None,
    letter: float | None = None,
    *,
    faint: bool = False,
) -> _Crop | None:
    x0, y0, x1, y1 = box
    inset = 3
    origin = (x0 + inset, y0 + inset)
    region = clean[y0 + inset : y1 - inset, x0 + inset : x1 - inset]
    if region.size == 0 or min(region.shape) < 6:
        return None
    painted = color[y0 + inset : y1 - inset, x0 + inset : x1 - inset] if color is not None else None

    def from_colour() -> _Crop | None:
        # The colour channel where print and fill differ most: light print on a fill (web and app
        # timetables) is lost or haloed in the normalised grey, which takes the letters for paper.
        channel = _most_contrasting_channel(painted) if painted is not None else None
        return _crop_from_region(channel, origin, letter, faint=faint) if channel is not None else None

    if painted is not None and _light_print_on_fill(painted):
        return from_colour() or _crop_from_region(region, origin, letter, faint=faint)
    return _crop_from_region(region, origin, letter, faint=faint) or from_colour()


# Lines whose letters differ in height by this factor are read as separate crops, each at its own scale.
TEXT_SIZE_RATIO = 1.8


def _split_by_text_size(crop: _Crop) -> list[_Crop]:
    """A cell printing a big label over small text (a period number over its times, a subject over a
    teacher code in a corner) is read best line by line: one scale for both leaves the small line
    too small for OCR, and Tesseract, reading one block, takes the small line for noise beside the
    big one. Groups of text lines of clearly different letter heights become crops of their own."""
    if crop.rotation != 0:
        return [crop]
    threshold, ink = cv2.threshold(crop.image, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Faint small print, cut by the threshold into slivers, is still one line.
    ink = cv2.bitwise_or(ink, _faint_print(crop.image, threshold))
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    if len(rows) == 0:
        return [crop]
    bands: list[tuple[int, int]] = []
    start = previous = int(rows[0])
    for row in rows[1:]:
        if row > previous + 2:  # a blank gap of two rows or more ends a band
            bands.append((start, previous + 1))
            start = int(row)
        previous = int(row)
    bands.append((start, previous + 1))
    heights = [_char_height(ink[a:b]) or float(b - a) for a, b in bands]
    groups: list[list[int]] = [[0]]
    for index in range(1, len(bands)):
        low, high = sorted((heights[index - 1], heights[index]))
        if high >= TEXT_SIZE_RATIO * max(low, 1.0):
            groups.append([])
        groups[-1].append(index)
    if len(groups) == 1:
        return [crop]
    parts: list[_Crop] = []
    for group in groups:
        top = bands[group[0]][0] if group[0] == 0 else (bands[group[0] - 1][1] + bands[group[0]][0]) // 2
        last = group[-1]
        bottom = bands[last][1] if last == len(bands) - 1 else (bands[last][1] + bands[last + 1][0]) // 2
        if group[0] == 0:
            top = 0
        if last == len(bands) - 1:
            bottom = crop.image.shape[0]
        band_heights = [heights[i] for i in group]
        scale = float(np.clip(TARGET_TEXT_HEIGHT / max(float(np.median(band_heights)), 1.0), 1.0, 3.0))
        image = crop.image[top:bottom]
        parts.append(
            dataclasses.replace(
                crop, image=image, origin=(crop.origin[0], crop.origin[1] + top), size=(image.shape[1], image.shape[0]),
                scale=scale, words=[],
            )
        )
    return parts


def _light_print_on_fill(region: np.ndarray) -> bool:
    """Whether a cell holds light print on a darker fill: the fill (median) well below white, a
    minority of pixels far lighter than it and few far darker."""
    if region.ndim != 3 or region.size == 0:
        return False
    grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    fill = float(np.median(grey))
    if fill > 170:
        return False
    light = float((grey > fill + 80).mean())
    dark = float((grey < fill - 60).mean())
    return 0.01 < light < 0.4 and light > 2 * dark  # dark print with a pale edge left in the crop is not


def _most_contrasting_channel(region: np.ndarray) -> np.ndarray | None:
    """The B, G or R plane of a cell whose print stands furthest from the fill (None if none has print)."""
    if region.ndim != 3 or region.size == 0:
        return None
    best: tuple[float, np.ndarray] | None = None
    for index in range(region.shape[2]):
        plane = np.ascontiguousarray(region[:, :, index])
        fill = float(np.median(plane))
        spread = max(fill - float(np.percentile(plane, 0.2)), float(np.percentile(plane, 99.8)) - fill)
        if best is None or spread > best[0]:
            best = (spread, plane)
    return best[1] if best is not None and best[0] >= 80 else None


def _crop_from_region(
    region: np.ndarray, origin: tuple[int, int], letter: float | None = None, *, faint: bool = False
) -> _Crop | None:
    """Tight crop around the ink of ``region``, oriented and scaled for OCR; None if blank. ``letter``
    is the page's letter height, when known; ``faint``: the crop reaches round faint print too (a table
    cell's small grey times or corner codes beside its bold print; text blocks outside tables are
    already cut round all their print)."""
    if not _has_print(region):
        return None
    region = _despeckled(_stretched(_dark_fill_inverted(region)))
    threshold, ink = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = _without_specks(ink)
    region, ink = _without_line_remnants(*_without_edge_lines(region, ink))
    points = cv2.findNonZero(ink)
    if points is None or len(points) < 12:
        return None
    # The crop reaches round the light print too, which can keep it upright (a wide line of small
    # times under a tall number), never turn it.
    seen = cv2.bitwise_or(ink, _faint_print(region, threshold)) if faint else ink
    x, y, w, h = cv2.boundingRect(cv2.findNonZero(seen))
    if w < 3 or h < 5:
        return None
    pad = 8
    ox, oy = max(0, x - pad), max(0, y - pad)
    tight = region[oy : y + h + pad, ox : x + w + pad]
    tight_ink = ink[oy : y + h + pad, ox : x + w + pad]
    rotation = _orientation(tight_ink, letter)
    if rotation == 90 and _orientation(seen[oy : y + h + pad, ox : x + w + pad], letter) == 0:
        rotation = 0
    image = cv2.rotate(tight, cv2.ROTATE_90_CLOCKWISE) if rotation == 90 else tight
    # Letter height as the text stands upright: for rotated text that is the blobs' width.
    upright_ink = cv2.rotate(tight_ink, cv2.ROTATE_90_CLOCKWISE) if rotation == 90 else tight_ink
    char_height = _char_height(upright_ink) or float(min(w, h))
    scale = float(np.clip(TARGET_TEXT_HEIGHT / max(char_height, 1.0), 1.0, 3.0))
    return _Crop(
        image=image,
        origin=(origin[0] + ox, origin[1] + oy),
        size=(tight.shape[1], tight.shape[0]),
        rotation=rotation,
        scale=scale,
    )


def _without_specks(ink: np.ndarray, smallest: int = 5) -> np.ndarray:
    """Specks dropped by size, not by opening: an opening also erases the 1-pixel strokes of small text."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = stats[:, cv2.CC_STAT_AREA] < smallest
    specks[0] = False
    ink = ink.copy()
    ink[specks[labels]] = 0
    return ink


# Print this far below the paper counts, however much darker the crop's boldest print is.
FAINT_PRINT_MARGIN = 50
# No letter of faint print stands less tall than this, in pixels.
FAINT_LETTER_HEIGHT = 4


def _faint_print(region: np.ndarray, threshold: float) -> np.ndarray:
    """Print much lighter than a crop's darkest print: small grey times under a big black period
    number, a thin corner code beside a bold subject. One Otsu threshold splits the black print from
    everything else and takes the grey print for paper; a second split among the lighter pixels finds
    it (no nearer the paper than a margin)."""
    lighter = region[region > threshold]
    none = np.zeros(region.shape, np.uint8)
    if lighter.size < 20:
        return none
    second, _ = cv2.threshold(lighter.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = min(second, float(np.median(region)) - FAINT_PRINT_MARGIN)
    if level <= threshold:
        return none
    faint = _without_specks(((region > threshold) & (region <= level)).astype(np.uint8) * 255, smallest=8)
    # A light rule (a heading's underline, a band's edge; broken into pieces by a photo's grain) is no
    # print: letters stand some pixels tall and are not drawn out along a line.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    rules = (heights < FAINT_LETTER_HEIGHT) | (np.maximum(widths, heights) >= 8 * np.maximum(np.minimum(widths, heights), 1))
    rules[0] = False
    if count > 1 and rules.any():
        faint[rules[labels]] = 0
    return faint


def _has_print(region: np.ndarray) -> bool:
    """Whether the region holds print: ink far from the paper level, away from the (erased) borders.
    Otsu on a blank cell splits paper grain or a photo's moire into "letters", so blank cells must
    not reach it; measured on printed and blank cells of scans and photos, print differs from the
    paper by 90 levels or more, grain by 65 or less."""
    margin = 6 if min(region.shape) > 24 else 0
    inner = region[margin : region.shape[0] - margin, margin : region.shape[1] - margin] if margin else region
    paper = float(np.median(inner))
    dark_ink = paper - float(np.percentile(inner, 0.2))
    light_ink = float(np.percentile(inner, 99.8)) - paper  # light text on a dark fill
    return max(dark_ink, light_ink) >= 80


def _without_edge_lines(region: np.ndarray, ink: np.ndarray, depth: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """White out rows / columns at the crop's edges that are mostly ink in long runs: what is left of a
    border. A row through a line of small print near the edge can be mostly ink too, but in short
    runs (the strokes of separate letters), and stays."""
    region, ink = region.copy(), ink.copy()
    height, width = ink.shape
    for index in [*range(min(depth, height)), *range(max(0, height - depth), height)]:
        if _border_like(ink[index]):
            ink[index], region[index] = 0, 255
    for index in [*range(min(depth, width)), *range(max(0, width - depth), width)]:
        if _border_like(ink[:, index]):
            ink[:, index], region[:, index] = 0, 255
    return region, ink


def _border_like(pixels: np.ndarray) -> bool:
    on = pixels > 0
    if on.mean() <= 0.4:
        return False
    # Longest run of ink: a quarter of the row or more is a line, not letters.
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    longest = int((edges[1::2] - edges[::2]).max()) if len(edges) else 0
    return longest >= 0.25 * len(pixels)


def _without_line_remnants(region: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paint out thin straight blobs (a border edge left in the crop, the edge of a fill band): they
    would stretch the tight crop and pass for a line of text written the other way."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return region, ink
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    letter = float(np.median(np.maximum(widths, heights)))
    long_side, short_side = np.maximum(widths, heights), np.maximum(np.minimum(widths, heights), 1)
    remnant = (long_side >= 8 * short_side) & (long_side >= 3 * letter) & (short_side <= max(6.0, letter / 2.5))
    if not remnant.any():
        return region, ink
    mask = np.isin(labels, np.flatnonzero(remnant) + 1)
    region, ink = region.copy(), ink.copy()
    region[mask] = 255
    ink[mask] = 0
    return region, ink


def _dark_fill_inverted(region: np.ndarray) -> np.ndarray:
    """Light text on a dark fill (header bands) turned into dark text on light: text is the minority
    side of the Otsu threshold, whatever the fill."""
    threshold, _ = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = float((region > threshold).mean())
    return 255 - region if bright < 0.4 else region


def _despeckled(region: np.ndarray) -> np.ndarray:
    """A grainy fill (grey paper under a scanner) binarised half-way between ink and paper, with
    specks removed; clean crops keep their grey levels, which the LSTM recogniser reads best."""
    mid_grey = float(((region > 80) & (region < 200)).mean())
    if mid_grey < 0.25:
        return region
    ink_level, paper_level = float(np.percentile(region, 1)), float(np.median(region))
    ink = np.where(region < (ink_level + paper_level) / 2, 255, 0).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < 8
    small[0] = False
    ink[small[labels]] = 0
    return 255 - ink


def _stretched(region: np.ndarray) -> np.ndarray:
    """Paper to white and ink to black for this crop alone: Tesseract thresholds a whole sheet at once,
    so a grey-filled cell next to white ones would otherwise lose its text. Everything lighter than
    three quarters of the way from ink to the median (paper) becomes white, which also wipes the
    light grain of scanned fills that the recogniser would read as letters."""
    low = float(np.percentile(region, 1))
    paper = low + 0.75 * (float(np.median(region)) - low)
    if paper - low < 40:
        return region
    scaled = (region.astype(np.float32) - low) * (255.0 / (paper - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _outside_text_crops(
    clean: np.ndarray,
    grids: list[GridTable],
    color: np.ndarray | None = None,
    *,
    inverted: bool = False,
    vertical: np.ndarray | None = None,
) -> list[_Crop]:
    """Text blocks outside the tables (titles, headings, footnotes, list timetables), and the print on
    coloured boxes there (calendar events, app cards), each box read from its own colour. Column rules
    outside any grid (``vertical``: a table ruled only between its columns) end the blocks."""
    masked = clean.copy()
    in_tables = np.zeros(clean.shape, bool)
    for grid in grids:
        x0, y0, x1, y1 = grid.box
        masked[y0:y1, x0:x1] = 255
        in_tables[y0:y1, x0:x1] = True
    ink = binarize(masked)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    char_height = _char_height(ink) or 20.0
    rules = np.zeros(ink.shape, bool)
    if vertical is not None:
        rules = _column_rules(vertical, ink, char_height) & ~in_tables
        masked[rules] = 255
        ink[rules] = 0
    crops: list[_Crop] = []
    if color is not None:
        for x, y, w, h in _filled_boxes(color, masked, in_tables, char_height):
            crop = _cell_crop(clean, (x, y, x + w, y + h), color, char_height)
            if crop is not None:
                crops.extend(_split_by_text_size(crop))
            masked[y : y + h, x : x + w] = 255
            ink[y : y + h, x : x + w] = 0
    page_area = clean.shape[0] * clean.shape[1]
    for (x, y, w, h), own in _text_blocks(ink, char_height, 0.3 * page_area, resplit=inverted, barriers=rules):
        region_ink = np.where(own, ink[y : y + h, x : x + w], 0)
        if cv2.countNonZero(region_ink) < 20:
            continue
        # A block's box can reach round part of a neighbour block (a header line stepping down beside
        # a taller label): that part is left out, the neighbour's own crop reads it whole.
        region = np.where(own, masked[y : y + h, x : x + w], 255).astype(masked.dtype)
        crop = _crop_from_region(region, (x, y), char_height)
        if crop is not None:
            crops.append(crop)
    return crops


# No letter stands this many text heights tall: a mark that does is a line, a frame or the dark edge
# of a scan.
TALL_MARK_HEIGHTS = 8


# A column rule stands this many letter heights tall and at most this share of one wide: no letter's
# stem does (a big title's stems are as tall as a few of the page's letters, and thick).
COLUMN_RULE_HEIGHTS = 6
COLUMN_RULE_WIDTH = 0.4

# A rule between columns has print on both sides within this many letter heights, along this share of
# its length at least: a screen's or a sheet's edge, a card's coloured bar have it on one side only.
SIDE_REACH = 3
SIDE_PRINT = 0.15


def _column_rules(vertical: np.ndarray, ink: np.ndarray, char_height: float) -> np.ndarray:
    """Where upright rules run (widened by two pixels): the pieces of the vertical ruling mask that
    are long, thin and printed. A table ruled only between its columns (zebra rows, no row lines)
    makes no grid; smeared into text blocks, its cells join across the rules into lines running
    over several days."""
    printed = cv2.bitwise_and(vertical, ink)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(printed, connectivity=8)
    heights, areas = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    # Thickness as area over height: a photographed rule leans, and its box is wider than the rule.
    long = np.flatnonzero(
        (heights >= COLUMN_RULE_HEIGHTS * char_height)
        & (areas <= np.maximum(3.0, COLUMN_RULE_WIDTH * char_height) * heights)
    )
    long = long[long > 0]
    reach = int(SIDE_REACH * char_height)
    apart = [i for i in long if _print_both_sides(ink, stats[i], reach)]
    apart = [i for i in apart if any(_side_by_side(stats[i], stats[k], reach) for k in apart if k != i)]
    if not apart:
        return np.zeros(ink.shape, bool)
    mask = np.isin(labels, apart).astype(np.uint8)
    return cv2.dilate(mask, np.ones((1, 5), np.uint8)) > 0


def _side_by_side(a: np.ndarray, b: np.ndarray, apart: int) -> bool:
    """Whether two rules run alongside each other, a column or more apart, over most of the shorter: a
    table's columns are ruled off by several rules side by side; a lone long line is an edge."""
    top, bottom = max(int(a[1]), int(b[1])), min(int(a[1] + a[3]), int(b[1] + b[3]))
    return abs(int(a[0]) - int(b[0])) >= apart and bottom - top >= 0.5 * min(int(a[3]), int(b[3]))


def _print_both_sides(ink: np.ndarray, stat: np.ndarray, reach: int) -> bool:
    x, y, w, h = (int(v) for v in stat[:4])
    rows = slice(y, y + h)
    left = ink[rows, max(0, x - reach) : x]
    right = ink[rows, x + w : x + w + reach]
    if left.size == 0 or right.size == 0:
        return False
    return bool((left > 0).any(axis=1).mean() >= SIDE_PRINT and (right > 0).any(axis=1).mean() >= SIDE_PRINT)


def _text_blocks(
    ink: np.ndarray, char_height: float, largest: float, *, resplit: bool, barriers: np.ndarray | None = None
) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Boxes (x, y, w, h) of the blocks of text in ``ink``: its print smeared along the lines, each with
    the mask of what it reads inside the box (not the print of a block reaching out of it). A block
    bigger than ``largest`` is read in strips or dropped: one crop of it reads badly. On an inverted
    dark screen (``resplit``) such a block is print joined by what surrounded the screen, dark now (a
    scan's white margin, a phone's outline): it is smeared again without marks taller than any letter."""
    blocks: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
    for (x, y, w, h), own in _smeared_blocks(ink, char_height, barriers):
        if w * h <= largest:
            blocks.append(((x, y, w, h), own))
            continue
        if not resplit:
            # A long listing in one block (a record table printed without rules): cut between its
            # lines into strips each small enough to read as one crop.
            blocks += [
                ((x, y + top, w, bottom - top), own[top:bottom])
                for top, bottom in _strips(np.where(own, ink[y : y + h, x : x + w], 0), largest / (2 * w))
            ]
            continue
        region = np.where(own, _without_tall_marks(ink[y : y + h, x : x + w], char_height), 0).astype(ink.dtype)
        blocks += [
            ((x + bx, y + by, bw, bh), inner)
            for (bx, by, bw, bh), inner in _smeared_blocks(region, char_height)
            if bw * bh <= largest
        ]
    return blocks


def _strips(ink: np.ndarray, tallest: float) -> list[tuple[int, int]]:
    """(top, bottom) of horizontal strips of ``ink`` cut in the blank rows between lines, each at most
    ``tallest`` rows of print. Print that runs on taller without a blank row (a photo's texture, a
    picture) is no strip: one crop of it reads badly."""
    inked = (ink > 0).any(axis=1)
    # Lines: runs of inked rows.
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    lines = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    strips: list[tuple[int, int]] = []
    for top, bottom in lines:
        if strips and bottom - strips[-1][0] <= tallest:
            strips[-1] = (strips[-1][0], bottom)
        else:
            strips.append((top, bottom))
    # Each strip reaches halfway into the blank rows around it.
    out = []
    for i, (top, bottom) in enumerate(strips):
        above = (strips[i - 1][1] + top) // 2 if i else 0
        below = (bottom + strips[i + 1][0]) // 2 if i + 1 < len(strips) else len(inked)
        if bottom - top <= tallest:
            out.append((above, below))
    return out


def _smeared_blocks(
    ink: np.ndarray, char_height: float, barriers: np.ndarray | None = None
) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    smear = cv2.dilate(
        ink, cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, int(char_height * 2.5)), max(3, int(char_height * 0.6))))
    )
    if barriers is not None:
        smear[barriers] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    kept = np.zeros(count, bool)
    kept[1:] = (stats[1:, cv2.CC_STAT_HEIGHT] >= char_height * 0.6) & (stats[1:, cv2.CC_STAT_WIDTH] >= char_height)
    x0s, y0s = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1s, y1s = x0s + stats[:, cv2.CC_STAT_WIDTH], y0s + stats[:, cv2.CC_STAT_HEIGHT]
    enclosed = _in_outlines(labels, stats, kept, kept & (stats[:, cv2.CC_STAT_HEIGHT] <= LABEL_BOX_HEIGHTS * char_height))
    blocks = []
    for i in np.flatnonzero(kept & ~enclosed):
        x, y, w, h = (int(v) for v in stats[i][:4])
        inside = labels[y : y + h, x : x + w]
        # Not the print of a block reaching out of this box: the crop would cut its words (read whole
        # in its own crop). A block wholly inside stays: the print around it sets the crop's letter size.
        sticks_out = kept & ((x0s < x) | (y0s < y) | (x1s > x + w) | (y1s > y + h))
        blocks.append(((x, y, w, h), ~sticks_out[inside]))
    return blocks


# A box drawn round a label stands at most this many letter heights tall (a frame round a table or a
# photographed sheet's edge is no label's box: the blocks inside it are read on their own).
LABEL_BOX_HEIGHTS = 5


def _in_outlines(labels: np.ndarray, stats: np.ndarray, kept: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which of the ``kept`` blocks lie in a hole of one of the ``boxes`` (masks over the blocks): a label printed in
    a drawn box (day names in rounded boxes), whose outline smears into a block closed round it. The
    outline's crop reads the label; a crop of its own would read it a second time, and an entry would
    print it twice. A block merely inside another's box (a sprawling block of a web page round a
    shorter one) is read alone."""
    x0s, y0s = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1s, y1s = x0s + stats[:, cv2.CC_STAT_WIDTH], y0s + stats[:, cv2.CC_STAT_HEIGHT]
    enclosed = np.zeros(len(boxes), bool)
    for i in np.flatnonzero(boxes):
        inner = kept & (x0s >= x0s[i]) & (y0s >= y0s[i]) & (x1s <= x1s[i]) & (y1s <= y1s[i])
        inner[i] = False
        if not inner.any():
            continue
        x, y, w, h = (int(v) for v in stats[i][:4])
        paper = np.pad((labels[y : y + h, x : x + w] != i).astype(np.uint8), 1, constant_values=1)
        cv2.floodFill(paper, None, (0, 0), 2)  # the paper reached from outside the block
        holes = paper[1:-1, 1:-1] == 1
        for j in np.flatnonzero(inner):
            cx, cy = (x0s[j] + x1s[j]) // 2 - x, (y0s[j] + y1s[j]) // 2 - y
            enclosed[j] |= bool(holes[cy, cx])
    return enclosed


def _without_tall_marks(ink: np.ndarray, char_height: float) -> np.ndarray:
    """``ink`` without its upright marks taller than any letter (lines, a frame's sides, a band); a
    sprawling mark (print a photo's noise joined up) stays."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    tall = [i for i in range(1, count) if heights[i] > TALL_MARK_HEIGHTS * char_height and heights[i] > 3 * widths[i]]
    if not tall:
        return ink
    return np.where(np.isin(labels, tall), 0, ink).astype(ink.dtype)


# Grey level under which a fill is dark enough to carry light print, whatever its colour.
DARK_FILL = 110


def _filled_boxes(
    color: np.ndarray, masked: np.ndarray, in_tables: np.ndarray, char_height: float
) -> list[tuple[int, int, int, int]]:
    """Boxes of solid colour outside the tables with light print on them (x, y, w, h): strongly
    coloured or dark areas wider than a stroke, several letters tall and wide. In the normalised grey
    such a box is taken for paper and its light print is lost. Found at half size (boxes are large)."""
    if in_tables.all():
        return []
    small = cv2.resize(color, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small_masked = cv2.resize(masked, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    blue, green, red = cv2.split(small)
    spread = cv2.subtract(cv2.max(cv2.max(blue, green), red), cv2.min(cv2.min(blue, green), red))
    # Strongly coloured, or dark in the normalised grey (a photo's shadow is not a box), or dark as
    # printed: a large dark box of a dull colour (brown, slate) is lifted to paper by the normalising.
    dark = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) < DARK_FILL
    solid = ((spread > 60) | (small_masked < 140) | dark).astype(np.uint8)
    small_tables = cv2.resize(in_tables.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    solid[small_tables > 0] = 0
    stroke = max(3, int(char_height * 0.3))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, np.ones((stroke, stroke), np.uint8))  # letters go
    solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((stroke, stroke), np.uint8))  # print on it stays
    count, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    boxes = []
    page_area = color.shape[0] * color.shape[1]
    for i in range(1, count):
        x, y, w, h = (2 * int(v) for v in stats[i][:4])
        area = 4 * int(stats[i][4])
        x, y, w, h = x + 2, y + 2, w - 4, h - 4  # inside the fill's edge, which half size blurs
        if h < 1.5 * char_height or w < 3 * char_height or w * h > 0.3 * page_area or area < 0.6 * w * h:
            continue
        if not _light_print_on_fill(color[y : y + h, x : x + w]):
            continue  # dark print on a pale fill reads well in the grey; a plain box holds nothing
        boxes.append((x, y, w, h))
    return boxes


def _ocr(engine: OcrEngine, crops: list[_Crop], *, digits: OcrEngine | None = None) -> None:
    """Read ``crops`` with ``engine``; clock times that read badly are read again with ``digits`` (by
    default the same engine)."""
    if not crops:
        return
    results = engine.read_crops([c.image for c in crops], [c.scale for c in crops])
    for crop, words in zip(crops, results, strict=True):
        crop.words = words
    # Vertical text could read either way; try the other direction where confidence is poor.
    retry = [c for c in crops if c.rotation == 90 and _mean_confidence(c.words) < ROTATION_RETRY_CONFIDENCE]
    if retry:
        flipped = [cv2.rotate(c.image, cv2.ROTATE_180) for c in retry]
        again = engine.read_crops(flipped, [c.scale for c in retry])
        for crop, words, image in zip(retry, again, flipped, strict=True):
            if _mean_confidence(words) > _mean_confidence(crop.words):
                crop.words, crop.rotation, crop.image = words, 270, image
    _retry_upright(engine, crops)
    _retry_short_rotated_words(engine, crops)
    _retry_weak_readings(engine, crops)
    _retry_time_labels(digits or engine, crops)


# A crop read this weakly is read again a size larger; the surer reading is kept when clearly surer.
WEAK_READING = 0.5
WEAK_RETRY_SCALE = 1.35
WEAK_RETRY_GAIN = 0.1


def _retry_weak_readings(engine: OcrEngine, crops: list[_Crop]) -> None:
    """Blurred small print (a phone photo of a printed sheet) reads weakly and wrongly at one size and
    often surely at another: the recogniser's errors change with the letters' size in pixels. Crops
    read weakly are read again a third larger, and the reading the recogniser is clearly surer of is
    kept."""
    retry = [c for c in crops if c.rotation == 0 and c.words and _mean_confidence(c.words) < WEAK_READING]
    if not retry:
        return
    again = engine.read_crops([c.image for c in retry], [c.scale * WEAK_RETRY_SCALE for c in retry])
    for crop, words in zip(retry, again, strict=True):
        if words and _mean_confidence(words) >= _mean_confidence(crop.words) + WEAK_RETRY_GAIN:
            crop.words = words


# What a clock time is printed with; a crop read again limited to these can only come back as a time.
TIME_CHARSET = "0123456789:.-"
_CLEAN_TIME = re.compile(r"\d{1,2}[:.]\d{2}(?:\s*[-–]\s*\d{1,2}[:.]\d{2})?")


def _retry_time_labels(engine: OcrEngine, crops: list[_Crop]) -> None:
    """Clock times in small bold print (the time labels of a header row or column) are where
    Tesseract's guesses go wrong most: a colon read as a degree sign, a 3 as a 2, or nothing read at
    all, and one lost label loses a whole column of lessons. One-line crops read as digits that do not
    make a clean time, or read weakly, or not read at all, are read again limited to the characters of
    a time, at their own size and a third larger (the recogniser's misreadings change with size); the
    clean time most of the readings agree on replaces the first reading."""
    retry = [c for c in crops if c.rotation == 0 and _one_line(c) and _may_be_time(c.words)]
    if not retry:
        return
    factors = (1.0, 1.3)
    # Both sizes in one call: each call starts Tesseract and loads its model again.
    read = engine.read_crops(
        [c.image for _ in factors for c in retry], [c.scale * f for f in factors for c in retry], charset=TIME_CHARSET
    )
    readings = [read[k * len(retry) : (k + 1) * len(retry)] for k in range(len(factors))]
    for index, crop in enumerate(retry):
        candidates = [crop.words, *(reading[index] for reading in readings)]
        clean = [(text, words) for words in candidates if (text := _clean_time_text(words)) is not None]
        if not clean:  # only when no reading is clean as it stands: dots and colons all lost
            clean = [(text, words) for words in candidates if (text := _clean_time_text(words, loose=True)) is not None]
        if not clean:
            continue
        votes = Counter(text for text, _ in clean)
        best = max(votes, key=lambda text: (votes[text], -[t for t, _ in clean].index(text)))
        chosen = next(words for text, words in clean if text == best)
        # One word printing the time as agreed ('9:25-10:20' for a reading '925-1020'), over the words read.
        crop.words = [
            OcrWord(
                text=best,
                box=(min(w.box[0] for w in chosen), min(w.box[1] for w in chosen),
                     max(w.box[2] for w in chosen), max(w.box[3] for w in chosen)),
                confidence=max(w.confidence for w in chosen),
                line=chosen[0].line,
            )
        ]  # fmt: skip


# Letters OCR reads for digits in small print.
_DIGIT_SHAPES = frozenset("SOoIlBZ")

# How long a slot a time label spans, in minutes.
LABEL_MINUTES = (5, 240)


# A time range in small print whose dots and dash OCR read as gaps ('11 45 12 30', '09 25-10 10'): four
# numbers apart, hours and minutes, in a label that holds nothing else.
_GAPPED_RANGE = re.compile(r"(\d{1,2})[\s.:](\d{2})\s*[\s–-]\s*(\d{1,2})[\s.:](\d{2})")
# ... and, ``loose``, the colons all lost too and the dash read as a dot or lost ('800.850', '1450.15 40',
# '08550950'), or the end's colon read as a dash ('14:50 - 15-35'); a reading that kept a colon lost digits
# rather than separators ('10:20-1120' for '10:20-11:00').
_RUN_TOGETHER_RANGE = re.compile(
    r"(\d{1,2})[\s.]?(\d{2})\s*[\s.–-]\s*(\d{1,2})[\s.]?(\d{2})"
    r"|(\d{1,2})[\s.:](\d{2})\s*[\s.–-]\s*(\d{1,2})[\s.:-](\d{2})"
    r"|(\d{2})(\d{2})(\d{2})(\d{2})"
)


def _clean_time_text(words: list[OcrWord], *, loose: bool = False) -> str | None:
    # A read limited to a time's characters may lose the dots ('925-1020'): a range of lesson length.
    text = with_lost_separators(" ".join(_clean_text(w.text) for w in words))
    gapped = (_RUN_TOGETHER_RANGE if loose else _GAPPED_RANGE).fullmatch(text)
    if gapped and not _CLEAN_TIME.fullmatch(text):
        hour, minute, end_hour, end_minute = (part for part in gapped.groups() if part is not None)
        text = f"{hour}:{minute}-{end_hour}:{end_minute}"
    match = parse_time_range(text) if _CLEAN_TIME.fullmatch(text) else None
    if match is None:
        return None
    if match.end is not None and not LABEL_MINUTES[0] <= match.end.minutes - match.start.minutes <= LABEL_MINUTES[1]:
        return None  # no slot runs so long ('7:30-3:50' is a misread '7:50-8:30')
    return re.sub(r"\s+", "", text).replace("–", "-").replace(".", ":")


def _one_line(crop: _Crop) -> bool:
    if crop.words:
        return len({w.line for w in crop.words}) == 1
    height, width = crop.image.shape[:2]
    return width >= 2.5 * height


def _may_be_time(words: list[OcrWord]) -> bool:
    """Nothing read; digits with no time among them, or beside a time they spoil ('10:50-11:490');
    or a lone time read weakly. A label that reads as a time beside a number of its own ('5 9:35-9:55',
    a period number and its times) is left as read."""
    if not words:
        return True
    text = " ".join(_clean_text(w.text) for w in words)
    # A range with a separator read as a gap ('11.40-12 35') finds a time and a lone number beside it.
    if _GAPPED_RANGE.fullmatch(with_lost_separators(text)) and not _CLEAN_TIME.fullmatch(text):
        return True
    if find_times(text):
        rest = strip_times(text).strip(" .–-")
        # Digits spoiled beside the time, and no words: a read limited to digits would lose words.
        spoiled = any(ch.isdigit() for ch in rest) and sum(ch.isalpha() for ch in rest) <= 1
        if rest and spoiled and not re.fullmatch(r"\d{1,2}\.?", rest):
            return True
        return bool(_CLEAN_TIME.fullmatch(text)) and _mean_confidence(words) < ROTATION_RETRY_CONFIDENCE
    digits = sum(ch.isdigit() for ch in text)
    # Letters that are a misread digit ('08 SS - 09 50') do not make a label words.
    letters = sum(ch.isalpha() and ch not in _DIGIT_SHAPES for ch in text)
    return digits >= 3 and letters <= 1


def _retry_upright(engine: OcrEngine, crops: list[_Crop]) -> None:
    """A crop turned by the shape of its ink and read poorly both ways round is read upright too: a
    narrow cell of short lines set close together (subject, room, teacher code) can look like a word
    written downwards, and its lines read upright then come out clearly better."""
    retry = [c for c in crops if c.rotation in (90, 270) and _mean_confidence(c.words) < ROTATION_RETRY_CONFIDENCE]
    if not retry:
        return
    turn_back = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 270: cv2.ROTATE_90_CLOCKWISE}
    upright = [cv2.rotate(c.image, turn_back[c.rotation]) for c in retry]
    again = engine.read_crops(upright, [c.scale for c in retry])
    for crop, words, image in zip(retry, again, upright, strict=True):
        # Confidence alone is fooled by symbols read off strokes turned on their side ('£ Qa. — l N').
        if _mean_confidence(words) > _mean_confidence(crop.words) and _word_characters(words) > _word_characters(
            crop.words
        ):
            crop.words, crop.rotation, crop.image = words, 0, image


def _word_characters(words: list[OcrWord]) -> int:
    """Letters and digits read in runs of two or more: what of a reading can be words."""
    return sum(len(run) for w in words for run in re.findall(r"[^\W_]{2,}", w.text))


def _retry_short_rotated_words(engine: OcrEngine, crops: list[_Crop]) -> None:
    """A rotated label of two or three letters (the day labels of a narrow day column, as aSc-style
    timetables print them) has too few letters for the blob test to see its direction, and read
    upright it is garbage. Taller-than-wide crops read poorly upright are read turned both ways,
    and the clearly better reading is kept."""
    retry = [
        c for c in crops
        if c.rotation == 0 and c.image.shape[0] > 0.8 * c.image.shape[1]
        and (
            _mean_confidence(c.words) < ROTATION_RETRY_CONFIDENCE
            or not _wordlike(c.words)
            or sum(ch.isalnum() for w in c.words for ch in w.text) <= 3
        )
    ]
    if not retry:
        return
    upright = [c.image for c in retry]
    for rotation, code in ((90, cv2.ROTATE_90_CLOCKWISE), (270, cv2.ROTATE_90_COUNTERCLOCKWISE)):
        turned = [cv2.rotate(image, code) for image in upright]
        again = engine.read_crops(turned, [c.scale for c in retry])
        for crop, words, image in zip(retry, again, turned, strict=True):
            confidence, current = _mean_confidence(words), _mean_confidence(crop.words)
            if not _wordlike(words) or confidence < ROTATION_RETRY_CONFIDENCE:
                continue
            if crop.rotation == 0:  # upright: turn only for a clearly better or a first wordlike reading
                better = not _wordlike(crop.words) or confidence > current + 0.15
            else:  # already turned one way: the other way must beat it
                better = confidence > current
            if better:
                crop.words, crop.rotation, crop.image = words, rotation, image


def _wordlike(words: list[OcrWord]) -> bool:
    """Whether OCR read letters or digits (two in a row somewhere), not a scatter of symbols."""
    return any(re.search(r"[^\W_]{2}", w.text) for w in words)


def _ink_colour(color: np.ndarray, box: BBox) -> str | None:
    """The colour a word is printed in, when it is a clear colour (red or blue notes under a black
    name, as teachers colour them): its darkest pixels' median, snapped to a small palette so that the
    words of one colour share one style. None for black, grey or a faint tint (a photo's cast)."""
    x0, y0 = max(0, int(box.x0)), max(0, int(box.top))
    x1, y1 = min(color.shape[1], int(box.x1) + 1), min(color.shape[0], int(box.bottom) + 1)
    region = color[y0:y1, x0:x1]
    if region.size == 0:
        return None
    pixels = region.reshape(-1, 3).astype(np.int16)
    grey = pixels.sum(axis=1)
    paper = float(np.percentile(grey, 90))
    ink = pixels[grey < paper - 180]  # 60 levels a channel below the paper around the word
    if len(ink) < 8:
        return None
    blue, green, red = (float(v) for v in np.median(ink, axis=0))
    if max(red, green, blue) - min(red, green, blue) < 90:
        return None
    red_, green_, blue_ = (0 if v < 64 else 128 if v < 192 else 255 for v in (red, green, blue))
    return f"#{red_:02x}{green_:02x}{blue_:02x}"


def _mean_confidence(words: list[OcrWord]) -> float:
    if not words:
        return 0.0
    weights = [len(w.text) for w in words]
    return float(sum(w.confidence * n for w, n in zip(words, weights, strict=True)) / sum(weights))


def _to_page_box(crop: _Crop, box: tuple[float, float, float, float]) -> BBox:
    """Map a box in the (possibly rotated) crop back to page coordinates."""
    x0, y0, x1, y1 = box
    width, height = crop.size
    if crop.rotation == 90:  # crop was turned clockwise: crop (x, y) -> original (y, height - x)
        px0, px1 = y0, y1
        py0, py1 = height - x1, height - x0
    elif crop.rotation == 270:  # turned counter-clockwise: crop (x, y) -> original (width - y, x)
        px0, px1 = width - y1, width - y0
        py0, py1 = x0, x1
    else:
        px0, py0, px1, py1 = x0, y0, x1, y1
    ox, oy = crop.origin
    return BBox(ox + max(0.0, px0), oy + max(0.0, py0), ox + max(0.0, px1), oy + max(0.0, py1))


def _crop_lines(crop: _Crop) -> list[Line]:
    by_line: dict[int, list[OcrWord]] = {}
    alone = len(crop.words) == 1
    for word in crop.words:
        if _is_noise(_clean_text(word.text), word.confidence, alone=alone):
            continue
        by_line.setdefault(word.line, []).append(word)
    lines: list[Line] = []
    for index in sorted(by_line):
        ocr_words = sorted(by_line[index], key=lambda w: w.box[0])
        words = [
            Word(
                text=_clean_text(w.text), bbox=_to_page_box(crop, w.box), confidence=round(w.confidence, 3),
                rotation=crop.rotation,
            )
            for w in ocr_words
        ]
        words = _join_split_times(words)
        lines.extend(_split_at_gaps(words) if crop.table is None and crop.rotation == 0 else [_line(words)])
    return lines


def _join_split_times(words: list[Word]) -> list[Word]:
    """A time OCR cut after its colon ('09:' and '30', a gap read inside small print) is one word."""
    joined: list[Word] = []
    for word in words:
        if joined and re.search(r"(?<!\d)\d{1,2}:$", joined[-1].text) and re.match(r"\d{2}(?![\d:.])", word.text):
            last = joined.pop()
            word = Word(
                text=last.text + word.text, bbox=union_boxes([last.bbox, word.bbox]),
                confidence=min(last.confidence, word.confidence), rotation=word.rotation,
            )
        joined.append(word)
    return joined


def _line(words: list[Word]) -> Line:
    return Line(words=words, bbox=union_boxes(w.bbox for w in words))


def _split_at_gaps(words: list[Word]) -> list[Line]:
    """Text outside ruled tables: words far apart on one baseline are separate columns, not a phrase
    (an unruled table's header "Mar   Mer   Jeu"), so they become separate lines."""
    height = sorted(w.bbox.height for w in words)[len(words) // 2]
    groups: list[list[Word]] = [[words[0]]]
    for previous, word in pairwise(words):
        gap = word.bbox.x0 - previous.bbox.x1
        # A time label ends its column: after a time, a wider gap than between words starts the next.
        # A dash after a time goes on to the range's end ('09:15  - 09:55'), however wide the gap.
        if gap > 2.5 * height or (gap > height and _ends_with_time(groups[-1]) and word.text[:1] not in "-–"):
            groups.append([])
        groups[-1].append(word)
    return [_line(group) for group in groups]


# In a table cell, a blank this many letter heights wide between two words on one line separates fields.
CELL_FIELD_GAP = 4.0


def _corner_fields(line: Line, cell: BBox) -> list[Line]:
    """A cell's line split into its left and right corner fields: web and aSc-style timetables print small
    fields in a cell's corners (a room bottom-left, a teacher code bottom-right) on one baseline, and
    OCR reads the pair as one line. Two word groups a wide blank apart, one against the cell's left
    edge and one against its right, are two fields; a phrase's words stand a letter or two apart, and
    a line of several columns (an unruled table read as one cell) is not two corners."""
    words = line.words
    if len(words) < 2 or any(w.rotation for w in words):
        return [line]
    height = sorted(w.bbox.height for w in words)[len(words) // 2]
    cuts = [k for k in range(1, len(words)) if words[k].bbox.x0 - words[k - 1].bbox.x1 > CELL_FIELD_GAP * height]
    if len(cuts) != 1:
        return [line]
    left, right = words[: cuts[0]], words[cuts[0] :]
    margin = 3 * height
    if left[0].bbox.x0 - cell.x0 > margin or cell.x1 - right[-1].bbox.x1 > margin:
        return [line]
    if not all(_field_like(group) for group in (left, right)):
        return [line]  # a speck read as a letter in a corner is no field
    return [_line(left), _line(right)]


def _field_like(words: list[Word]) -> bool:
    """Two letters or digits at least, or a number (a teacher code '5')."""
    text = "".join(w.text for w in words)
    return sum(ch.isalnum() for ch in text) >= 2 or text.isdigit()


def _ends_with_time(words: list[Word]) -> bool:
    text = " ".join(w.text for w in words)
    found = find_times(text)
    return bool(found) and not text[found[-1].span[1] :].strip(" .")


_NOISE = re.compile(r"^[\W_]{1,3}$")
# Two capitals or more, then an opening bracket and a letter or digit: a code with its mark.
_CODE_WITH_MARK = re.compile(r"^[A-Z]{2,}[a-z]?[({\[][A-Za-z0-9]")
_RULING_REMNANT = re.compile(r"^[|!\[\]{}()_=~]+$")
_DASHES = re.compile(r"[-‐‑‒–—―]{2,}|[‐‑‒—―]")


def _is_noise(text: str, confidence: float, *, alone: bool = False) -> bool:
    """Specks and leftover ruling fragments that OCR reads as punctuation."""
    if _RULING_REMNANT.match(text):
        return True
    if confidence < 0.25:
        # Tesseract gives a clearly printed long word a confidence near 0 now and then; specks never
        # read as a run of four or more letters.
        # Nor as a clock time, when the time is all a region holds (a time label on its own).
        if alone and re.search(r"\d[:.]\d\d", text):
            return False
        # Nor as a course code and its bracketed mark ('PHY(L)/JK' read weakly as 'PHY(LYJK').
        if _CODE_WITH_MARK.match(text):
            return False
        word = text.strip(".,:;()")
        return len(word) < 4 or not re.fullmatch(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", word)
    if confidence < 0.3 and len(text) <= 2:
        return True
    return bool(_NOISE.match(text)) and text not in {"-", "–", "&", "/", "+"} and confidence < 0.8


# A colon in small bold print read as a degree sign, between an hour and its minutes ("08°15").
_DEGREE_COLON = re.compile(r"(?<![\d.:])(\d{1,2})[°º](\d{2})(?!\d)")


# A cent sign is OCR's reading of a small 'C' ('3¢' for the class '3C'), or of a 0 inside a time ('13:1¢').
_CENT_IN_TIME = re.compile(r"(?<=\d[:.]\d)¢|(?<=\d[:.])¢(?=\d)")


# A dollar sign starting a code is OCR's reading of a capital S ('$232' for the room 'S232'), now and
# then read twice over ('$S232').
_DOLLAR_FOR_S = re.compile(r"(?<!\S)\$S?(?=\d)")


# Two clock times run together, OCR having lost the dash between them in small print ('3:104:10').
_LOST_DASH = re.compile(r"(?<![\d:.])((?:[01]?\d|2[0-3]):[0-5]\d)((?:[01]?\d|2[0-3]):[0-5]\d)(?![\d:])")


# A closing bracket and a slash in small serif print read as one letter: 'PHY(L)/KM' as 'PHY(LYKM',
# 'ECO(T2)/RS' as 'ECO(T2VRS' (a lecture, lab or batch mark, then the teacher's code). An opening bracket
# never closed, one or two capitals or digits, then Y, V, y or ¥ before a capital, a digit or a space.
_CLOSE_SLASH_AS_LETTER = re.compile(r"(\([A-Z0-9]{1,2})[YVy¥](?=[A-Z0-9\s]|$)(?![^(]*\))")

# An opening bracket in small print read as 'i': 'PHYiL)' for 'PHY(L)'. A word of capitals, an 'i', then
# one or two capitals or digits and a closing bracket.
_OPEN_BRACKET_AS_I = re.compile(r"(?<![^\s/])([A-Z]{2,})i(?=[A-Z0-9]{1,2}\))")

# A bracketed batch or tutorial mark, a capital and a digit ('PHY(P1)', 'ECO(T2)'); the same with a 1 read
# as a letter ('PHY(PI)', 'ECO(Tl)').
_MARK_WITH_DIGIT = re.compile(r"\(([A-Z])\d\)")
_MARK_WITH_ONE_AS_LETTER = re.compile(r"\(([A-Z])[Il|]\)")


def _restore_mark_ones(crops: list[_Crop]) -> None:
    """A page that numbers its batches in brackets ('(P2)', '(P3)') printed '(P1)' where OCR read
    '(PI)': the 1 of a mark whose letter the page numbers elsewhere is put back."""
    # The words as cleaning reads them: it puts back brackets OCR made letters of.
    cleaned = [[_clean_text(w.text) for w in crop.words] for crop in crops]
    numbered = {m[1] for texts in cleaned for text in texts for m in _MARK_WITH_DIGIT.finditer(text)}
    if not numbered:
        return
    for crop, texts in zip(crops, cleaned, strict=True):
        for word, text in zip(crop.words, texts, strict=True):
            fixed = _MARK_WITH_ONE_AS_LETTER.sub(lambda m: f"({m[1]}1)" if m[1] in numbered else m[0], text)
            if fixed != text:
                word.text = fixed


# A course code's number with letters OCR made of its digits ('NMECio1' for 'NMEC101', 'PHYlO2'): three to
# five capitals, then three characters of which one at least is a digit and the rest look like digits.
_CODE_NUMBER_AS_LETTERS = re.compile(r"(?<![\w])([A-Z]{3,5})([0-9oOilI|]{3})(?![\w])")
_DIGIT_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "i": "1", "l": "1", "I": "1", "|": "1"})


def _course_number(m: re.Match[str]) -> str:
    tail = m[2]
    if tail.isdigit() or not any(ch.isdigit() for ch in tail):
        return m[0]
    return m[1] + tail.translate(_DIGIT_LOOKALIKES)


# A short mark opened with a round bracket and closed with a curly or square one ('PHY(P1}'): OCR's misread.
_ROUND_CLOSED_OTHERWISE = re.compile(r"\(([A-Za-z0-9]{1,4})[}\]]")


def _clean_text(text: str) -> str:
    """One dash for the dash runs and look-alikes OCR makes of an en dash ("12-—1pm" -> "12–1pm"), a
    colon for the degree sign OCR reads between an hour and its minutes, and a C for a cent sign and
    an S for a dollar sign before digits (timetables print no prices; OCR reads small C and S so), the
    dash OCR lost between two clock times, a bracket and slash read as one letter, an opening
    bracket read as 'i', a round bracket closed by a curly one and a course number's digits read as
    letters."""
    text = _DOLLAR_FOR_S.sub("S", _CENT_IN_TIME.sub("0", text).replace("¢", "C"))
    text = _OPEN_BRACKET_AS_I.sub(r"\1(", _ROUND_CLOSED_OTHERWISE.sub(r"(\1)", text))
    text = _CLOSE_SLASH_AS_LETTER.sub(r"\1)/", text)
    text = _CODE_NUMBER_AS_LETTERS.sub(_course_number, text)
    text = _DEGREE_COLON.sub(r"\1:\2", _DASHES.sub("–", text))
    return _LOST_DASH.sub(r"\1–\2", text)


def _table(grid: GridTable, table_index: int, cell_lines: dict[tuple[int, int], list[Line]]) -> Table:
    cells: list[Cell] = []
    for cell_index, grid_cell in enumerate(grid.cells):
        x0, y0, x1, y1 = grid_cell.box
        box = BBox(float(x0), float(y0), float(x1), float(y1))
        lines = [part for line in cell_lines.get((table_index, cell_index), []) for part in _corner_fields(line, box)]
        cell = Cell(
            row=grid_cell.row,
            col=grid_cell.col,
            text="\n".join(line.text for line in lines),
            rowspan=grid_cell.rowspan,
            colspan=grid_cell.colspan,
            bbox=box,
            lines=lines,
            confidence=_cell_confidence(lines),
            background=grid_cell.background,
        )
        cells.extend(_split_false_merge(cell, grid))
    cells.sort(key=lambda c: (c.row, c.col))
    x0, y0, x1, y1 = grid.box
    return Table(n_rows=grid.n_rows, n_cols=grid.n_cols, cells=cells, bbox=BBox(float(x0), float(y0), float(x1), float(y1)))


# A lone unsure word this short in an otherwise empty cell is what OCR makes of shading, a shadow or
# a ruling's stub; printed short names ('PE', 'Art') read surely or come back in other cells.
SPECK_WORD_LENGTH = 3
SPECK_CONFIDENCE = 0.6


def _blank_specks(tables: list[Table], outside: list[Line]) -> list[BBox]:
    """Empty the body cells whose whole text is one short unsure word (letters only) that the page
    prints nowhere else: OCR read it from a mark in an empty cell. Header rows and columns (short day
    names) are left alone."""
    # Print outside the tables; a crop that overlaps a table reads its cells' words a second time.
    apart = [line for line in outside if not _in_table(line.bbox, tables)]
    seen = Counter(line.text.casefold() for line in apart)
    seen.update(cell.text.casefold() for table in tables for cell in table.cells if cell.text)
    blanked: list[BBox] = []
    for table in tables:
        for cell in table.cells:
            text = cell.text.strip()
            if (
                text
                and len(text) <= SPECK_WORD_LENGTH
                and text.isalpha()
                and cell.confidence < SPECK_CONFIDENCE
                and seen[text.casefold()] == 1
                and cell.row > 0
                and cell.col > 0
            ):
                if cell.bbox is not None:
                    blanked.append(cell.bbox)
                cell.text, cell.lines = "", []
    return blanked


def _cell_confidence(lines: list[Line]) -> float:
    words = [w for line in lines for w in line.words]
    if not words:
        return 1.0
    return round(sum(w.confidence for w in words) / len(words), 3)


def _split_false_merge(cell: Cell, grid: GridTable) -> list[Cell]:
    """Split a spanning cell whose words sit in separate slots (a separator too faint to see, e.g. on
    a dark header band): every spanned column (row) holds words of its own and no word crosses an edge."""
    words = [w for line in cell.lines for w in line.words]
    # Only confident words can prove a separator: specks in a wide shaded cell read as junk letters.
    solid = [w for w in words if w.confidence >= 0.6 and sum(ch.isalnum() for ch in w.text) >= 2]
    if cell.bbox is None or not solid:
        return [cell]
    pieces = _split_on(cell, grid, solid)
    if len(pieces) == 1:
        return pieces
    # A cell merged across columns and rows alike (two separators lost) splits both ways: the columns
    # first, then each column's piece by its rows.
    return [part for piece in pieces for part in (_split_false_merge(piece, grid) if piece.colspan == 1 else [piece])]


def _split_on(cell: Cell, grid: GridTable, words: list[Word]) -> list[Cell]:
    """``cell`` split by ``words`` (the other words are dropped), or ``[cell]`` unchanged."""
    assert cell.bbox is not None
    for axis in ("col", "row"):
        span = cell.colspan if axis == "col" else cell.rowspan
        if span < 2:
            continue
        start = cell.col if axis == "col" else cell.row
        edges = grid.col_edges if axis == "col" else grid.row_edges
        groups: dict[int, list[Word]] = {}
        for word in words:
            lo, hi = (word.bbox.x0, word.bbox.x1) if axis == "col" else (word.bbox.top, word.bbox.bottom)
            centre = (lo + hi) / 2
            slot = next((k for k in range(start, start + span) if edges[k] <= centre < edges[k + 1]), None)
            if slot is None:
                slot = start if centre < edges[start] else start + span - 1
            overhang = max(0.0, edges[slot] - lo) + max(0.0, hi - edges[slot + 1])
            # A confident word across an edge means the text really spans: keep the merge.
            if overhang > 0.25 * max(hi - lo, 1.0) and word.confidence >= 0.6:
                break
            groups.setdefault(slot, []).append(word)
        else:
            # Words in (nearly) every slot; a slot left empty (a "#" header) becomes an empty cell.
            if len(groups) < max(2, span - 1) or not _separate_labels(groups, axis):
                continue
            if axis == "row" and _hugs_inner_edges(groups, edges):
                continue
            if not all(_ruled_beside(cell, grid, axis, k) for k in range(start + 1, start + span)):
                continue
            out: list[Cell] = []
            for slot in range(start, start + span):
                lines = _regroup_lines(groups.get(slot, []))
                if axis == "col":
                    box = BBox(float(edges[slot]), cell.bbox.top, float(edges[slot + 1]), cell.bbox.bottom)
                    row, col, rowspan, colspan = cell.row, slot, cell.rowspan, 1
                else:
                    box = BBox(cell.bbox.x0, float(edges[slot]), cell.bbox.x1, float(edges[slot + 1]))
                    row, col, rowspan, colspan = slot, cell.col, 1, cell.colspan
                out.append(
                    Cell(
                        row=row, col=col, text="\n".join(line.text for line in lines), rowspan=rowspan,
                        colspan=colspan, bbox=box, lines=lines, confidence=_cell_confidence(lines),
                        background=cell.background,
                    )
                )
            return out
    return [cell]


# The share of the table's other rows (columns) that must end a cell at an edge for it to be a slot
# boundary; an edge fewer of them end at divides single cells (two batches stacked in one period).
RULED_BESIDE = 0.5


def _ruled_beside(cell: Cell, grid: GridTable, axis: str, edge: int) -> bool:
    """Whether the table's other columns (rows, for axis "col") end a cell at ``edge`` (a row edge for
    axis "row"): a separator lost in one cell is printed in the others. An edge only a split cell's inner
    rule makes (aSc prints a period shared by two batches as two halves of one cell) crosses the whole
    table in the grid, yet the cells beside that one are whole across it. True when no cell lies beside."""
    crossing = ending = 0
    for g in grid.cells:
        if axis == "row":
            if g.col < cell.col + cell.colspan and cell.col < g.col + g.colspan:
                continue  # in the cell's own columns
            start, span, width = g.row, g.rowspan, g.colspan
        else:
            if g.row < cell.row + cell.rowspan and cell.row < g.row + g.rowspan:
                continue
            start, span, width = g.col, g.colspan, g.rowspan
        if start < edge < start + span:
            crossing += width
        elif start == edge:
            ending += width
    return crossing + ending == 0 or ending >= RULED_BESIDE * (crossing + ending)


def _hugs_inner_edges(groups: dict[int, list[Word]], edges: list[int]) -> bool:
    """Lines of one block centred in a tall merged cell: the first slot's text sits low in its slot and
    the last slot's text high in its, all drawn towards the edges between them (web timetables centre
    a double lesson's lines in the merged cell). Separate cells centre or top-align each text alone."""
    slots = sorted(groups)
    if len(slots) < 2:
        return False

    def offset(slot: int) -> float:
        top = min(w.bbox.top for w in groups[slot])
        bottom = max(w.bbox.bottom for w in groups[slot])
        height = max(edges[slot + 1] - edges[slot], 1)
        return ((top + bottom) / 2 - (edges[slot] + edges[slot + 1]) / 2) / height

    return offset(slots[0]) > 0.12 and offset(slots[-1]) < -0.12


def _separate_labels(groups: dict[int, list[Word]], axis: str) -> bool:
    """Neighbouring slot groups stand apart by more than a word space: separate labels, not one
    phrase that happens to fall between the column edges of a merged cell. A word space is measured
    in the print of the two words that face each other across the gap: a large name centred over
    two slots has wide spaces next to the small codes in the cell's corners."""

    def size(word: Word) -> float:
        return min(word.bbox.width, word.bbox.height)  # letter height, whichever way it is written

    slots = sorted(groups)
    for first, second in pairwise(slots):
        if axis == "col":
            before = max(groups[first], key=lambda w: w.bbox.x1)
            after = min(groups[second], key=lambda w: w.bbox.x0)
            gap = after.bbox.x0 - before.bbox.x1
        else:
            before = max(groups[first], key=lambda w: w.bbox.bottom)
            after = min(groups[second], key=lambda w: w.bbox.top)
            gap = after.bbox.top - before.bbox.bottom
        if gap < 0.9 * min(size(before), size(after)):
            return False
    return True


def _regroup_lines(words: list[Word]) -> list[Line]:
    """Words into lines by vertical overlap, top to bottom, left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.bbox.top, w.bbox.x0)):
        for line in lines:
            ref = line[0].bbox
            overlap = y_overlap(ref, word.bbox)
            if overlap > 0.5 * min(ref.height, word.bbox.height):
                line.append(word)
                break
        else:
            lines.append([word])
    out: list[Line] = []
    for line_words in lines:
        line_words.sort(key=lambda w: w.bbox.x0)
        out.append(Line(words=line_words, bbox=union_boxes(w.bbox for w in line_words)))
    return out


def _attach_captions(tables: list[Table], outside: list[Line]) -> None:
    """The text line just above a table (within two line heights) is its caption."""
    for table in tables:
        if table.bbox is None:
            continue
        above = [
            line
            for line in outside
            if line.bbox.bottom <= table.bbox.top + 2
            and line.bbox.x1 > table.bbox.x0
            and line.bbox.x0 < table.bbox.x1
            and table.bbox.top - line.bbox.bottom < 2.5 * max(line.bbox.height, 10)
        ]
        if above:
            table.caption = max(above, key=lambda line: line.bbox.bottom).text


def _ruling_segments(rulings: Rulings) -> list[BBox]:
    segments: list[BBox] = []
    for mask in (rulings.horizontal, rulings.vertical):
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, count):
            x, y, w, h, _ = (int(v) for v in stats[i])
            segments.append(BBox(float(x), float(y), float(x + w), float(y + h)))
    return segments


# Evidence that names a page's language: a full day name, or a week of abbreviations.
LANGUAGE_EVIDENCE = 2.0


def _names_a_day_in_full(words: list[str], language: str) -> bool:
    """Whether the page prints one of ``language``'s day names in full ('Montag', 'donderdag')."""
    full = {name for names in full_names(language) for name in names}
    return any(word in full for text in words for word in text_words(text))


def detect_languages(words: list[str]) -> list[str]:
    """ISO 639-1 codes of the languages whose day names (full or abbreviated, from CLDR) and timetable
    words the page prints, most evidence first; a language needs a full day name's worth of it."""
    scores = language_evidence(words)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], LANGUAGES.index(kv[0])))
    return [code for code, n in ranked if n >= LANGUAGE_EVIDENCE]


# A filled box differs from the paper by this much (colour spread or darkness, 0-255); a gap between
# two boxes is a row or column whose fill is under this share of the box's own.
BOX_FILL_LEVEL = 40
BOX_GAP_SHARE = 0.65
GAP_PERCENTILE = 90


def find_filled_boxes(color: np.ndarray, char_height: float) -> list[tuple[int, int, int, int]]:
    """Every box of solid colour on the page, whatever its print (x0, y0, x1, y1): calendar events,
    app cards, coloured lesson cells. Boxes drawn a few pixels apart (back-to-back events) join in
    the mask, so each area is cut again at rows or columns whose fill drops to the paper's. Found at
    half size when the print is large enough (boxes are large)."""
    factor = 2 if char_height >= 14 else 1
    small = cv2.resize(color, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA) if factor > 1 else color
    letter = char_height / factor
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    blue, green, red = cv2.split(small)
    spread = cv2.subtract(cv2.max(cv2.max(blue, green), red), cv2.min(cv2.min(blue, green), red))
    paper = _local_paper(grey)
    fill = np.maximum(spread.astype(np.int16), paper.astype(np.int16) - grey.astype(np.int16)).clip(0, 255).astype(np.uint8)
    solid = (fill > BOX_FILL_LEVEL).astype(np.uint8)
    stroke = max(2, int(letter * 0.5))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, np.ones((stroke, stroke), np.uint8))  # print on paper goes
    solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((stroke, stroke), np.uint8))  # print on a fill stays
    count, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=4)
    min_h, min_w = 1.5 * letter, 3 * letter
    area_limit = 0.3 * small.shape[0] * small.shape[1]
    out: list[tuple[int, int, int, int]] = []
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if h < min_h or w < min_w:
            continue
        for bx0, by0, bx1, by1 in _cut_at_gaps(fill, (x, y, x + w, y + h), min_w, min_h):
            region = solid[by0:by1, bx0:bx1]
            if region.size == 0 or region.mean() < 0.6 or (bx1 - bx0) * (by1 - by0) > area_limit:
                continue  # not a box (an outline, a shadow, a diagonal), or the page's own ground
            out.append((factor * bx0, factor * by0, factor * bx1, factor * by1))
    return _outermost(out)


def _outermost(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Boxes with those mostly inside a bigger one dropped: a streak across a scanned box parts its
    fill in two, whose outlines then overlap."""
    kept: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        x0, y0, x1, y1 = box
        inside = any(
            max(0, min(x1, k[2]) - max(x0, k[0])) * max(0, min(y1, k[3]) - max(y0, k[1])) > 0.5 * (x1 - x0) * (y1 - y0)
            for k in kept
        )
        if not inside:
            kept.append(box)
    return sorted(kept, key=lambda b: (b[1], b[0]))


def _local_paper(grey: np.ndarray) -> np.ndarray:
    """The paper's brightness around each pixel: the brightest level within a fifth of the page, which
    reaches past any box to the paper beside it (a photo's light and a scan's tint vary across the page)."""
    height, width = grey.shape
    step = 8
    tiny = cv2.resize(grey, (max(1, width // step), max(1, height // step)), interpolation=cv2.INTER_AREA)
    reach = max(3, min(tiny.shape) // 5) | 1
    paper = cv2.dilate(tiny, np.ones((reach, reach), np.uint8))
    paper = cv2.blur(paper, (reach, reach))
    return cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)


def _cut_at_gaps(
    fill: np.ndarray, box: tuple[int, int, int, int], min_w: float, min_h: float, depth: int = 0
) -> list[tuple[int, int, int, int]]:
    """``box`` cut at the rows (then columns) where the fill drops to under half the box's: the paper
    between two boxes. A row's fill is the level three quarters of its pixels reach, so that print
    (light print on a dark fill looks like paper) does not count."""
    x0, y0, x1, y1 = box
    region = fill[y0:y1, x0:x1]
    level = float(np.median(region))
    if level <= BOX_FILL_LEVEL or depth > 3:
        return [box] if level > BOX_FILL_LEVEL else []
    for axis in (1, 0):  # rows first: events in a day column stack
        profile = np.percentile(region, GAP_PERCENTILE, axis=axis)
        low = profile < BOX_GAP_SHARE * level
        if not low.any():
            continue
        pieces: list[tuple[int, int]] = []
        start: int | None = None
        for index, is_low in enumerate([*low, True]):
            if not is_low and start is None:
                start = index
            elif is_low and start is not None:
                pieces.append((start, index))
                start = None
        least = min_h if axis == 1 else min_w
        pieces = [(a, b) for a, b in pieces if b - a >= least]
        if len(pieces) == 1 and pieces[0] == (0, len(low)):
            continue
        out: list[tuple[int, int, int, int]] = []
        for a, b in pieces:
            part = (x0, y0 + a, x1, y0 + b) if axis == 1 else (x0 + a, y0, x0 + b, y1)
            out.extend(_cut_at_gaps(fill, part, min_w, min_h, depth + 1))
        return out
    return [box]
