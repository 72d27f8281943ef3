"""Plane geometry the layout readers share: 1-D clustering, box union, span overlap, union-find.

Pure functions on numbers and boxes (no numpy), used by the table finders, the word-stream reader
and the PDF / image readers. Coordinates follow ``domain.layout``: origin top left, y downwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Protocol

from timetable_platform.domain.layout import BBox, Line, Word


class HasXSpan(Protocol):
    """Anything with a horizontal extent (a box, a phrase)."""

    @property
    def x0(self) -> float: ...

    @property
    def x1(self) -> float: ...


class HasYSpan(Protocol):
    """Anything with a vertical extent (a box, a phrase, a chunk of lines)."""

    @property
    def top(self) -> float: ...

    @property
    def bottom(self) -> float: ...


# --- 1-D clustering -------------------------------------------------------------------------------


def cluster_values(values: Iterable[float], tolerance: float) -> list[list[float]]:
    """Sorted values in runs where each value is at most ``tolerance`` above the previous one.

    Chained, like pdfplumber's ``cluster_list``: a run can be wider than ``tolerance`` when its
    values are evenly spaced, so that a ruling drawn as several touching segments stays one run.
    """
    groups: list[list[float]] = []
    for value in sorted(values):
        if groups and value - groups[-1][-1] <= tolerance:
            groups[-1].append(value)
        else:
            groups.append([value])
    return groups


def cluster_centres(values: Iterable[float], tolerance: float) -> list[float]:
    """The mean of each run of ``cluster_values``, in increasing order: distinct grid positions."""
    return [sum(group) / len(group) for group in cluster_values(values, tolerance)]


# --- boxes and spans ------------------------------------------------------------------------------


def union_boxes(boxes: Iterable[BBox]) -> BBox:
    """The smallest box that holds every box; ``ValueError`` when there is none."""
    items = list(boxes)
    if not items:
        raise ValueError("union of no boxes")
    return BBox(
        min(b.x0 for b in items), min(b.top for b in items), max(b.x1 for b in items), max(b.bottom for b in items)
    )


def span_overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length shared by the intervals [a0, a1] and [b0, b1]; zero when they touch, negative when apart
    (minus the gap), so callers can compare it with a fraction of either length."""
    return min(a1, b1) - max(a0, b0)


def x_overlap(a: HasXSpan, b: HasXSpan) -> float:
    """Horizontal overlap of two extents (negative: the gap between them)."""
    return span_overlap(a.x0, a.x1, b.x0, b.x1)


def y_overlap(a: HasYSpan, b: HasYSpan) -> float:
    """Vertical overlap of two extents (negative: the gap between them)."""
    return span_overlap(a.top, a.bottom, b.top, b.bottom)


# Words further apart than this many line heights are in different columns, not one line.
COLUMN_GAP = 2.0


def split_at_gaps(line: Line, gap: float = COLUMN_GAP) -> list[Line]:
    """A line cut where the space between two words is wider than ``gap`` line heights: a PDF's text
    layer puts everything on one baseline into one line, across the columns of the page (day headings
    side by side, boxes of neighbouring days), while words of one phrase are a space apart."""
    words = sorted(line.words, key=lambda w: w.bbox.x0)
    if len(words) < 2:
        return [line]
    height = max(min(w.bbox.height for w in words), 1.0)
    parts: list[list[Word]] = [[words[0]]]
    for previous, word in pairwise(words):
        if word.bbox.x0 - previous.bbox.x1 > gap * height:
            parts.append([])
        parts[-1].append(word)
    if len(parts) == 1:
        return [line]
    return [Line(words=part, bbox=union_boxes(w.bbox for w in part)) for part in parts]


# --- union-find -----------------------------------------------------------------------------------


class DisjointSet:
    """Union-find over the integers 0..n-1 (grid slots merged into spanned cells).

    ``find`` halves paths as it goes; ``union`` makes the smaller root the representative, so a
    merged group is named after its first slot in row-major order.
    """

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        """The representative of ``item``'s group."""
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        """Merge the groups of ``a`` and ``b``."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)
