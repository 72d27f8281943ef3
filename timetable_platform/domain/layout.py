"""The layout model: what every reader (PDF, DOCX, XLSX, CSV, OCR, Document AI) produces.

Coordinates are in the page's own units (PDF points, image pixels; office formats use
row/column indices scaled to a nominal grid) with the origin at the top left, y growing
downwards. Interpretation (``reading.grid`` and friends) reads only this model, so a new
reader needs no change anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BBox:
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.top + self.bottom) / 2)

    def union(self, other: BBox) -> BBox:
        return BBox(
            min(self.x0, other.x0), min(self.top, other.top), max(self.x1, other.x1), max(self.bottom, other.bottom)
        )

    def intersects(self, other: BBox) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.top < other.bottom and other.top < self.bottom

    def contains_point(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.top <= y <= self.bottom


@dataclass(slots=True)
class Word:
    """One word as printed, with its box; ``confidence`` is the OCR confidence in [0, 1] (1.0 for text layers)."""

    text: str
    bbox: BBox
    confidence: float = 1.0
    # Rotation of the text in degrees (0 upright, 90 / 270 written vertically).
    rotation: int = 0
    # Style hints where the reader knows them (e.g. "bold", "red", "#ff0000"); used to tell notes from names.
    style: str | None = None


@dataclass(slots=True)
class Line:
    """A line of text: words on one baseline, in reading order."""

    words: list[Word]
    bbox: BBox

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(slots=True)
class Cell:
    """A table cell. A merged cell appears once, at its top-left slot, with its spans."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    bbox: BBox | None = None
    # Text lines inside the cell, in order; keeps line breaks (and their styles) for splitting fields.
    lines: list[Line] = field(default_factory=list)
    confidence: float = 1.0
    background: str | None = None  # "#rrggbb" fill, when known

    @property
    def row_end(self) -> int:
        return self.row + self.rowspan  # exclusive

    @property
    def col_end(self) -> int:
        return self.col + self.colspan  # exclusive


@dataclass(slots=True)
class Table:
    n_rows: int
    n_cols: int
    cells: list[Cell]
    bbox: BBox | None = None
    # Heading text printed just above the table (e.g. "Week A"), when the reader sees one.
    caption: str | None = None

    def cell_at(self, row: int, col: int) -> Cell | None:
        """The cell covering slot (row, col), merged cells included."""
        for c in self.cells:
            if c.row <= row < c.row_end and c.col <= col < c.col_end:
                return c
        return None

    def grid(self) -> list[list[Cell | None]]:
        """Slot matrix; a merged cell fills every slot it spans (same object)."""
        out: list[list[Cell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            for r in range(c.row, min(c.row_end, self.n_rows)):
                for k in range(c.col, min(c.col_end, self.n_cols)):
                    out[r][k] = c
        return out


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # Ruling lines as (x0, top, x1, bottom) segments, when the reader sees them.
    rulings: list[BBox] = field(default_factory=list)
    # Filled boxes the print sits in (a calendar's events, an app's lesson cards), when the reader sees them.
    boxes: list[BBox] = field(default_factory=list)
    # Painted cell backgrounds of a text layer (a spreadsheet's fills): where no rulings are printed,
    # they show how far a lesson reaches.
    fills: list[BBox] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(slots=True)
class Layout:
    """A whole document as the readers see it."""

    pages: list[Page]
    media_type: str
    # Backend that produced it ("pdfplumber", "python-docx", "tesseract", "documentai", ...).
    reader: str
    # ISO 639-1 codes the reader detected, most likely first (may be empty).
    languages: list[str] = field(default_factory=list)
    # Paragraph text outside tables (titles, headings, list-style timetables), in reading order.
    paragraphs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = list(self.paragraphs)
        parts.extend(p.text for p in self.pages)
        return "\n".join(p for p in parts if p)
