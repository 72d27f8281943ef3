"""PDF with a text layer -> layout (pdfplumber for words, rulings and ruled tables; pypdfium2 for the quick checks).

pypdfium2 opens the file first: it tells encrypted from damaged, counts pages and finds which pages
carry text in a few milliseconds, so limits and the OCR hand-off are decided before pdfplumber parses.
"""

from __future__ import annotations

import bisect
import io
import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pdfplumber
import pypdfium2
from pdfplumber.utils.text import WordExtractor

from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from timetable_platform.extraction.readers.common import group_lines, hex_colour, join_styles
from timetable_platform.reading.geometry import cluster_centres, gather_overflowing_text

READER = "pdfplumber"
# A page with fewer visible characters than this is treated as having no text layer (e.g. only a page number).
MIN_TEXT_CHARS = 8
# A picture covering this share of the page with (almost) no text over it is read by OCR.
IMAGE_PAGE_SHARE = 0.3
OUTLINED_TEXT_CURVES = 50
EDGE_TOLERANCE = 2.0  # points: cell edges closer than this are the same grid line

_BOLD = re.compile(r"bold|black|heavy|semibold|demi|[-,]bd\b", re.IGNORECASE)
_ITALIC = re.compile(r"italic|oblique|[-,]it\b", re.IGNORECASE)

# PDFium is not thread-safe, not even across documents: every pdfium call in the process holds this lock.
PDFIUM_LOCK = threading.RLock()

# pdfminer/pdfplumber are chatty about malformed files; the outcome is reported through our errors.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


@dataclass(frozen=True)
class PdfInfo:
    page_count: int
    text_chars: list[int]  # visible characters in the text layer, per page

    @property
    def has_text_layer(self) -> bool:
        return any(n >= MIN_TEXT_CHARS for n in self.text_chars)


def inspect_pdf(content: bytes, limits: Limits) -> PdfInfo:
    """Open with pdfium: raise Encrypted/Corrupt/TooLarge/Empty, else page count and text per page."""
    with PDFIUM_LOCK:
        return _inspect_pdf(content, limits)


def _inspect_pdf(content: bytes, limits: Limits) -> PdfInfo:
    try:
        pdf = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise EncryptedDocument(
                "The PDF is password-protected; remove the password (or print it to a new PDF) and upload again.",
                detail=str(exc),
            ) from exc
        raise CorruptDocument("The PDF is damaged and cannot be opened.", detail=str(exc)) from exc
    try:
        count = len(pdf)
        if count == 0:
            raise EmptyDocument("The PDF has no pages.")
        if count > limits.max_pages:
            raise TooLarge(f"The PDF has {count} pages; the limit is {limits.max_pages}.")
        chars: list[int] = []
        for index in range(count):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            chars.append(sum(1 for ch in text if not ch.isspace()))
    except pypdfium2.PdfiumError as exc:
        raise CorruptDocument("The PDF is damaged and cannot be read.", detail=str(exc)) from exc
    finally:
        pdf.close()
    return PdfInfo(page_count=count, text_chars=chars)


def read_pdf_layout(document: Document, limits: Limits, info: PdfInfo | None = None) -> Layout:
    """Layout of a PDF that has a text layer (pages that need OCR are kept as read, with a warning)."""
    return read_pdf_pages(document, limits, info)[0]


def read_pdf_pages(
    document: Document, limits: Limits, info: PdfInfo | None = None
) -> tuple[Layout, list[int]]:
    """The layout, and the numbers of pages whose content is an image: no text layer, or a picture
    (a pasted screenshot or scan) covering much of the page with no text over it."""
    info = info or inspect_pdf(document.content, limits)
    warnings: list[str] = []
    pages: list[Page] = []
    image_pages: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(document.content)) as pdf:
            if len(pdf.pages) != info.page_count:
                warnings.append(f"page count differs between readers ({len(pdf.pages)} vs {info.page_count})")
            for plumber_page in pdf.pages[: limits.max_pages]:
                page = _read_page(plumber_page)
                if _is_image_page(plumber_page, page):
                    image_pages.append(page.number)
                    warnings.append(f"page {page.number} is an image without a text layer")
                pages.append(page)
    except (EncryptedDocument, CorruptDocument, TooLarge):
        raise
    except Exception as exc:  # pdfminer raises many unrelated types on malformed input
        if "password" in str(exc).lower() or "encrypt" in type(exc).__name__.lower():
            raise EncryptedDocument("The PDF is password-protected.", detail=repr(exc)) from exc
        raise CorruptDocument("The PDF is damaged and its text cannot be read.", detail=repr(exc)) from exc
    layout = Layout(
        pages=pages, media_type=document.media_type, reader=READER, paragraphs=page_paragraphs(pages),
        warnings=warnings,
    )  # fmt: skip
    return layout, image_pages


