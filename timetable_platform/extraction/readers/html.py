"""HTML -> layout (lxml): every outermost ``<table>`` with its row and column spans, headings in order.

Timetabling software (FET, aSc, Untis) exports HTML pages holding one table per class, teacher or
room, or one page per owner. The page is parsed, never run: scripts, styles, frames and embedded
objects are dropped unread, no URL in it is fetched (``no_network``; links and stylesheets are
ignored). Size is checked before parsing; element nesting, tables, cells and spans are bounded like
the other readers' pages and parts. Geometry is the nominal grid of the office readers: one column
is ``NOMINAL_COL_WIDTH`` wide, one text line ``NOMINAL_LINE_HEIGHT`` high.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from timetable_platform.domain.layout import BBox, Cell, Layout, Page, Table, Word
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument, TooLarge
from timetable_platform.extraction.readers.common import (
    NOMINAL_COL_WIDTH,
    NOMINAL_LINE_HEIGHT,
    group_lines,
    nominal_lines,
)
from timetable_platform.extraction.sniff import decode_text

READER = "lxml-html"
MAX_DEPTH = 200  # element nesting (libxml2 itself stops at 256); deeper is a crafted page, not an export
MAX_TABLES = 500
MAX_CELLS = 100_000  # over all tables
MAX_SPAN = 100  # browsers clamp colspan at 1000 and rowspan at 65534; a timetable needs far less
DROPPED = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "frame",
    "object",
    "embed",
    "svg",
    "math",
    "head",
)
BLOCKS = frozenset(
    {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "pre", "blockquote"}
)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "pre", "blockquote")
# A cell holding only dashes or dots prints "nothing here" (FET writes '---' in free periods).
_PLACEHOLDER = re.compile(r"^[\s\-–—.·_]*$")


@dataclass
class _Block:
    text: str = ""
    table: lxml.html.HtmlElement | None = None
    caption: str | None = None
    previous: list[str] = field(default_factory=list)


def read_html_layout(document: Document, limits: Limits) -> Layout:
    """The page's tables and headings; raises ``EmptyDocument`` when it shows no text at all."""
    text = decode_text(document.content)
    root = _parse(text)
    _check_depth(root)
    for element in list(root.iter(*DROPPED)):
        element.drop_tree()  # never read: scripts, styles, embedded objects
    body = root.find("body") if root.find("body") is not None else root
    blocks = _blocks(body)
    tables = [b for b in blocks if b.table is not None]
    if len(tables) > MAX_TABLES:
        raise TooLarge(f"The HTML page holds {len(tables)} tables; the limit is {MAX_TABLES}.")
    words: list[Word] = []
    paragraphs: list[str] = []
    out_tables: list[Table] = []
    y = 0.0
    cells_seen = 0
    for block in blocks:
        if block.table is None:
            paragraphs.append(block.text)
            for line in nominal_lines([(block.text, None)], 0.0, y):
                words.extend(line.words)
            y += NOMINAL_LINE_HEIGHT
            continue
        table = _table(block.table, y + NOMINAL_LINE_HEIGHT / 2)
        if table is None:
            continue
        cells_seen += len(table.cells)
        if cells_seen > MAX_CELLS:
            raise TooLarge(f"The HTML page holds more than {MAX_CELLS} table cells.")
        table.caption = block.caption
        if block.caption:
            paragraphs.append(block.caption)
        out_tables.append(table)
        for cell in table.cells:
            for line in cell.lines:
                words.extend(line.words)
        y = (table.bbox.bottom if table.bbox else y) + NOMINAL_LINE_HEIGHT
    if not words:
        raise EmptyDocument("The HTML page shows no text.")
    width = max([6 * NOMINAL_COL_WIDTH, *(w.bbox.x1 for w in words)])
    page = Page(number=1, width=width, height=y, words=words, lines=group_lines(words), tables=out_tables)
    del limits  # size is checked by ``read_layout`` before parsing; the bounds above are the reader's own
    return Layout(pages=[page], media_type=document.media_type, reader=READER, paragraphs=paragraphs)


def _parse(text: str) -> lxml.html.HtmlElement:
    # An XML declaration in a str is refused by lxml; the page's encoding is already decoded.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = lxml.html.HTMLParser(
        recover=True,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
        collect_ids=False,
    )
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise CorruptDocument("The HTML page cannot be read.", detail=str(exc)) from exc
    return root


