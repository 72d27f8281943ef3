"""DOCX -> layout (python-docx): every table with real merged cells, paragraphs in document order.

Word has no page geometry, so cells get nominal boxes from their grid position (100 units a column,
20 a text line) and everything lands on one page; geometry-based code works unchanged.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from timetable_platform.domain.layout import BBox, Cell, Layout, Page, Table, Word
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument
from timetable_platform.extraction.readers.common import (
    NOMINAL_COL_WIDTH,
    NOMINAL_LINE_HEIGHT,
    group_lines,
    join_styles,
    nominal_lines,
)

READER = "python-docx"
_TABLE_GAP = NOMINAL_LINE_HEIGHT  # blank space between stacked blocks on the nominal page


@dataclass
class _Slot:
    tc: Any
    grid_col: int
    span: int
    vmerge: str | None


@dataclass
class _Builder:
    """Lays blocks out top to bottom on one nominal page."""

    flags: _StyleFlags
    y: float = 0.0
    width: float = 6 * NOMINAL_COL_WIDTH
    words: list[Word] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    last_paragraph: str | None = None  # the text right before the next block, for captions

    def add_paragraph(self, lines: list[tuple[str, str | None]]) -> None:
        text = " ".join(t.strip() for t, _ in lines if t.strip())
        if not text:
            return
        self.paragraphs.append(text)
        laid = nominal_lines(lines, 0.0, self.y)
        for line in laid:
            self.words.extend(line.words)
        self.y += NOMINAL_LINE_HEIGHT * len(laid)
        self.last_paragraph = text


def read_docx_layout(document: Document, limits: Limits) -> Layout:
    try:
        word_doc = docx.Document(io.BytesIO(_as_plain_docx(document.content)))
    except Exception as exc:  # python-docx surfaces zip, XML and package errors alike
        raise CorruptDocument("The Word document is damaged and cannot be opened.", detail=repr(exc)) from exc
    builder = _Builder(flags=_StyleFlags(word_doc))
    try:
        for text in _header_paragraphs(word_doc):
            builder.add_paragraph([(text, None)])
        _read_blocks(word_doc.element.body, word_doc, builder)
    except (CorruptDocument, EmptyDocument):
        raise
    except Exception as exc:
        raise CorruptDocument(
            "The Word document has a structure that cannot be read.", detail=repr(exc)
        ) from exc
    if not builder.words and not embedded_images(word_doc):
        raise EmptyDocument("The Word document contains no text.")
    width = max([builder.width, *(w.bbox.x1 for w in builder.words)])
    page = Page(
        number=1, width=width, height=max(builder.y, NOMINAL_LINE_HEIGHT), words=builder.words,
        lines=group_lines(builder.words), tables=builder.tables,
    )  # fmt: skip
    return Layout(pages=[page], media_type=document.media_type, reader=READER, paragraphs=builder.paragraphs)


# A picture smaller than this (logos, icons, signatures) cannot hold a readable timetable.
MIN_PICTURE_PIXELS = 300 * 200


def embedded_images(word_doc: DocxDocument) -> list[bytes]:
    """Pictures in the body, in document order, large enough to be a pasted timetable (screenshot or scan)."""
    from PIL import Image, UnidentifiedImageError

    out: list[bytes] = []
    seen: set[str] = set()
    body = word_doc.element.body
    for blip in body.iter(qn("a:blip")):
        rid = blip.get(qn("r:embed"))
        if not rid or rid in seen or rid not in word_doc.part.related_parts:
            continue
        seen.add(rid)
        blob = word_doc.part.related_parts[rid].blob
        try:
            with Image.open(io.BytesIO(blob)) as image:
                if image.width * image.height < MIN_PICTURE_PIXELS:
                    continue
        except Image.DecompressionBombError:
            pass  # huge: the OCR reader applies the pixel limit and says so
        except (UnidentifiedImageError, OSError, ValueError):
            continue  # EMF/WMF and other vector formats: nothing OCR can read here
        out.append(blob)
    return out


def read_docx_images(document: Document) -> list[bytes]:
    """The pictures of a DOCX (see ``embedded_images``); empty when the file cannot be opened."""
    try:
        return embedded_images(docx.Document(io.BytesIO(_as_plain_docx(document.content))))
    except Exception:  # the text reader reports damage; pictures are a best-effort extra
        return []


_MACRO_MAIN = b"application/vnd.ms-word.document.macroEnabled.main+xml"
_PLAIN_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _as_plain_docx(content: bytes) -> bytes:
    """python-docx refuses macro-enabled documents (.docm) by content type; the body is the same, so relabel it."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in archive.namelist() else b""
        if _MACRO_MAIN not in types:
            return content
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as relabelled:
            for info in archive.infolist():
                data = archive.read(info)
                if info.filename == "[Content_Types].xml":
                    data = data.replace(_MACRO_MAIN, _PLAIN_MAIN)
                relabelled.writestr(info, data)
    return out.getvalue()