def page_paragraphs(pages: list[Page]) -> list[str]:
    """Text lines outside tables, page by page, in reading order."""
    return [line.text for page in pages for line in _lines_outside_tables(page)]


def _is_image_page(plumber_page: Any, page: Page) -> bool:
    if sum(len(w.text) for w in page.words) < MIN_TEXT_CHARS:
        # A blank page needs nothing; a scan (image) or text drawn as outlines (many curves) needs OCR.
        return bool(plumber_page.images) or len(plumber_page.curves) > OUTLINED_TEXT_CURVES
    page_area = max(page.width * page.height, 1.0)
    for image in plumber_page.images:
        box = BBox(float(image["x0"]), float(image["top"]), float(image["x1"]), float(image["bottom"]))
        if box.width * box.height < IMAGE_PAGE_SHARE * page_area:
            continue
        covered = sum(1 for w in page.words if box.contains_point(*w.bbox.center))
        if covered < MIN_TEXT_CHARS:
            return True
    return False


def is_garbled(layout: Layout) -> bool:
    """True when most words are unmapped glyphs ("(cid:12)"): the text layer exists but cannot be read."""
    words = [w.text for page in layout.pages for w in page.words]
    if not words:
        return False
    unmapped = sum(1 for text in words if "(cid:" in text or "\ufffd" in text)
    return unmapped > 0.5 * len(words)


# ---------------------------------------------------------------- page


def _read_page(page: Any) -> Page:
    chars = page.chars
    words = _extract_words(chars)
    lines = group_lines(words)
    fills = [r for r in page.rects if r.get("fill")]
    vertical, horizontal = rulings_without_fill_seams(page.edges, fills) if page.edges else ([], [])
    rulings = [BBox(e["x0"], e["top"], e["x1"], e["bottom"]) for e in (*vertical, *horizontal)]
    width, height = float(page.width), float(page.height)
    if page.rotation in (90, 270):
        # pdfminer already turns the content as displayed; pdfplumber keeps the unturned page size.
        width, height = height, width
    out = Page(
        number=page.page_number, width=width, height=height, words=words, lines=lines, rulings=rulings,
        fills=_painted_boxes(fills, width, height),
    )  # fmt: skip
    if page.edges:
        found_tables = (
            page.find_tables(
                {
                    "vertical_strategy": "explicit",
                    "horizontal_strategy": "explicit",
                    "explicit_vertical_lines": vertical,
                    "explicit_horizontal_lines": horizontal,
                }
            )
            if len(vertical) >= 2 and len(horizontal) >= 2
            else []
        )
        for found in found_tables:
            table = _convert_table(found.cells, words, fills)
            if table is not None:
                out.tables.append(table)
        _attach_captions(out)
    return out


# Fills lighter than this (0-1 grey) are paper, not a box; boxes smaller than this (points) are marks.
PAPER_GREY = 0.95
SMALLEST_BOX = 4.0


def _painted_boxes(fills: list[dict[str, Any]], width: float, height: float) -> list[BBox]:
    """The page's coloured boxes (lesson tiles, a spreadsheet's cell fills): rectangles painted in a
    colour, neither paper white nor a page-sized background. Fills painted row by row for one cell
    (see ``rulings_without_fill_seams``) are joined into one box."""
    painted: list[tuple[str, BBox]] = []
    for rect in fills:
        colour = _colour(rect.get("non_stroking_color"))
        if colour is None:
            continue
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        w, h = rect["x1"] - rect["x0"], rect["bottom"] - rect["top"]
        if (r + g + b) / 3 >= PAPER_GREY or min(w, h) < SMALLEST_BOX or w * h > 0.5 * width * height:
            continue
        painted.append((colour, BBox(rect["x0"], rect["top"], rect["x1"], rect["bottom"])))
    painted.sort(key=lambda item: (item[0], round(item[1].x0), item[1].top))
    boxes: list[tuple[str, BBox]] = []
    for colour, box in painted:
        if boxes and boxes[-1][0] == colour:
            last = boxes[-1][1]
            if (
                abs(last.x0 - box.x0) <= EDGE_TOLERANCE
                and abs(last.x1 - box.x1) <= EDGE_TOLERANCE
                and abs(box.top - last.bottom) <= EDGE_TOLERANCE
            ):
                boxes[-1] = (colour, BBox(last.x0, last.top, last.x1, max(last.bottom, box.bottom)))
                continue
        boxes.append((colour, box))
    return [box for _, box in boxes]


