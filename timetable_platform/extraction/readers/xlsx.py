"""XLSX -> layout (openpyxl): each visible, non-empty sheet is one page with one table.

Normal (not read-only) mode, because only it exposes merged ranges. Values are shown as a person
sees them: Excel times (fractions of a day, ``datetime.time``) become ``HH:MM``. Rows above the table
holding a single value (titles spanning the width) become paragraphs.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.worksheet.worksheet import Worksheet

from timetable_platform.domain.layout import BBox, Cell, Layout, Page, Table, Word
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument, TooLarge
from timetable_platform.extraction.readers.common import (
    NOMINAL_COL_WIDTH,
    NOMINAL_LINE_HEIGHT,
    group_lines,
    join_styles,
    nominal_lines,
)

READER = "openpyxl"
_EXCEL_EPOCHS = {dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1900, 1, 1), dt.date(1904, 1, 1)}
_DECIMALS = re.compile(r"0\.(0+)")


def read_xlsx_layout(document: Document, limits: Limits) -> Layout:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(document.content), data_only=True)
    except Exception as exc:  # zip, XML and openpyxl's own errors alike
        raise CorruptDocument(
            "The Excel workbook is damaged and cannot be opened.", detail=repr(exc)
        ) from exc
    pages: list[Page] = []
    paragraphs: list[str] = []
    warnings: list[str] = []
    try:
        sheets = [
            ws for ws in workbook.worksheets if ws.sheet_state == "visible" and isinstance(ws, Worksheet)
        ]
        for sheet in sheets:
            page, titles = _read_sheet(sheet, len(pages) + 1)
            if page is None:
                continue
            if len(pages) == limits.max_pages:
                raise TooLarge(
                    f"The workbook has more than {limits.max_pages} non-empty sheets; the limit is {limits.max_pages}."
                )
            pages.append(page)
            paragraphs.extend(titles)
    except (TooLarge, CorruptDocument):
        raise
    except Exception as exc:
        raise CorruptDocument(
            "The Excel workbook has content that cannot be read.", detail=repr(exc)
        ) from exc
    finally:
        workbook.close()
    hidden = [ws.title for ws in workbook.worksheets if ws.sheet_state != "visible"]
    if hidden:
        warnings.append(f"hidden sheets skipped: {', '.join(hidden)}")
    if not pages:
        raise EmptyDocument("The Excel workbook has no visible sheet with content.")
    return Layout(
        pages=pages, media_type=document.media_type, reader=READER, paragraphs=paragraphs, warnings=warnings
    )


def _read_sheet(sheet: Worksheet, number: int) -> tuple[Page | None, list[str]]:
    values: dict[tuple[int, int], tuple[str, XlCell]] = {}
    for (row, col), cell in sheet._cells.items():  # only stored cells; max_row can be inflated by formatting
        text = cell_text(cell.value, cell.number_format)
        if text.strip():
            values[(row, col)] = (text.strip(), cell)
    if not values:
        return None, []
    merges = [
        (m.min_row, m.min_col, m.max_row, m.max_col)
        for m in sheet.merged_cells.ranges
        if (m.min_row, m.min_col) in values
    ]
    merge_at = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in merges}
    rows = sorted({r for r, _ in values})
    per_row: dict[int, list[int]] = {}
    for r, c in values:
        per_row.setdefault(r, []).append(c)
    # Title rows: leading rows with one value; the table starts at the first row with two or more.
    first_table_row = next((r for r in rows if len(per_row[r]) >= 2), None)
    title_rows = [r for r in rows if first_table_row is None or r < first_table_row]
    titles = [values[(r, per_row[r][0])][0].replace("\n", " ") for r in title_rows]
    y = 0.0
    words: list[Word] = []
    for title in titles:
        for line in nominal_lines([(title, None)], 0.0, y):
            words.extend(line.words)
        y += NOMINAL_LINE_HEIGHT
    tables: list[Table] = []
    if first_table_row is not None:
        table = _table(values, merge_at, first_table_row, y + NOMINAL_LINE_HEIGHT / 2)
        table.caption = sheet.title
        tables.append(table)
        for cell in table.cells:
            for line in cell.lines:
                words.extend(line.words)
        y = table.bbox.bottom if table.bbox else y
    width = max([6 * NOMINAL_COL_WIDTH, *(w.bbox.x1 for w in words)])
    page = Page(number=number, width=width, height=y, words=words, lines=group_lines(words), tables=tables)
    return page, titles


def _table(
    values: dict[tuple[int, int], tuple[str, XlCell]],
    merge_at: dict[tuple[int, int], tuple[int, int]],
    first_row: int,
    top: float,
) -> Table:
    keys = [k for k in values if k[0] >= first_row]
    row0 = first_row
    row_last = max([r for r, _ in keys] + [merge_at[k][0] for k in keys if k in merge_at])
    col0 = min(c for _, c in keys)
    col_last = max([c for _, c in keys] + [merge_at[k][1] for k in keys if k in merge_at])
    n_rows, n_cols = row_last - row0 + 1, col_last - col0 + 1
    covered: set[tuple[int, int]] = set()
    for (r, c), (r1, c1) in merge_at.items():
        if r >= first_row:
            covered.update(
                (rr, cc) for rr in range(r, r1 + 1) for cc in range(c, c1 + 1) if (rr, cc) != (r, c)
            )
    cells: list[Cell] = []
    texts: dict[int, list[tuple[str, str | None]]] = {}
    row_lines = [1] * n_rows
    for r in range(row0, row_last + 1):
        for c in range(col0, col_last + 1):
            if (r, c) in covered:
                continue
            r1, c1 = merge_at.get((r, c), (r, c))
            entry = values.get((r, c))
            cell = Cell(row=r - row0, col=c - col0, text="", rowspan=r1 - r + 1, colspan=c1 - c + 1)
            lines: list[tuple[str, str | None]] = []
            if entry is not None:
                text, xl_cell = entry
                style = _style(xl_cell)
                lines = [(part.strip(), style) for part in text.split("\n") if part.strip()]
                cell.background = _fill(xl_cell)
            texts[id(cell)] = lines
            per_row = -(-len(lines) // cell.rowspan) if lines else 1
            for rr in range(cell.row, min(cell.row_end, n_rows)):
                row_lines[rr] = max(row_lines[rr], per_row)
            cells.append(cell)
    tops = [top]
    for count in row_lines:
        tops.append(tops[-1] + count * NOMINAL_LINE_HEIGHT)
    for cell in cells:
        x0 = cell.col * NOMINAL_COL_WIDTH
        cell.bbox = BBox(
            x0, tops[cell.row], cell.col_end * NOMINAL_COL_WIDTH, tops[min(cell.row_end, n_rows)]
        )
        cell.lines = nominal_lines(texts[id(cell)], x0, cell.bbox.top, cell.bbox.height)
        cell.text = "\n".join(line.text for line in cell.lines)
    return Table(
        n_rows=n_rows,
        n_cols=n_cols,
        cells=cells,
        bbox=BBox(0.0, tops[0], n_cols * NOMINAL_COL_WIDTH, tops[-1]),
    )


def cell_text(value: Any, number_format: str | None = None) -> str:
    """A cell value as printed: times as HH:MM, whole numbers without '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.date() in _EXCEL_EPOCHS:
            return _hhmm(value.time())
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return f"{value.date().isoformat()} {_hhmm(value.time())}"
    if isinstance(value, dt.time):
        return _hhmm(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, float):
        fmt = (number_format or "").lower()
        if 0 <= value < 1 and "h" in fmt and "m" in fmt:
            # A time of day stored as a fraction of a day that openpyxl did not convert.
            minutes = round(value * 24 * 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        if value.is_integer():
            return str(int(value))
        decimals = _DECIMALS.search(fmt)
        if decimals and "e" not in fmt:
            return f"{value:.{len(decimals.group(1))}f}"
        return f"{value:g}"
    return str(value)


def _hhmm(value: dt.time) -> str:
    minutes = value.hour * 60 + value.minute + (1 if value.second >= 30 else 0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _rgb(colour: Any) -> str | None:
    if colour is None or getattr(colour, "type", None) != "rgb":
        return None
    rgb = colour.rgb
    if not isinstance(rgb, str) or len(rgb) < 6:
        return None
    return "#" + rgb[-6:].lower()


def _style(cell: XlCell) -> str | None:
    font = cell.font
    colour = _rgb(font.color) if font is not None else None
    return join_styles(
        "bold" if font is not None and font.b else None,
        "italic" if font is not None and font.i else None,
        colour,
    )


def _fill(cell: XlCell) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    return _rgb(fill.fgColor)


__all__ = ["READER", "cell_text", "read_xlsx_layout"]
