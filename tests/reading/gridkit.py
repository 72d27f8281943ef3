"""Build hand-made tables for the interpretation tests: rows of strings, '^' / '<' continue a merged cell."""

from __future__ import annotations

from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word


def table(rows: list[list[str]], caption: str | None = None) -> Table:
    """'^' continues the cell above (rowspan), '<' the cell to the left (colspan)."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    owner: dict[tuple[int, int], Cell] = {}
    cells: list[Cell] = []
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text == "^":
                cell = owner[(r - 1, c)]
                cell.rowspan = r - cell.row + 1
            elif text == "<":
                cell = owner[(r, c - 1)]
                cell.colspan = c - cell.col + 1
            else:
                cell = Cell(row=r, col=c, text=text.replace("|", "\n"))
                cells.append(cell)
            owner[(r, c)] = cell
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, caption=caption)


def layout(*tables: Table, paragraphs: list[str] | None = None, languages: list[str] | None = None) -> Layout:
    page = Page(number=1, width=800, height=600, tables=list(tables))
    return Layout(
        pages=[page],
        media_type="application/pdf",
        reader="test",
        languages=languages or [],
        paragraphs=paragraphs or [],
    )


def placed_line(text: str, x: float, y: float, height: float = 12.0) -> Line:
    """A text line at (x, y) on a made-up page: 7 points a letter, 5 between words."""
    words, cursor = [], x
    for token in text.split():
        width = 7.0 * len(token)
        words.append(Word(token, BBox(cursor, y, cursor + width, y + height)))
        cursor += width + 5.0
    return Line(words=words, bbox=BBox(x, y, cursor - 5.0, y + height))