def rulings_without_fill_seams(
    edges: list[dict[str, Any]], fills: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(vertical, horizontal) edges for table finding, less the seams between same-coloured fills.

    A spreadsheet printed to PDF paints a merged cell's background row by row (and joins it with a
    same-coloured neighbour), so the painted rectangles' sides cut a merged lesson into one-hour
    cells. Where a fill of one colour meets a fill of the same colour with no stroked line there,
    the reader sees one block, and so should the table finder.
    """
    sides = _painted_sides([r for r in fills if not r.get("stroke")])
    vertical: list[dict[str, Any]] = []
    horizontal: list[dict[str, Any]] = []
    for edge in edges:
        upright = edge["orientation"] == "v"
        if edge.get("object_type") == "rect_edge" and edge.get("fill") and not edge.get("stroke"):
            pieces = [
                _edge_piece(edge, a, b, upright)
                for a, b in _outside_seams(edge, sides, upright)
                if b - a >= 1
            ]
        else:
            pieces = [edge] if (edge["bottom"] - edge["top"] if upright else edge["x1"] - edge["x0"]) >= 1 else []
        (vertical if upright else horizontal).extend(pieces)
    return vertical, horizontal


# (upright, 'far' or 'near', colour, rounded position) -> (position, (start, end) along the side) of the
# painted rectangles' sides there: the sides an edge's seam is looked for among, without a pass over all fills.
_Sides = dict[tuple[bool, str, Any, int], list[tuple[float, tuple[float, float]]]]


def _colour_key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _painted_sides(painted: list[dict[str, Any]]) -> _Sides:
    sides: _Sides = {}
    for rect in painted:
        colour = _colour_key(rect.get("non_stroking_color"))
        for upright in (True, False):
            near, far = (rect["x0"], rect["x1"]) if upright else (rect["top"], rect["bottom"])
            if far - near <= 2 * EDGE_TOLERANCE:
                continue  # a painted hairline is a ruling, not a background
            along = (rect["top"], rect["bottom"]) if upright else (rect["x0"], rect["x1"])
            sides.setdefault((upright, "far", colour, round(far)), []).append((far, along))
            sides.setdefault((upright, "near", colour, round(near)), []).append((near, along))
    return sides


def _outside_seams(edge: dict[str, Any], sides: _Sides, upright: bool) -> list[tuple[float, float]]:
    """The stretches of a painted edge that do not have the same colour on both sides."""
    at = edge["x0"] if upright else edge["top"]
    lo, hi = (edge["top"], edge["bottom"]) if upright else (edge["x0"], edge["x1"])
    colour = _colour_key(edge.get("non_stroking_color"))
    reach = range(round(at) - math.ceil(EDGE_TOLERANCE), round(at) + math.ceil(EDGE_TOLERANCE) + 1)

    def alongs(side: str) -> list[tuple[float, float]]:
        return [
            along
            for key in reach
            for position, along in sides.get((upright, side, colour, key), [])
            if abs(position - at) <= EDGE_TOLERANCE and along[0] < hi and along[1] > lo
        ]

    before, after = alongs("far"), alongs("near")  # same-coloured fills ending at the edge, and starting there
    seams = [
        (max(a0, b0), min(a1, b1)) for a0, a1 in before for b0, b1 in after if min(a1, b1) - max(a0, b0) > 0
    ]
    kept = [(lo, hi)]
    for s0, s1 in seams:
        kept = [piece for k0, k1 in kept for piece in ((k0, min(k1, s0)), (max(k0, s1), k1)) if piece[1] > piece[0]]
    return kept


def _edge_piece(edge: dict[str, Any], a: float, b: float, upright: bool) -> dict[str, Any]:
    piece = dict(edge)
    if upright:
        piece.update(top=a, bottom=b, height=b - a)
    else:
        piece.update(x0=a, x1=b, width=b - a)
    return piece


def _extract_words(chars: list[dict[str, Any]]) -> list[Word]:
    upright = [c for c in chars if c.get("upright", True) or _rotation(c) == 0]
    up = [c for c in chars if not c.get("upright", True) and _rotation(c) == 90]
    down = [c for c in chars if not c.get("upright", True) and _rotation(c) == 270]
    for char in upright:
        char[_TEXT_SIZE] = round(float(char.get("size") or 0))
    words: list[Word] = []
    # Split words where the colour changes, so a red note glued to a name stays its own word, and (upright
    # print, where pdfminer's size is the font's) where the print size does: a big period number printed
    # close before its small times ('1' '7:45') is not the time '17:45'.
    words.extend(_words(upright, 0, WordExtractor(extra_attrs=["non_stroking_color", _TEXT_SIZE])))
    attrs = ["non_stroking_color"]
    if up:
        extractor = WordExtractor(line_dir_rotated="ltr", char_dir_rotated="btt", extra_attrs=attrs)
        words.extend(_words(up, 90, extractor))
    if down:
        extractor = WordExtractor(line_dir_rotated="rtl", char_dir_rotated="ttb", extra_attrs=attrs)
        words.extend(_words(down, 270, extractor))
    return words


# A char's print size in whole points, the attribute words are split at.
_TEXT_SIZE = "text_size"


def _words(chars: list[dict[str, Any]], rotation: int, extractor: WordExtractor) -> list[Word]:
    out: list[Word] = []
    if not chars:
        return out
    for word, word_chars in extractor.iter_extract_tuples(chars):
        text = word["text"].strip()
        if not text:
            continue
        out.append(
            Word(
                text=text,
                bbox=BBox(float(word["x0"]), float(word["top"]), float(word["x1"]), float(word["bottom"])),
                rotation=rotation,
                style=_style(word_chars),
            )
        )
    return out


def _rotation(char: dict[str, Any]) -> int:
    a, b, _c, _d, _e, _f = char.get("matrix", (1, 0, 0, 1, 0, 0))
    if abs(b) > abs(a):
        return 90 if b > 0 else 270
    return 0 if a >= 0 else 180


def _style(chars: list[dict[str, Any]]) -> str | None:
    fonts = Counter(str(c.get("fontname", "")) for c in chars)
    font = fonts.most_common(1)[0][0] if fonts else ""
    colour = _colour(chars[0].get("non_stroking_color")) if chars else None
    return join_styles(
        "bold" if _BOLD.search(font) else None,
        "italic" if _ITALIC.search(font) else None,
        colour,
    )


def _colour(value: Any) -> str | None:
    """'#rrggbb' from a pdfplumber colour (gray, RGB or CMYK tuple); None for patterns/unknown."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = (value,)
    if not isinstance(value, tuple | list) or not all(isinstance(v, int | float) for v in value):
        return None
    if len(value) == 1:
        return hex_colour((value[0],) * 3)
    if len(value) == 3:
        return hex_colour(value)
    if len(value) == 4:
        c, m, y, k = value
        return hex_colour(((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)))
    return None