def _header_paragraphs(word_doc: DocxDocument) -> list[str]:
    """Page-header text (school, class) often holds the title; kept once, first."""
    seen: list[str] = []
    for section in word_doc.sections:
        try:
            header = section.header
            if header.is_linked_to_previous and seen:
                continue
            for paragraph in header.paragraphs:
                text = paragraph.text.strip()
                if text and text not in seen:
                    seen.append(text)
        except (KeyError, ValueError):
            continue
    return seen


def _iter_block_elements(parent: Any) -> Iterator[Any]:
    """w:p and w:tbl children in order, looking through content controls (w:sdt)."""
    for child in parent.iterchildren():
        if child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _iter_block_elements(content)
        elif child.tag in (qn("w:p"), qn("w:tbl")):
            yield child


def _read_blocks(parent_element: Any, parent: Any, builder: _Builder) -> None:
    for element in _iter_block_elements(parent_element):
        if element.tag == qn("w:p"):
            builder.add_paragraph(_paragraph_lines(Paragraph(element, parent), builder.flags))
            # Text boxes anchored in the paragraph (titles, sometimes whole tables) are read in place.
            for box in _text_boxes(element):
                _read_blocks(box, parent, builder)
        else:
            _read_table(DocxTable(element, parent), builder)


def _text_boxes(paragraph_element: Any) -> list[Any]:
    """w:txbxContent inside a paragraph, skipping the legacy VML copy Word keeps under mc:Fallback."""
    fallback = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
    boxes = []
    for box in paragraph_element.iter(qn("w:txbxContent")):
        keep = True
        for ancestor in box.iterancestors():
            if ancestor is paragraph_element:
                break
            # The fallback copy, or a box inside another box (read when that box is).
            if ancestor.tag in (fallback, qn("w:txbxContent")):
                keep = False
                break
        if keep:
            boxes.append(box)
    return boxes