def _check_depth(root: lxml.html.HtmlElement) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooLarge(f"The HTML page nests elements more than {MAX_DEPTH} deep.")
        stack.extend((child, depth + 1) for child in element)


def _clean(text: str) -> str:
    return " ".join(text.split())


def cell_lines(element: lxml.html.HtmlElement) -> list[str]:
    """The text lines of an element: ``<br>`` and block elements end a line, inline ones do not."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _clean("".join(current))
        if text:
            lines.append(text)
        current.clear()

    def walk(node: lxml.html.HtmlElement) -> None:
        if not isinstance(node.tag, str):
            return
        if node.tag == "br" or node.tag in BLOCKS:
            flush()
        if node.text and node.tag != "br":
            current.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                current.append(child.tail)
        if node.tag in BLOCKS:
            flush()

    if element.text:
        current.append(element.text)
    for child in element:
        walk(child)
        if child.tail:
            current.append(child.tail)
    flush()
    return lines


def _blocks(body: lxml.html.HtmlElement) -> list[_Block]:
    """Headings and outermost tables in document order; a table's caption is its ``<caption>``, else
    the heading printed right before it."""
    out: list[_Block] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "table":
                caption_el = child.find("caption")
                caption = _clean(caption_el.text_content()) if caption_el is not None else None
                if not caption and out and out[-1].table is None:
                    caption = out[-1].text
                out.append(_Block(table=child, caption=caption or None))
            elif child.tag in HEADINGS and child.find(".//table") is None:
                text = _clean(child.text_content())
                if text:
                    out.append(_Block(text=text))
            else:
                walk(child)

    walk(body)
    return out


def _rows(table: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The table's own rows (thead, tbody, tfoot or direct), not those of tables nested in its cells."""
    rows: list[lxml.html.HtmlElement] = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    return rows


def _span(value: str | None) -> int:
    try:
        return max(1, min(MAX_SPAN, int(str(value).strip())))
    except (TypeError, ValueError):
        return 1


def _table(element: lxml.html.HtmlElement, top: float) -> Table | None:
    """The HTML table model: each cell placed at the first free slot of its row, spans reserving slots."""
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, int, int, list[str], str | None]] = []
    rows = _rows(element)
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            if cell.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            rowspan = min(_span(cell.get("rowspan")), max(1, len(rows) - r))
            colspan = _span(cell.get("colspan"))
            lines = cell_lines(cell)
            if lines and _PLACEHOLDER.match(" ".join(lines)):
                lines = []
            style = "bold" if cell.tag == "th" else None
            placed.append((r, c, rowspan, colspan, lines, style))
            taken.update((rr, cc) for rr in range(r, r + rowspan) for cc in range(c, c + colspan))
            c += colspan
    if not placed:
        return None
    n_rows = max(r + rs for r, _, rs, _, _, _ in placed)
    n_cols = max(c + cs for _, c, _, cs, _, _ in placed)
    row_lines = [1] * n_rows
    for r, _, rs, _, lines, _ in placed:
        per_row = -(-len(lines) // rs) if lines else 1
        for rr in range(r, r + rs):
            row_lines[rr] = max(row_lines[rr], per_row)
    tops = [top]
    for count in row_lines:
        tops.append(tops[-1] + count * NOMINAL_LINE_HEIGHT)
    cells: list[Cell] = []
    for r, c, rs, cs, lines, style in placed:
        x0 = c * NOMINAL_COL_WIDTH
        bbox = BBox(x0, tops[r], (c + cs) * NOMINAL_COL_WIDTH, tops[r + rs])
        cell_lines_ = nominal_lines([(line, style) for line in lines], x0, bbox.top, bbox.height)
        text = "\n".join(line.text for line in cell_lines_)
        cells.append(Cell(row=r, col=c, text=text, rowspan=rs, colspan=cs, bbox=bbox, lines=cell_lines_))
    return Table(
        n_rows=n_rows,
        n_cols=n_cols,
        cells=cells,
        bbox=BBox(0.0, tops[0], n_cols * NOMINAL_COL_WIDTH, tops[-1]),
    )


__all__ = ["READER", "cell_lines", "read_html_layout"]