# ---------------------------------------------------------------- tables


def _nearest(edges: list[float], value: float) -> int:
    i = bisect.bisect_left(edges, value)
    if i == 0:
        return 0
    if i == len(edges):
        return len(edges) - 1
    return i if edges[i] - value < value - edges[i - 1] else i - 1


def _convert_table(
    cell_boxes: list[tuple[float, float, float, float]], words: list[Word], fills: list[dict[str, Any]]
) -> Table | None:
    if not cell_boxes:
        return None
    # Distinct grid lines: cell edges closer than EDGE_TOLERANCE are one line, at their mean.
    xs = cluster_centres([b[0] for b in cell_boxes] + [b[2] for b in cell_boxes], EDGE_TOLERANCE)
    ys = cluster_centres([b[1] for b in cell_boxes] + [b[3] for b in cell_boxes], EDGE_TOLERANCE)
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    if n_rows < 1 or n_cols < 1 or (n_rows == 1 and n_cols == 1):
        return None  # a framed box, not a table: its text stays in paragraphs
    cells: list[Cell] = []
    slots: dict[tuple[int, int], Cell] = {}
    for x0, top, x1, bottom in cell_boxes:
        row, col = _nearest(ys, top), _nearest(xs, x0)
        row_end, col_end = _nearest(ys, bottom), _nearest(xs, x1)
        if row_end <= row or col_end <= col or (row, col) in slots:
            continue
        cell = Cell(
            row=row,
            col=col,
            text="",
            rowspan=row_end - row,
            colspan=col_end - col,
            bbox=BBox(x0, top, x1, bottom),
        )
        cells.append(cell)
        for r in range(row, row_end):
            for c in range(col, col_end):
                slots.setdefault((r, c), cell)
    table_box = BBox(xs[0], ys[0], xs[-1], ys[-1])
    members: dict[int, list[Word]] = {}
    for word in words:
        cx, cy = word.bbox.center
        if not table_box.contains_point(cx, cy):
            continue
        row = min(bisect.bisect_right(ys, cy) - 1, n_rows - 1)
        col = min(bisect.bisect_right(xs, cx) - 1, n_cols - 1)
        owner = slots.get((row, col))
        if owner is None:
            # A slot the grid lines bound but no drawn cell covers: a striped table fills every other
            # row, so the rows between the fills have no box of their own; their text is a cell too.
            owner = Cell(row=row, col=col, text="", bbox=BBox(xs[col], ys[row], xs[col + 1], ys[row + 1]))
            cells.append(owner)
            slots[(row, col)] = owner
        members.setdefault(id(owner), []).append(word)
    cell_ids = {key: id(cell) for key, cell in slots.items()}
    gather_overflowing_text(members, cell_ids, xs, ys)
    table_area = table_box.width * table_box.height
    for cell in cells:
        cell.lines = group_lines(members.get(id(cell), []))
        cell.text = "\n".join(line.text for line in cell.lines)
        cell.background = _background(cell.bbox, fills, table_area) if cell.bbox else None
    cells.sort(key=lambda c: (c.row, c.col))
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, bbox=table_box)


