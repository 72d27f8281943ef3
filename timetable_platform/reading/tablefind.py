"""A table from words and ruling lines, when the reader found no ruled table (unruled PDFs, OCR).

Ruling lines, when there are enough of them, give the column and row edges; a missing ruling
segment between two neighbouring slots merges them (a spanned cell). Without rulings, rows are
clusters of word baselines and columns are the x-gaps that most rows leave empty.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from timetable_platform.domain.layout import BBox, Cell, Line, Page, Table, Word
from timetable_platform.reading.geometry import (
    DisjointSet,
    cluster_centres,
    gather_overflowing_text,
    union_boxes,
    y_overlap,
)

_MIN_GRID = 2  # at least a 2 x 2 grid of slots


@dataclass
class _Edges:
    xs: list[float]
    ys: list[float]


def _ruling_edges(page: Page) -> _Edges | None:
    tol = max(page.width, page.height) * 0.004
    verticals = [r for r in page.rulings if r.width <= tol and r.height > tol * 3]
    horizontals = [r for r in page.rulings if r.height <= tol and r.width > tol * 3]
    if len(verticals) < _MIN_GRID + 1 or len(horizontals) < _MIN_GRID + 1:
        return None
    xs = cluster_centres([(r.x0 + r.x1) / 2 for r in verticals], tol * 2)
    ys = cluster_centres([(r.top + r.bottom) / 2 for r in horizontals], tol * 2)
    # A table's top and bottom edges meet its column rules; a heading's underline or a signature line
    # meets none, is shorter than the table, and would stretch the grid over the text between it
    # and the table. (Column edges are left: a menu boxed beside the table is dropped below.)
    while len(ys) > _MIN_GRID + 1 and _loose(ys[0], horizontals, verticals, xs[-1] - xs[0], tol):
        ys = ys[1:]
    while len(ys) > _MIN_GRID + 1 and _loose(ys[-1], horizontals, verticals, xs[-1] - xs[0], tol):
        ys = ys[:-1]
    if len(xs) < _MIN_GRID + 1 or len(ys) < _MIN_GRID + 1:
        return None
    return _Edges(xs, ys)


def _loose(position: float, horizontals: list[BBox], verticals: list[BBox], width: float, tol: float) -> bool:
    """Whether the row edge at ``position`` is a loose rule: its rulings cover less than 60% of the
    grid's ``width`` and no vertical ruling reaches it."""
    reach = tol * 2
    length = sum(r.width for r in horizontals if abs((r.top + r.bottom) / 2 - position) <= reach)
    met = any(r.top - reach <= position <= r.bottom + reach for r in verticals)
    return not met and length < 0.6 * width


def _has_vertical(page: Page, x: float, top: float, bottom: float, tol: float) -> bool:
    """A ruling runs along x over most of [top, bottom]."""
    covered = 0.0
    for r in page.rulings:
        if r.width <= tol and abs((r.x0 + r.x1) / 2 - x) <= tol * 2:
            covered += max(0.0, min(r.bottom, bottom) - max(r.top, top))
    return covered >= (bottom - top) * 0.6


def _has_horizontal(page: Page, y: float, x0: float, x1: float, tol: float) -> bool:
    covered = 0.0
    for r in page.rulings:
        if r.height <= tol and abs((r.top + r.bottom) / 2 - y) <= tol * 2:
            covered += max(0.0, min(r.x1, x1) - max(r.x0, x0))
    return covered >= (x1 - x0) * 0.6


