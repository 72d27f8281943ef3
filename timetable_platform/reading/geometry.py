"""Plane geometry the layout readers share: 1-D clustering, box union, span overlap, union-find.

Pure functions on numbers and boxes (no numpy), used by the table finders, the word-stream reader
and the PDF / image readers. Coordinates follow ``domain.layout``: origin top left, y downwards.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
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


OVERFLOW_CROSSING = 0.25  # of a word's height on each side of a row line: the word is printed across it
OVERFLOW_LEADING = 0.5  # of a line's height: lines closer than this are one paragraph


def gather_overflowing_text(
    members: dict[int, list[Word]], slots: dict[tuple[int, int], int], xs: Sequence[float], ys: Sequence[float]
) -> None:
    """Give wrapped text that spills over its cell's top and bottom rulings back to the cell at its middle.

    A spreadsheet row too short for its wrapped text prints the text centred on the cell anyway, over
    the row lines above and below, so the first and last lines would land in the neighbouring (empty)
    rows. A word printed across a row line is such text: its whole paragraph belongs where its middle is.
    ``members`` maps each cell's key to its words, ``slots`` each (row, col) of the grid to its cell's key.
    """
    owner_of: dict[int, int] = {id(w): key for key, ws in members.items() for w in ws}
    words = [w for ws in members.values() for w in ws]
    for word in words:
        crossing = _crossed_row_line(word, ys)
        if crossing is None:
            continue
        col = min(max(bisect.bisect_right(xs, word.bbox.center[0]) - 1, 0), len(xs) - 2)
        upper, lower = slots.get((crossing - 1, col)), slots.get((crossing, col))
        if upper is None or lower is None or upper == lower:
            continue
        pool = [w for w in words if owner_of.get(id(w)) in (upper, lower) and _same_column(w, word, xs)]
        block = _paragraph_around(word, pool)
        middle = (min(w.bbox.top for w in block) + max(w.bbox.bottom for w in block)) / 2
        target = upper if middle < ys[crossing] else lower
        inside = {id(w) for w in block}
        if any(id(w) not in inside for w in members.get(upper if target == lower else lower, [])):
            continue  # the other cell prints text of its own: lines crowded together, not a spill
        for w in block:
            source = owner_of[id(w)]
            if source != target:
                members[source].remove(w)
                members.setdefault(target, []).append(w)
                owner_of[id(w)] = target


def _crossed_row_line(word: Word, ys: Sequence[float]) -> int | None:
    margin = OVERFLOW_CROSSING * word.bbox.height
    for k in range(1, len(ys) - 1):
        if word.bbox.top + margin < ys[k] < word.bbox.bottom - margin:
            return k
    return None


def _same_column(a: Word, b: Word, xs: Sequence[float]) -> bool:
    return bisect.bisect_right(xs, a.bbox.center[0]) == bisect.bisect_right(xs, b.bbox.center[0])


def _paragraph_around(seed: Word, pool: list[Word]) -> list[Word]:
    """The words tied to the seed by tight line spacing, up and down."""
    block = [seed]
    top, bottom = seed.bbox.top, seed.bbox.bottom
    grown = True
    while grown:
        grown = False
        for w in pool:
            if any(w is b for b in block):
                continue
            leading = OVERFLOW_LEADING * min(w.bbox.height, seed.bbox.height)
            if w.bbox.top <= bottom + leading and w.bbox.bottom >= top - leading:
                block.append(w)
                top, bottom = min(top, w.bbox.top), max(bottom, w.bbox.bottom)
                grown = True
    return block