def _background(box: BBox, fills: list[dict[str, Any]], table_area: float) -> str | None:
    """Fill colour of the smallest filled rectangle behind the cell's centre (not one behind the whole table)."""
    cx, cy = box.center
    best: tuple[float, str] | None = None
    for rect in fills:
        if not (rect["x0"] <= cx <= rect["x1"] and rect["top"] <= cy <= rect["bottom"]):
            continue
        area = (rect["x1"] - rect["x0"]) * (rect["bottom"] - rect["top"])
        if area >= 0.9 * table_area:
            continue
        colour = _colour(rect.get("non_stroking_color"))
        if colour and (best is None or area < best[0]):
            best = (area, colour)
    return best[1] if best else None


def _in_any_table(line: Line, tables: list[Table]) -> bool:
    cx, cy = line.bbox.center
    return any(t.bbox is not None and t.bbox.contains_point(cx, cy) for t in tables)


def _lines_outside_tables(page: Page) -> list[Line]:
    return [line for line in page.lines if not _in_any_table(line, page.tables)]


def _attach_captions(page: Page) -> None:
    """A text line just above a table (within about two line heights) is its caption, e.g. "Week A"."""
    free = [line for line in _lines_outside_tables(page) if not any(w.rotation for w in line.words)]
    for table in page.tables:
        if table.bbox is None:
            continue
        best: Line | None = None
        for line in free:
            gap = table.bbox.top - line.bbox.bottom
            overlaps = line.bbox.x0 < table.bbox.x1 and table.bbox.x0 < line.bbox.x1
            if (
                overlaps
                and -1.0 <= gap <= 2.5 * max(line.bbox.height, 4.0)
                and (best is None or line.bbox.bottom > best.bbox.bottom)
            ):
                best = line
        if best is not None:
            table.caption = best.text


__all__ = [
    "PDFIUM_LOCK",
    "READER",
    "PdfInfo",
    "inspect_pdf",
    "is_garbled",
    "page_paragraphs",
    "read_pdf_layout",
    "read_pdf_pages",
]