def _lines_of(words: list[Word]) -> list[Line]:
    """Words grouped into lines by vertical overlap, left to right."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.bbox.top, w.bbox.x0)):
        for line in lines:
            overlap = y_overlap(line.bbox, w.bbox)
            # Horizontal distance to the line, not to its last word: OCR boxes are ink-tight, so a short
            # word ("y", "–") sorts after its right-hand neighbour and would otherwise start a new line.
            gap = max(0.0, w.bbox.x0 - line.bbox.x1, line.bbox.x0 - w.bbox.x1)
            if overlap > 0.5 * min(line.bbox.height, w.bbox.height) and gap < 3 * max(
                w.bbox.height, line.bbox.height, 1
            ):
                line.words.append(w)
                line.bbox = line.bbox.union(w.bbox)
                break
        else:
            lines.append(Line(words=[w], bbox=w.bbox))
    for line in lines:
        line.words.sort(key=lambda w: w.bbox.x0)
    lines.sort(key=lambda ln: (round(ln.bbox.top), ln.bbox.x0))
    return lines


def _make_cell(row: int, col: int, rowspan: int, colspan: int, box: BBox, words: list[Word]) -> Cell:
    lines = _lines_of(words)
    confidence = min((w.confidence for w in words), default=1.0)
    return Cell(
        row=row,
        col=col,
        text="\n".join(ln.text for ln in lines),
        rowspan=rowspan,
        colspan=colspan,
        bbox=box,
        lines=lines,
        confidence=confidence,
    )


def _without_letter_strokes(page: Page) -> Page:
    """The page without the short "rulings" that stand inside a word's box: the stems of bold or
    accented letters read as line segments, which would cut a cell at a word."""

    def stroke(r: BBox) -> bool:
        cx = (r.x0 + r.x1) / 2
        return any(
            w.bbox.x0 + 1 < cx < w.bbox.x1 - 1 and y_overlap(w.bbox, r) > 0 and r.height <= 2 * w.bbox.height
            for w in page.words
        )

    kept = [r for r in page.rulings if r.height <= r.width or not stroke(r)]
    return page if len(kept) == len(page.rulings) else replace(page, rulings=kept)


def _line_chunks(page: Page, x0: float, x1: float) -> list[_Chunk]:
    """The lines of the words between x0 and x1, one chunk each."""
    words = [w for w in page.words if x0 <= (w.bbox.x0 + w.bbox.x1) / 2 < x1]
    return [_Chunk(col=0, words=ln.words, top=ln.bbox.top, bottom=ln.bbox.bottom) for ln in _lines_of(words)]


def table_from_rulings(page: Page) -> Table | None:
    """A table whose slots are the ruling grid, merging slots where the separating ruling is missing."""
    page = _without_letter_strokes(page)
    edges = _ruling_edges(page)
    if edges is None:
        return None
    xs, ys = edges.xs, edges.ys
    if len(xs) > _MIN_GRID + 1 and _is_menu(*(_line_chunks(page, xs[i], xs[i + 1]) for i in (0, 1))):
        xs = xs[1:]  # a menu boxed beside the table: the grid starts at the table's own edge
    if len(xs) > _MIN_GRID + 1 and _is_aside(_line_chunks(page, xs[-2], xs[-1]), _line_chunks(page, xs[0], xs[1])):
        xs = xs[:-1]  # an advert boxed beside the table
    tol = max(page.width, page.height) * 0.004
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    slots = DisjointSet(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols - 1):
            if not _has_vertical(page, xs[c + 1], ys[r], ys[r + 1], tol):
                slots.union(r * n_cols + c, r * n_cols + c + 1)
    for r in range(n_rows - 1):
        for c in range(n_cols):
            if not _has_horizontal(page, ys[r + 1], xs[c], xs[c + 1], tol):
                slots.union(r * n_cols + c, (r + 1) * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(slots.find(r * n_cols + c), []).append((r, c))
    spans: list[tuple[int, int, int, int]] = []  # (row, col, rowspan, colspan) of each cell
    for members in groups.values():
        r0 = min(r for r, _ in members)
        r1 = max(r for r, _ in members) + 1
        c0 = min(c for _, c in members)
        c1 = max(c for _, c in members) + 1
        if len(members) != (r1 - r0) * (c1 - c0):
            # Not a rectangle: keep one slot per member row-run instead of a ragged span.
            spans.extend((r, c, 1, 1) for r, c in members)
            continue
        spans.append((r0, c0, r1 - r0, c1 - c0))
    slot_cell = {(r + i, c + j): k for k, (r, c, rs, cs) in enumerate(spans) for i in range(rs) for j in range(cs)}
    words_of: dict[int, list[Word]] = {}
    table_box = BBox(xs[0], ys[0], xs[-1], ys[-1])
    for w in page.words:
        if table_box.contains_point(*w.bbox.center):
            row = min(bisect.bisect_right(ys, w.bbox.center[1]) - 1, n_rows - 1)
            col = min(bisect.bisect_right(xs, w.bbox.center[0]) - 1, n_cols - 1)
            words_of.setdefault(slot_cell[(row, col)], []).append(w)
    gather_overflowing_text(words_of, slot_cell, xs, ys)
    cells = [
        _make_cell(r, c, rs, cs, BBox(xs[c], ys[r], xs[c + cs], ys[r + rs]), words_of.get(k, []))
        for k, (r, c, rs, cs) in enumerate(spans)
    ]
    if not any(c.text for c in cells):
        return None
    # Short strokes (letters of a heading, OCR speckle) are no grid: their "slots" merge into one.
    if max(c.rowspan * c.colspan for c in cells) > n_rows * n_cols / 2:
        return None
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, bbox=BBox(xs[0], ys[0], xs[-1], ys[-1]))


def _column_edges(lines: list[Line], height: float) -> list[float] | None:
    """Column edges: x positions that nearly every line leaves empty (a title crossing them is tolerated)."""
    words = [w for line in lines for w in line.words]
    x0 = min(w.bbox.x0 for w in words)
    x1 = max(w.bbox.x1 for w in words)
    step = max(1.0, height / 4)
    n = int((x1 - x0) / step) + 1
    covered = [0] * n
    for line in _below_headings(lines, height):
        mark = [False] * n
        for w in line.words:
            for i in range(int((w.bbox.x0 - x0) / step), min(n, int((w.bbox.x1 - x0) / step) + 1)):
                mark[i] = True
        for i in range(n):
            covered[i] += mark[i]

    def runs(limit: int, edges: bool = False) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        i = 0
        while i < n:
            if covered[i] <= limit:
                j = i
                while j < n and covered[j] <= limit:
                    j += 1
                if (j - i) * step >= height * 0.8 and (edges or (i > 0 and j < n)):
                    found.append((i, j))
                i = j
            else:
                i += 1
        return found

    # A few crossing lines (a title) must not hide a gap, but a sparse column (a break printed once)
    # must not become one: a tolerant gap holding clean gaps is replaced by them.
    clean = runs(0)
    gaps: list[tuple[int, int]] = []
    for a, b in runs(max(1, int(len(lines) * 0.03)), edges=True):
        inside = [(c, d) for c, d in clean if a <= c and d <= b]
        if a == 0 or b == n:
            # Reaching the edge: a sparse first or last column (a header printed once) sits in it.
            gaps.extend(inside)
            continue
        gaps.extend(inside if len(inside) >= 2 else [(a, b)])
    xs = [x0] + [x0 + (a + b) / 2 * step for a, b in gaps] + [x1 + 1]
    return xs if len(xs) - 1 >= _MIN_GRID else None


def _below_headings(lines: list[Line], height: float) -> list[Line]:
    """Lines from the first row that holds three or more separate pieces of text: headings above a
    table (one centred line each) cross its column gaps and are left out."""
    ordered = sorted(lines, key=lambda ln: ln.bbox.top)
    for index, line in enumerate(ordered):
        same_row = [ln for ln in ordered if abs(ln.bbox.top - line.bbox.top) <= height * 0.6]
        if len(same_row) >= 3:
            return ordered[index:]
    return ordered


@dataclass
class _Chunk:
    """Consecutive text lines of one column that belong together (one cell's text)."""

    col: int
    words: list[Word]
    top: float
    bottom: float
    header: bool = False  # a piece of the header line of day names

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _chunks(lines: list[Line], xs: list[float], height: float) -> list[_Chunk]:
    n_cols = len(xs) - 1
    # The widest gap between two lines of one cell. Text-layer boxes span the font's full height, so
    # lines nearly touch; OCR boxes hug the ink, leaving about half a text height between lines.
    line_gap = (_OCR_LINE_GAP if _ink_boxes([w for line in lines for w in line.words]) else 0.45) * height
    pieces: dict[int, list[tuple[float, float, list[Word]]]] = {}
    # The header line of day names is a row of its own: its pieces join no line above or below them.
    header_ids = _header_words([w for line in lines for w in line.words])
    for line in lines:
        by_col: dict[int, list[Word]] = {}
        for w in line.words:
            cx = (w.bbox.x0 + w.bbox.x1) / 2
            col = next((k for k in range(n_cols) if xs[k] <= cx < xs[k + 1]), n_cols - 1)
            by_col.setdefault(col, []).append(w)
        for col, ws in by_col.items():
            pieces.setdefault(col, []).append(
                (min(w.bbox.top for w in ws), max(w.bbox.bottom for w in ws), ws)
            )
    label_col = _pitch_column(pieces)
    labels = sorted(top for top, _, _ in pieces.get(label_col, []))
    if len(labels) >= 3:
        # Rows far apart (a web table's padding and loose line spacing): lines of one cell may stand
        # further apart than a text height, but never a quarter of the way to the next row's label.
        pitch = sorted(b - a for a, b in pairwise(labels))[(len(labels) - 1) // 2]
        line_gap = max(line_gap, min(1.6 * height, 0.25 * pitch))
    chunks: list[_Chunk] = []
    for items in pieces.values():
        items.sort(key=lambda item: item[0])
    own_rows = _clock_rows(pieces.get(label_col, []))
    for col, items in pieces.items():
        alone = own_rows if col == label_col else set()
        for index, (top, bottom, ws) in enumerate(items):
            last = chunks[-1] if chunks and chunks[-1].col == col else None
            header = any(id(w) in header_ids for w in ws)
            if (
                last is not None
                and top - last.bottom <= line_gap
                and not header
                and not last.header
                and not (index in alone or index - 1 in alone)
            ):
                last.words.extend(ws)
                last.bottom = max(last.bottom, bottom)
            else:
                chunks.append(_Chunk(col=col, words=list(ws), top=top, bottom=bottom, header=header))
    return chunks


# Label lines in a run this long, evenly spaced (within this share of their pitch), each a row.
CLOCK_RUN = 3
CLOCK_PITCH = 0.15


def _clock_rows(items: list[tuple[float, float, list[Word]]]) -> set[int]:
    """Indices of label lines that each print one clock time ('7h', '8h', '9h' ...), evenly spaced and
    later each: rows of their own, however tightly a spreadsheet printout sets them. (A start and an
    end stacked in one label stand close, then far from the next pair: no even run.)"""
    from timetable_platform.domain.times import find_times

    starts = []
    for _, _, ws in items:
        found = find_times(" ".join(w.text for w in ws))
        starts.append(found[0].start if len(found) == 1 and found[0].end is None else None)
    rows: set[int] = set()
    run: list[int] = []
    for k in range(len(items) + 1):
        fits = k < len(items) and starts[k] is not None
        if fits and run:
            pitch = items[run[-1]][0] - items[run[-2]][0] if len(run) >= 2 else None
            step = items[k][0] - items[run[-1]][0]
            fits = starts[k] > starts[run[-1]] and (pitch is None or abs(step - pitch) <= CLOCK_PITCH * pitch)
        if fits:
            run.append(k)
            continue
        if len(run) >= CLOCK_RUN:
            rows.update(run)
        run = [k] if k < len(items) and starts[k] is not None else []
    return rows


def _header_words(words: list[Word]) -> set[int]:
    """Ids of the words on the line of a grid's header of day names: three days or more named on one
    baseline, and whatever else stands on it ('Time' over the label column)."""
    from timetable_platform.domain.days import parse_day

    named = [(w, day) for w in words if len(w.text) <= 12 and (day := parse_day(w.text)) is not None]
    for w, _ in named:
        level = [d for other, d in named if y_overlap(w.bbox, other.bbox) > 0.5 * min(w.bbox.height, other.bbox.height)]
        if len(set(level)) >= 3:
            return {
                id(other) for other in words if y_overlap(w.bbox, other.bbox) > 0.5 * min(w.bbox.height, other.bbox.height)
            }
    return set()


def _pitch_column(pieces: dict[int, list[tuple[float, float, list[Word]]]]) -> int:
    """The column whose lines mark the rows: the first, unless another prints a time on more lines.
    A record table names each day once, in its first column, over rows whose times stand in the
    next: the day labels' pitch is many rows, the times' one."""
    from timetable_platform.domain.times import find_times

    def timed(col: int) -> int:
        return sum(1 for _, _, ws in pieces.get(col, []) if find_times(" ".join(w.text for w in ws)))

    best = max(pieces, key=lambda col: (timed(col), col == 0), default=0)
    return best if timed(best) > max(timed(0), len(pieces.get(0, []))) else 0


_OCR_LINE_GAP = 0.95
# Share of a line a text chunk must reach into a row band to count as being in that row.
_ROW_OVERLAP = 0.5


def _ink_boxes(words: list[Word]) -> bool:
    """Whether the words come from OCR (confidence below 1 on most), whose boxes hug the ink."""
    return sum(1 for w in words if w.confidence < 1.0) > len(words) / 2


def table_from_words(words: list[Word], boxes: Sequence[BBox] = ()) -> Table | None:
    """A table from word positions alone (no rulings).

    Columns are the x-gaps shared by nearly all lines. Rows are anchored on the first column (the
    label column: times, periods or days), one row per text chunk there; a chunk elsewhere that
    reaches into two rows (a double lesson printed between them) spans both.
    """
    if len(words) < 4:
        return None
    lines = _lines_of(words)
    if len(lines) < _MIN_GRID:
        return None
    height = sorted(w.bbox.height for w in words)[len(words) // 2] or 1.0
    xs = _column_edges(lines, height)
    if xs is None:
        return None
    junk = _junk_edge_words(words, xs)
    if junk:
        return table_from_words([w for w in words if id(w) not in junk], boxes)
    n_cols = len(xs) - 1
    chunks = _chunks(lines, xs, height)
    menu = _menu_column_words(chunks)
    last = [c for c in chunks if c.col == n_cols - 1]
    if n_cols > _MIN_GRID + 1 and _is_aside(last, [c for c in chunks if c.col == 0]):
        menu |= {id(w) for c in last for w in c.words}
    if menu:
        return table_from_words([w for w in words if id(w) not in menu], boxes)
    anchors = sorted((c for c in chunks if c.col == 0), key=lambda c: c.top)
    if not anchors:
        return None
    unlabelled, above_label = _unlabelled_rows(chunks, anchors, height)
    anchors = sorted([*anchors, *unlabelled], key=lambda c: c.top)
    anchors = _paired_bare_labels(anchors, chunks, height)
    if len(anchors) < _MIN_GRID:
        return None
    chunks = _split_at_labels(chunks, anchors, height)
    _stretch_to_boxes(chunks, boxes, xs, height)
    # Row bands: from each anchor's top to the next anchor's top (text sits at the top or middle of a row).
    centres = [(a.top + a.bottom) / 2 for a in anchors]
    centred = above_label or _centred(anchors, chunks)
    bounds = [anchors[0].top - 0.5 * height]
    bounds += [
        (centres[k] + centres[k + 1]) / 2 if centred else anchors[k + 1].top - 0.3 * height
        for k in range(len(anchors) - 1)
    ]
    bounds.append(max(c.bottom for c in chunks) + 1)
    n_rows = len(anchors)
    slots: dict[tuple[int, int], list[_Chunk]] = {}
    spans: dict[int, tuple[int, int]] = {}
    # The band of the header line of day names: no cell below it reaches up into it.
    header_rows = {r for c in chunks if c.header for r in range(n_rows) if bounds[r] <= (c.top + c.bottom) / 2 < bounds[r + 1]}
    for index, chunk in enumerate(chunks):
        if chunk.bottom < bounds[0]:
            continue  # above the table: headings
        rows = [
            r
            for r in range(n_rows)
            if min(chunk.bottom, bounds[r + 1]) - max(chunk.top, bounds[r])
            >= _ROW_OVERLAP * min(chunk.bottom - chunk.top, height)
            and (chunk.header or r not in header_rows)
        ]
        if not rows:
            continue
        spans[index] = (rows[0], rows[-1] + 1)
        slots.setdefault((rows[0], chunk.col), []).append(chunk)
    # Slot -> (top-left slot, row end, words) of the cell covering it.
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    placed: dict[tuple[int, int], tuple[int, list[Word]]] = {}
    for (row, col), group in sorted(slots.items()):
        ws = [w for c in group for w in c.words]
        row_end = max(spans[chunks.index(c)][1] for c in group)
        if (row, col) in owner:  # a span from above reaches this text's row: both are single rows
            above = owner[(row, col)]
            end, above_words = placed[above]
            placed[above] = (row, above_words)
            for r in range(row, end):
                del owner[(r, col)]
            row_end = row + 1
        if any((r, col) in owner for r in range(row, row_end)):
            row_end = row + 1
        for r in range(row, row_end):
            owner[(r, col)] = (row, col)
        placed[(row, col)] = (row_end, ws)
    cells: list[Cell] = []
    for (row, col), (row_end, ws) in placed.items():
        box = BBox(xs[col], bounds[row], xs[col + 1], bounds[row_end])
        cells.append(_make_cell(row, col, row_end - row, 1, box, ws))
    if not cells:
        return None
    _widen_to_bands(cells, boxes, xs)
    _widen_lone_breaks(cells, n_rows, n_cols, xs)
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, bbox=BBox(xs[0], bounds[0], xs[-1], bounds[-1]))


def _split_at_labels(chunks: list[_Chunk], anchors: list[_Chunk], height: float) -> list[_Chunk]:
    """Two cells stacked closely in one column (the same lesson printed in two rows) read as one chunk.
    Where the chunk starts level with one row label and a later line of it starts level with the next
    label, and the parts are printed alike, it is two cells, cut there. A double lesson centred between
    labels is left whole."""
    tops = [a.top for a in anchors]

    def level(y: float) -> int | None:
        return next((k for k, top in enumerate(tops) if abs(y - top) <= 0.6 * height), None)

    out: list[_Chunk] = []
    for chunk in chunks:
        if chunk.col == 0 or chunk.header or level(chunk.top) is None:
            out.append(chunk)
            continue
        first_of_row: dict[int, float] = {}  # the top of the chunk's first line level with each later label
        for y in sorted(w.bbox.top for w in chunk.words):
            if (k := level(y)) is not None and k != level(chunk.top):
                first_of_row.setdefault(k, y)
        cuts = [y - 0.3 * height for y in first_of_row.values()]
        parts = [
            [w for w in chunk.words if lo <= w.bbox.top < hi]
            for lo, hi in pairwise([-math.inf, *cuts, math.inf])
        ]
        pieces = [_piece(chunk.col, part) for part in parts] if cuts and _alike(parts, height) else [chunk]
        out.extend(pieces)
    return out


def _stretch_to_boxes(chunks: list[_Chunk], boxes: Sequence[BBox], xs: list[float], height: float) -> None:
    """A lesson's text printed in the middle of its filled box reaches as far as the box: a spreadsheet
    printed without borders (a merged cell's fill over two hours, its name centred in it) or an
    app's lesson card shows its length so, not by rulings."""
    for chunk in chunks:
        if chunk.header or chunk.col == 0:
            continue
        cx = (min(w.bbox.x0 for w in chunk.words) + max(w.bbox.x1 for w in chunk.words)) / 2
        cy = (chunk.top + chunk.bottom) / 2
        width = xs[chunk.col + 1] - xs[chunk.col]
        tall = chunk.bottom - chunk.top
        box = _smallest(b for b in boxes if b.contains_point(cx, cy) and b.width <= BOX_COLUMN * width and b.height >= tall)
        if box is not None:
            inset = BOX_INSET * height
            chunk.top, chunk.bottom = min(chunk.top, box.top + inset), max(chunk.bottom, box.bottom - inset)


def _smallest(boxes: Iterable[BBox]) -> BBox | None:
    """The smallest of the boxes (the innermost fill behind a print), or None."""
    return min(boxes, key=lambda b: b.width * b.height, default=None)


# A box wider than this many columns is a band across days, not one lesson's; a box's edge this many
# text heights inside does not reach the row it ends on.
BOX_COLUMN = 1.5
BOX_INSET = 0.5


def _alike(parts: list[list[Word]], height: float) -> bool:
    """Whether stacked parts are cells printed alike: each of two lines or more, as many lines each
    (one cell's own lines beside short rows, 'Art' / 'Room 4', are no such cells)."""

    def lines(words: list[Word]) -> int:
        tops = sorted(w.bbox.top for w in words)
        return 1 + sum(1 for a, b in pairwise(tops) if b - a > 0.5 * height) if tops else 0

    counts = {lines(part) for part in parts}
    return len(counts) == 1 and min(counts) >= 2


def _piece(col: int, words: list[Word]) -> _Chunk:
    return _Chunk(col=col, words=words, top=min(w.bbox.top for w in words), bottom=max(w.bbox.bottom for w in words))


def _junk_edge_words(words: list[Word], xs: list[float]) -> set[int]:
    """Ids of the words of a first or last column holding only OCR debris: short, unsure pieces
    (the desk or a shadow beside a photographed page) that no timetable column looks like."""
    for lo, hi in ((xs[0], xs[1]), (xs[-2], xs[-1])):
        inside = [w for w in words if lo <= (w.bbox.x0 + w.bbox.x1) / 2 < hi]
        if not inside or len(inside) == len(words):
            continue
        mean = sum(w.confidence for w in inside) / len(inside)
        if all(len(w.text) <= 2 for w in inside) and mean < 0.8:
            return {id(w) for w in inside}
    return set()


def _menu_column_words(chunks: list[_Chunk]) -> set[int]:
    """Ids of the words of a first column that is a web page's menu (see ``_is_menu``)."""
    first = [c for c in chunks if c.col == 0]
    if not _is_menu(first, [c for c in chunks if c.col == 1]):
        return set()
    return {id(w) for c in first for w in c.words}


def _is_aside(last: Sequence[_Chunk], labels: Sequence[_Chunk]) -> bool:
    """Whether a last column is page furniture beside the table (an advert or notice box at the
    side of a web page): it prints no time, period or day, and stands level with hardly any of the
    rows' time labels (a lesson column would, however sparse)."""
    from timetable_platform.domain.times import find_times

    timed = [c for c in labels if find_times(c.text)]
    return len(timed) >= 4 and _furniture(last, timed, level_share=0.25)


def _is_menu(first: Sequence[_Chunk], second: Sequence[_Chunk]) -> bool:
    """Whether a first column is page furniture beside the table (a web page's menu of links): it
    prints no time, period or day, while the column after it prints the rows' times, and its lines
    do not stand level with those times (a record table's first column would)."""
    from timetable_platform.domain.times import find_times

    timed = [c for c in second if find_times(c.text)]
    return len(timed) >= 3 and _furniture(first, timed, level_share=0.5)


def _furniture(column: Sequence[_Chunk], timed: list[_Chunk], *, level_share: float) -> bool:
    """Whether ``column`` prints no time, period or day and stands level with under ``level_share``
    of the ``timed`` row labels."""
    from timetable_platform.domain.days import parse_day

    if not column or any(_row_label(c.text) or any(parse_day(w.text) for w in c.words) for c in column):
        return False
    level = sum(1 for t in timed if any(y_overlap(t, c) > 0 for c in column))
    return level < level_share * len(timed)


def _widen_to_bands(cells: list[Cell], boxes: Sequence[BBox], xs: list[float]) -> None:
    """A band painted across several day columns with its text printed once (a weekday evening course,
    a spreadsheet's merged cell over Monday to Friday) is one cell over every column it covers, when
    nothing else is printed in them on its rows."""
    for cell in cells:
        if cell.col == 0 or not cell.text or cell.colspan != 1 or not cell.lines:
            continue
        cx, cy = union_boxes(line.bbox for line in cell.lines).center
        width = xs[cell.col + 1] - xs[cell.col]
        band = _smallest(b for b in boxes if b.contains_point(cx, cy) and b.width > BOX_COLUMN * width)
        if band is None:
            continue
        # (Column edges found from word gaps lie between the print, not on the cells' sides.)
        covered = [c for c in range(1, len(xs) - 1) if band.x0 <= (xs[c] + xs[c + 1]) / 2 <= band.x1]
        if cell.col not in covered or covered != list(range(covered[0], covered[-1] + 1)):
            continue
        if any(
            other is not cell and other.text and other.col in covered and other.row < cell.row_end and cell.row < other.row_end
            for other in cells
        ):
            continue
        cell.col, cell.colspan = covered[0], len(covered)
        if cell.bbox is not None:
            cell.bbox = BBox(xs[covered[0]], cell.bbox.top, xs[covered[-1] + 1], cell.bbox.bottom)


def _widen_lone_breaks(cells: list[Cell], n_rows: int, n_cols: int, xs: list[float]) -> None:
    """Without rulings a merged break row prints its text once, in the first body column: a row holding
    only a break or registration there spans the whole body."""
    from timetable_platform.reading.cells import classify_kind

    if n_cols < 3:
        return
    by_row: dict[int, list[Cell]] = {}
    for cell in cells:
        by_row.setdefault(cell.row, []).append(cell)
    busy_rows = sum(1 for row in by_row.values() if sum(1 for c in row if c.col > 0 and c.text) >= 2)
    if busy_rows < 2:
        return
    for row in by_row.values():
        body = [c for c in row if c.col > 0 and c.text]
        if len(body) != 1 or body[0].col != 1 or body[0].rowspan != 1 or "\n" in body[0].text:
            continue
        if classify_kind(body[0].text) == "lesson":
            continue
        cell = body[0]
        if any(c is not cell and c.col > 0 and c.row <= cell.row < c.row_end for c in cells):
            continue  # a span from above reaches into the row
        cell.colspan = n_cols - 1
        if cell.bbox is not None:
            cell.bbox = BBox(cell.bbox.x0, cell.bbox.top, xs[-1], cell.bbox.bottom)
    # Days as rows: a break column prints its text once, somewhere down the column.
    by_col: dict[int, list[Cell]] = {}
    for cell in cells:
        by_col.setdefault(cell.col, []).append(cell)
    busy_cols = sum(1 for col in by_col.values() if sum(1 for c in col if c.row > 0 and c.text) >= 2)
    if n_rows < 3 or busy_cols < 2:
        return
    for col in by_col.values():
        body = [c for c in col if c.row > 0 and c.text]
        if len(body) != 1 or body[0].col == 0 or body[0].colspan != 1 or body[0].rowspan != 1:
            continue
        if "\n" in body[0].text or classify_kind(body[0].text) == "lesson":
            continue
        cell = body[0]
        # Only when nothing else sits in the column's body rows.
        if any(c is not cell and c.col <= cell.col < c.col_end and c.row_end > 1 for c in cells):
            continue
        cell.row, cell.rowspan = 1, n_rows - 1


def _unlabelled_rows(chunks: list[_Chunk], anchors: list[_Chunk], height: float) -> tuple[list[_Chunk], bool]:
    """Rows with nothing in the label column: a header row of day names above the labels (two or more
    columns), or a break printed once between labelled rows. A lone lesson between two rows is a
    double lesson, not a row. Also says whether lesson text next to no label stands a line above the
    nearest label (which then stands in the middle of its row)."""
    from timetable_platform.reading.cells import classify_kind

    orphans = sorted(
        (
            c
            for c in chunks
            if c.col != 0
            and not any(
                y_overlap(c, a) >= 0.3 * min(c.bottom - c.top, a.bottom - a.top, height) for a in anchors
            )
        ),
        key=lambda c: c.top,
    )
    groups: list[list[_Chunk]] = []
    for chunk in orphans:
        if groups and chunk.top <= max(c.bottom for c in groups[-1]):
            groups[-1].append(chunk)
        else:
            groups.append([chunk])
    rows: list[_Chunk] = []
    # Only when the first label is a body label ('P1', '08:30') can a header row lack its label cell.
    first_is_body_label = any(ch.isdigit() for w in anchors[0].words for ch in w.text)
    # Where the first body row starts: its cells may begin above a label centred beside them.
    first_row_top = min(
        [anchors[0].top, *(c.top for c in chunks if c.col != 0 and y_overlap(c, anchors[0]) > 0)]
    )
    pitch = _label_pitch(anchors)
    # A registration or assembly printed once just above the first labelled row ('Form time' before
    # period 1, with no label of its own) is a row, and the header sits right above it instead.
    leading: set[int] = set()
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if min(c.top for c in group) >= anchors[0].top:
            continue
        if (
            len(group) != 1 or max(c.bottom for c in group) < first_row_top - 2.5 * height
            or _title_sized(group, height) or classify_kind(group[0].text) == "lesson"
        ):
            break
        leading.add(index)
        first_row_top = min(c.top for c in group)
    above_label = False
    for index, group in enumerate(groups):
        cols = {c.col for c in group}
        text = " ".join(w.text for c in group for w in c.words)
        top = min(c.top for c in group)
        if index in leading:
            rows.append(_Chunk(col=0, words=[], top=top, bottom=max(c.bottom for c in group)))
            continue
        # A header row sits right above the first label; a title further up is a heading, not a row.
        header = (
            top < anchors[0].top
            and max(c.bottom for c in group) >= first_row_top - 2.5 * height
            and (first_is_body_label or (len(cols) >= 3 and not _title_sized(group, height)))
        )
        inside = top > anchors[0].top and _level_of_own_row(group, anchors, pitch)
        if top > anchors[0].top and not inside and _label_offset(group, anchors) > 0:
            above_label = True  # a cell's line above its label: labels stand in the middle of rows
        if (len(cols) >= 2 and (header or inside)) or (
            len(group) == 1 and inside and classify_kind(text) != "lesson"
        ):
            rows.append(
                _Chunk(col=0, words=[], top=min(c.top for c in group), bottom=max(c.bottom for c in group))
            )
    return rows, above_label


def _label_pitch(anchors: list[_Chunk]) -> float | None:
    """The usual distance between the middles of neighbouring row labels printing times or periods
    (None: too few, or most labels are none: a column naming each day once beside several rows
    marks no row pitch)."""
    labelled = [a for a in anchors if a.words]
    timed = [a for a in labelled if _row_label(a.text)]
    if len(timed) < 3 or 2 * len(timed) < len(labelled):
        return None
    middles = [(a.top + a.bottom) / 2 for a in timed]
    steps = sorted(b - a for a, b in pairwise(middles))
    return steps[len(steps) // 2]


def _row_label(text: str) -> bool:
    """A time ('8:00 - 8:45') or a short period label ('3.', 'P2') that marks a row of its own."""
    from timetable_platform.domain.times import find_times

    return bool(find_times(text)) or (len(text) <= 4 and any(ch.isdigit() for ch in text))


# Share of the label pitch an unlabelled group's middle must stand from every label's middle to be a row.
_OWN_ROW_DISTANCE = 0.75


def _level_of_own_row(group: list[_Chunk], anchors: list[_Chunk], pitch: float | None) -> bool:
    """Whether lesson text with no label beside it stands where a row of its own would (its label lost).
    Tall cells centred on their label put their top and bottom lines above and below it, and a double
    lesson stands half way between two labels: both are nearer a label than a row's pitch and belong
    to the labelled rows. Breaks and other non-lesson rows are always rows of their own."""
    from timetable_platform.reading.cells import classify_kind

    if pitch is None or any(c.header for c in group):
        return True  # the header line of day names is a row of its own however close the first row
    if all(classify_kind(c.text) != "lesson" for c in group):
        return True
    return abs(_label_offset(group, anchors)) >= _OWN_ROW_DISTANCE * pitch


def _label_offset(group: list[_Chunk], anchors: list[_Chunk]) -> float:
    """How far the middle of the nearest label stands below the group's middle (negative: above)."""
    middle = (min(c.top for c in group) + max(c.bottom for c in group)) / 2
    offsets = [(a.top + a.bottom) / 2 - middle for a in anchors if a.words]
    return min(offsets, key=abs, default=0.0)


def _paired_bare_labels(anchors: list[_Chunk], chunks: list[_Chunk], height: float) -> list[_Chunk]:
    """A label alone on its line next to a row of cells with no label, nearer each other than to
    the rows around them, are one row. A label centred beside tall cells (a name, a teacher and a room)
    stands level with their middle line; when OCR reads only the top line (the small lines below
    lost in a photo), the label and that line no longer overlap."""
    body = [c for c in chunks if c.col != 0]

    def bare(a: _Chunk) -> bool:
        return bool(a.words) and not any(y_overlap(a, c) > 0 for c in body)

    out: list[_Chunk] = []
    i = 0
    while i < len(anchors):
        a = anchors[i]
        b = anchors[i + 1] if i + 1 < len(anchors) else None
        if b is not None and ((bare(a) and not b.words) or (not a.words and bare(b))):
            gap = b.top - a.bottom
            before = a.top - anchors[i - 1].bottom if i > 0 else float("inf")
            after = anchors[i + 2].top - b.bottom if i + 2 < len(anchors) else float("inf")
            if gap < min(before, after, 2 * height):
                out.append(_Chunk(col=0, words=a.words + b.words, top=min(a.top, b.top), bottom=max(a.bottom, b.bottom)))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def _title_sized(group: list[_Chunk], height: float) -> bool:
    """Text much taller than the table's: a title split at its word gaps, not a header row."""
    heights = sorted(w.bbox.height for c in group for w in c.words)
    return bool(heights) and heights[len(heights) // 2] > 1.6 * height


def _centred(anchors: list[_Chunk], chunks: list[_Chunk]) -> bool:
    """Whether label text sits in the middle of its row (tall neighbours around a short label)."""
    tallest = max((c.bottom - c.top for c in chunks if c.col != 0), default=0.0)
    label = max((a.bottom - a.top for a in anchors), default=0.0)
    if tallest > label * 1.8:
        return True
    # Or most cells beside a label share its middle rather than its top (a 2-line label by 3-line cells).
    votes = [
        abs((c.top + c.bottom) - (a.top + a.bottom)) / 2 < abs(c.top - a.top)
        for a in anchors
        for c in chunks
        if c.col != 0 and y_overlap(a, c) > 0
    ]
    return sum(votes) > len(votes) / 2