def _read_table(table: DocxTable, builder: _Builder) -> None:
    rows = _grid_rows(table)
    n_cols = max((s.grid_col + s.span for row in rows for s in row), default=0)
    if not rows or n_cols == 0:
        return
    # A 1x1 table is a layout frame around real content: read its inside as body.
    if len(rows) == 1 and len(rows[0]) == 1:
        _read_blocks(rows[0][0].tc, table, builder)
        return
    caption = builder.last_paragraph
    cells: list[tuple[Cell, _Cell]] = []
    covered: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        for slot in row:
            if (r, slot.grid_col) in covered or (slot.vmerge == "continue" and _continues(rows, r, slot)):
                continue
            rowspan = 1
            if slot.vmerge == "restart":
                while r + rowspan < len(rows) and _continue_at(rows[r + rowspan], slot.grid_col):
                    rowspan += 1
            for rr in range(r, r + rowspan):
                for cc in range(slot.grid_col, slot.grid_col + slot.span):
                    covered.add((rr, cc))
            cell = Cell(row=r, col=slot.grid_col, text="", rowspan=rowspan, colspan=slot.span)
            cell.background = _shading(slot.tc)
            cells.append((cell, _Cell(slot.tc, table)))
    # Row heights on the nominal page follow the number of text lines in the row's cells.
    cell_texts: dict[int, list[tuple[str, str | None]]] = {}
    row_lines = [1] * len(rows)
    for cell, docx_cell in cells:
        texts = _cell_lines(docx_cell, builder.flags)
        cell_texts[id(cell)] = texts
        per_row = -(-len(texts) // cell.rowspan) if texts else 1
        for rr in range(cell.row, cell.row_end):
            row_lines[rr] = max(row_lines[rr], per_row)
    tops = [builder.y]
    for count in row_lines:
        tops.append(tops[-1] + count * NOMINAL_LINE_HEIGHT)
    out_cells: list[Cell] = []
    for cell, _ in cells:
        x0 = cell.col * NOMINAL_COL_WIDTH
        box = BBox(x0, tops[cell.row], cell.col_end * NOMINAL_COL_WIDTH, tops[cell.row_end])
        cell.bbox = box
        cell.lines = nominal_lines(cell_texts[id(cell)], x0, box.top, box.height)
        cell.text = "\n".join(line.text for line in cell.lines)
        for line in cell.lines:
            builder.words.extend(line.words)
        out_cells.append(cell)
    table_box = BBox(0.0, tops[0], n_cols * NOMINAL_COL_WIDTH, tops[-1])
    builder.tables.append(
        Table(n_rows=len(rows), n_cols=n_cols, cells=out_cells, bbox=table_box, caption=caption)
    )
    builder.width = max(builder.width, table_box.x1)
    builder.y = tops[-1] + _TABLE_GAP
    builder.last_paragraph = None
    # Nested tables follow their parent (their text is also in the parent cell's lines).
    for _, docx_cell in cells:
        for nested in docx_cell.tables:
            _read_table(nested, builder)


def _grid_rows(table: DocxTable) -> list[list[_Slot]]:
    rows: list[list[_Slot]] = []
    for tr in table._tbl.tr_lst:
        col = tr.grid_before
        row: list[_Slot] = []
        for tc in tr.tc_lst:
            span = max(1, tc.grid_span)
            row.append(_Slot(tc=tc, grid_col=col, span=span, vmerge=tc.vMerge))
            col += span
        rows.append(row)
    return rows


def _continue_at(row: list[_Slot], grid_col: int) -> bool:
    return any(s.grid_col == grid_col and s.vmerge == "continue" for s in row)


def _continues(rows: list[list[_Slot]], r: int, slot: _Slot) -> bool:
    """A vMerge continue cell is swallowed only when the cell above starts or continues a merge."""
    if r == 0:
        return False
    return any(s.grid_col == slot.grid_col and s.vmerge in ("restart", "continue") for s in rows[r - 1])


def _shading(tc: Any) -> str | None:
    tc_pr = tc.tcPr
    if tc_pr is None:
        return None
    shd = tc_pr.find(qn("w:shd"))
    if shd is None:
        return None
    fill = shd.get(qn("w:fill"))
    if not fill or fill.lower() == "auto" or len(fill) != 6:
        return None
    return "#" + fill.lower()


def _cell_lines(cell: _Cell, flags: _StyleFlags) -> list[tuple[str, str | None]]:
    """The cell's text lines (paragraphs split at line breaks), nested tables' text included, with styles."""
    out: list[tuple[str, str | None]] = []
    for element in _iter_block_elements(cell._tc):
        if element.tag == qn("w:p"):
            out.extend(_paragraph_lines(Paragraph(element, cell), flags))
        else:
            nested = DocxTable(element, cell)
            for row in nested.rows:
                for nested_cell in _unique_cells(row.cells):
                    out.extend(_cell_lines(nested_cell, flags))
    return out


def _unique_cells(cells: list[_Cell]) -> list[_Cell]:
    seen: set[int] = set()
    out: list[_Cell] = []
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(cell)
    return out


def _paragraph_lines(paragraph: Paragraph, flags: _StyleFlags) -> list[tuple[str, str | None]]:
    """Split a paragraph at its line breaks; each line carries the style of its first styled run."""
    lines: list[tuple[str, str | None]] = []
    text, style = "", None
    for run in _runs(paragraph):
        run_style = _run_style(run, paragraph, flags)
        parts = run.text.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append((text, style))
                text, style = "", None
            if part.strip() and style is None:
                style = run_style
            text += part
    lines.append((text, style))
    return [(t.strip(), s) for t, s in lines if t.strip()]


def _runs(paragraph: Paragraph) -> Iterator[Run]:
    for item in paragraph.iter_inner_content():
        if isinstance(item, Hyperlink):
            yield from item.runs
        else:
            yield item


class _StyleFlags:
    """Bold/italic of named styles, resolved once per style id (python-docx's lookup rescans styles.xml)."""

    def __init__(self, word_doc: DocxDocument) -> None:
        self._styles = word_doc.styles
        self._cache: dict[tuple[str, str | None], tuple[bool | None, bool | None]] = {}

    def flags(self, kind: str, style_id: str | None) -> tuple[bool | None, bool | None]:
        key = (kind, style_id)
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, style_id)
        return self._cache[key]

    def _resolve(self, kind: str, style_id: str | None) -> tuple[bool | None, bool | None]:
        element = None
        for candidate in self._styles.element.style_lst:
            if candidate.type is not None and candidate.type.name.lower() != kind:
                continue
            if (style_id is None and candidate.default) or (style_id is not None and candidate.styleId == style_id):
                element = candidate
                break
        bold: bool | None = None
        italic: bool | None = None
        depth = 0
        while element is not None and depth < 10 and (bold is None or italic is None):
            r_pr = element.rPr
            if r_pr is not None:
                bold = r_pr._get_bool_val("b") if bold is None else bold
                italic = r_pr._get_bool_val("i") if italic is None else italic
            based_on = element.basedOn_val
            element = self._styles.element.get_by_id(based_on) if based_on else None
            depth += 1
        return bold, italic


def _run_style(run: Run, paragraph: Paragraph, flags: _StyleFlags) -> str | None:
    font = run.font
    bold = font.bold
    italic = font.italic
    # Unset on the run means inherited from the character or paragraph style.
    if bold is None or italic is None:
        for kind, style_id in (("character", run._r.style), ("paragraph", paragraph._p.style)):
            if kind == "character" and style_id is None:
                continue
            style_bold, style_italic = flags.flags(kind, style_id)
            bold = style_bold if bold is None else bold
            italic = style_italic if italic is None else italic
    colour = None
    try:
        rgb = font.color.rgb if font.color is not None and font.color.type is not None else None
    except (AttributeError, ValueError):
        rgb = None
    if rgb is not None:
        colour = f"#{rgb}".lower()
    return join_styles("bold" if bold else None, "italic" if italic else None, colour)
