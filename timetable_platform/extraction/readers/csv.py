"""CSV/TSV -> one table; plain text -> paragraphs (list-style timetables). Encoding and delimiter are sniffed."""

from __future__ import annotations

import csv
import io

from timetable_platform.domain.layout import BBox, Cell, Layout, Page, Table, Word
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import EmptyDocument, TooLarge
from timetable_platform.extraction.readers.common import (
    NOMINAL_COL_WIDTH,
    NOMINAL_LINE_HEIGHT,
    group_lines,
    nominal_lines,
)
from timetable_platform.extraction.sniff import TSV, decode_text, sniff_delimiter

READER = "csv"
MAX_CELLS = 200_000  # far beyond any timetable; stops a huge export from building a huge layout


def read_csv_layout(document: Document, limits: Limits) -> Layout:
    text = decode_text(document.content)
    delimiter = sniff_delimiter(text) or ("\t" if document.media_type == TSV else ",")
    rows = [
        [field.strip() for field in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]
    # Blank rows at the ends carry nothing; blank rows inside are kept (they separate blocks).
    while rows and not any(rows[-1]):
        rows.pop()
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise EmptyDocument("The CSV file has no values.")
    # Leading rows with a single value are titles above the table (as in spreadsheets): paragraphs.
    paragraphs: list[str] = []
    first_table_row = next((i for i, row in enumerate(rows) if sum(1 for v in row if v) >= 2), None)
    if first_table_row:
        paragraphs = [v.replace("\n", " ") for row in rows[:first_table_row] for v in row if v]
        rows = rows[first_table_row:]
    n_cols = max(len(row) for row in rows)
    # Trailing empty columns (a trailing delimiter on every line) are noise.
    while n_cols > 1 and all(len(row) < n_cols or not row[n_cols - 1] for row in rows):
        n_cols -= 1
    if len(rows) * n_cols > MAX_CELLS:
        raise TooLarge(
            f"The CSV file has {len(rows)} rows x {n_cols} columns; the limit is {MAX_CELLS} cells."
        )
    cells: list[Cell] = []
    words: list[Word] = []
    row_tops = [0.0]
    for r, row in enumerate(rows):
        texts = [row[c] if c < len(row) else "" for c in range(n_cols)]
        height = NOMINAL_LINE_HEIGHT * max(1, *(len([p for p in t.split("\n") if p.strip()]) for t in texts))
        top = row_tops[-1]
        for c, value in enumerate(texts):
            box = BBox(c * NOMINAL_COL_WIDTH, top, (c + 1) * NOMINAL_COL_WIDTH, top + height)
            lines = nominal_lines([(part.strip(), None) for part in value.split("\n")], box.x0, top, height)
            cells.append(
                Cell(row=r, col=c, text="\n".join(line.text for line in lines), bbox=box, lines=lines)
            )
            for line in lines:
                words.extend(line.words)
        row_tops.append(top + height)
    table = Table(
        n_rows=len(rows),
        n_cols=n_cols,
        cells=cells,
        bbox=BBox(0.0, 0.0, n_cols * NOMINAL_COL_WIDTH, row_tops[-1]),
    )
    page = Page(
        number=1, width=n_cols * NOMINAL_COL_WIDTH, height=row_tops[-1], words=words, lines=group_lines(words),
        tables=[table],
    )  # fmt: skip
    return Layout(pages=[page], media_type=document.media_type, reader=READER, paragraphs=paragraphs)


def read_text_layout(document: Document, limits: Limits) -> Layout:
    """Plain text: every non-blank line is a paragraph (and a line on one nominal page)."""
    text = decode_text(document.content)
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    if not paragraphs:
        raise EmptyDocument("The text file is empty.")
    lines = nominal_lines([(p, None) for p in paragraphs], 0.0, 0.0)
    words = [w for line in lines for w in line.words]
    width = max([6 * NOMINAL_COL_WIDTH, *(w.bbox.x1 for w in words)])
    page = Page(number=1, width=width, height=NOMINAL_LINE_HEIGHT * len(lines), words=words, lines=lines)
    return Layout(pages=[page], media_type=document.media_type, reader="text", paragraphs=paragraphs)
