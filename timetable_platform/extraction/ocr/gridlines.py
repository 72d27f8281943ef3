"""Find table grids on an upright page from ruling lines and cell-shading edges (OpenCV).

Boundaries are the union of every horizontal / vertical ruling position inside a table region.
Two neighbouring slots belong to one (merged) cell when no ruling or shading edge separates them,
which gives rowspan / colspan without any knowledge of the layout.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from timetable_platform.extraction.ocr.preprocess import binarize
from timetable_platform.reading.geometry import DisjointSet

# A boundary counts as printed when ruling / shading covers this share of the slot edge.
SEPARATOR_COVERAGE = 0.55


@dataclass
class GridCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels
    background: str | None = None


@dataclass
class GridTable:
    box: tuple[int, int, int, int]
    row_edges: list[int]
    col_edges: list[int]
    cells: list[GridCell]

    @property
    def n_rows(self) -> int:
        return len(self.row_edges) - 1

    @property
    def n_cols(self) -> int:
        return len(self.col_edges) - 1


@dataclass
class Rulings:
    horizontal: np.ndarray  # mask, 255 = horizontal separator
    vertical: np.ndarray
    ink: np.ndarray  # text + lines, 255 = ink


# Levels (0-255, largest channel) within which a short line has the colour of its surroundings.
FILL_COLOURED_DIFFERENCE = 20


def find_rulings(gray: np.ndarray, color: np.ndarray) -> Rulings:
    """Ruling-line masks, with shading edges (a filled cell next to a plain one) added as separators."""
    ink = binarize(gray)
    height, width = gray.shape
    h_len, v_len = _kernel_lengths(gray.shape)
    fills = _fills(color)
    # Light lines on a dark fill (header bands) are ink too: look for them in the inverted grey.
    dark = _dark_fills(color, fills)
    lines_ink = ink.copy()
    if dark.any():
        inverted = binarize(255 - gray)
        lines_ink[dark & (inverted > 0)] = 255
        lines_ink[dark & (inverted == 0)] = 0
    letter = _letter_height(lines_ink)
    lines_ink = _without_small_components(lines_ink, letter)
    horizontal = cv2.morphologyEx(lines_ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    horizontal = _without_text_runs(horizontal, ink, h_len, fills=lambda: _fills_mask(gray, fills))
    vertical = cv2.morphologyEx(lines_ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    vertical = _without_letter_stems(vertical, letter or 12.0)
    horizontal = _without_fill_coloured(horizontal, color, vertical=False)
    vertical = _without_fill_coloured(vertical, color, vertical=True)

    shade_h, shade_v = _shading_edges(fills, h_len, v_len, (height, width))
    # Horizontal only: a line of text blurs into a horizontal band; a dotted column rule between two
    # cells of one fill is a vertical edge with the same fill on both sides, and must stay.
    shade_h = _without_same_fill_sides(shade_h, color, 4 * h_len)
    horizontal = cv2.bitwise_or(horizontal, shade_h)
    vertical = cv2.bitwise_or(vertical, shade_v)
    return Rulings(horizontal=horizontal, vertical=vertical, ink=ink)


# Grey level (0-255) under which a fill is dark; a print this much lighter or darker than its fill is print.
DARK_FILL = 110
PRINT_CONTRAST = 40
# The least share of a shadowed region that its print covers.
PRINT_SHARE = 0.03


def _dark_fills(color: np.ndarray, fills: np.ndarray) -> np.ndarray:
    """Where the page is a dark fill holding light print (full size, True = dark fill). A photo's
    shadow darkens the paper as much, but the print on it stays darker still: inverted there, the paper
    between a word's letters would read as ink, each gap a column rule. A dark region is shadowed paper
    when a good share of its pixels is far darker than it, and more than is far lighter. A region taken
    for a fill can run on into shadowed paper (a shadow band across the sheet joins the dark ground
    around it): a patch of it holding mostly darker print is paper."""
    height, width = color.shape[:2]
    small = (cv2.cvtColor(fills, cv2.COLOR_BGR2GRAY) < DARK_FILL).astype(np.uint8)
    count, labels = cv2.connectedComponents(small, connectivity=8)
    if count <= 1:
        return np.zeros((height, width), bool)
    labels = cv2.resize(labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
    flat = labels.ravel()
    grey = cv2.cvtColor(color, cv2.COLOR_BGR2GRAY).astype(np.float64)
    sizes = np.bincount(flat, minlength=count)
    mean = np.bincount(flat, weights=grey.ravel(), minlength=count) / np.maximum(sizes, 1)
    inside = labels > 0
    lighter = np.bincount(flat, weights=(grey > mean[labels] + PRINT_CONTRAST).ravel(), minlength=count)
    darker = np.bincount(flat, weights=(grey < mean[labels] - PRINT_CONTRAST).ravel(), minlength=count)
    # Dark print on a shadow covers a share of it; a dark fill, or the dark rim of a photographed screen,
    # holds light print or none.
    fill = (darker < PRINT_SHARE * sizes) | (lighter >= darker)
    fill[0] = False  # not dark
    out = fill[labels]
    tile = max(32, min(height, width) // 20)
    # Only a region reaching over several patches runs on: a bold word or a cell's fill is one reading.
    wide = fill & (sizes >= RUNNING_ON_PATCHES * tile * tile)
    if not wide.any():
        return out
    # A patch's print stands out from the level of the dark region around it (the patch and its
    # neighbours: dense print would pull the patch's own level down): a shadow darkens unevenly.
    n_inside = _tile_sums(inside, tile)
    around = (3, 3)
    level = _around(_tile_sums(np.where(inside, grey, 0.0), tile), around) / np.maximum(
        _around(n_inside.astype(np.float64), around), 1
    )
    level = _spread(level, tile, (height, width))
    n_light = _tile_sums(inside & (grey > level + PRINT_CONTRAST), tile)
    n_dark = _tile_sums(inside & (grey < level - PRINT_CONTRAST), tile)
    printed = (n_light + n_dark) >= PATCH_PRINT * np.maximum(n_inside, 1)
    running_on = printed & (n_light < n_dark)
    return out & ~(_spread(running_on, tile, (height, width)) & wide[labels])


# The least share of a patch of dark region its print covers for the patch to go by its own print, and
# the size, in patches, of a region that can run on into shadowed paper.
PATCH_PRINT = 0.01
RUNNING_ON_PATCHES = 9


def _around(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sums over each value's neighbourhood of ``size`` (nothing past the edges)."""
    return cv2.boxFilter(values.astype(np.float64), -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)


def _spread(values: np.ndarray, tile: int, shape: tuple[int, int]) -> np.ndarray:
    """Per-patch ``values`` back at full size."""
    return np.repeat(np.repeat(values, tile, axis=0), tile, axis=1)[: shape[0], : shape[1]]


def _tile_sums(values: np.ndarray, tile: int) -> np.ndarray:
    """Sums of ``values`` (True counts 1) over each ``tile`` x ``tile`` patch (the last row and column of
    patches may be short)."""
    height, width = values.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), np.float64)
    padded[:height, :width] = values
    return padded.reshape(rows, tile, cols, tile).sum(axis=(1, 3))


def _fills_mask(gray: np.ndarray, fills: np.ndarray) -> np.ndarray:
    """Where the page is filled rather than paper (quarter size, True = filled): dark in the
    illumination-flattened grey (light and shadow are already evened out there) or strongly coloured."""
    size = (max(1, fills.shape[1] // 2), max(1, fills.shape[0] // 2))
    small_gray = cv2.medianBlur(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), 15)
    values = cv2.resize(fills, size, interpolation=cv2.INTER_AREA).astype(np.int16)
    saturated = (values.max(axis=2) - values.min(axis=2)) > 60
    return (small_gray < 200) | saturated


def _without_text_runs(
    horizontal: np.ndarray,
    ink: np.ndarray,
    h_len: int,
    gap: int = 3,
    fills: Callable[[], np.ndarray] | None = None,
) -> np.ndarray:
    """Drop short "lines" that are the top or bottom edge of a run of bold or blurred letters: a
    ruling has paper just above and below it, while such an edge has letter ink along most of one side.
    Edges of filled cells (``fills``) are left alone: there the ink beside a line is the fill."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(horizontal, connectivity=8)
    height = ink.shape[0]
    out = horizontal.copy()
    filled: np.ndarray | None = None
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i][:4])
        if w >= 4 * h_len:
            continue
        above, below = y - gap - 1, y + h + gap
        if above < 0 or below >= height:
            continue
        if max(float((ink[above, x : x + w] > 0).mean()), float((ink[below, x : x + w] > 0).mean())) <= 0.6:
            continue
        if fills is not None:
            if filled is None:
                filled = fills()  # only pages with a letter-edge candidate pay for it
            sy, sx = filled.shape[0] / height, filled.shape[1] / ink.shape[1]
            near = filled[int(max(0, y - 6) * sy) : int((y + h + 6) * sy) + 1, int(x * sx) : int((x + w) * sx) + 1]
            if near.size and near.mean() > 0.3:
                continue
        out[labels == i] = 0
    return out


def _without_fill_coloured(mask: np.ndarray, color: np.ndarray, *, vertical: bool) -> np.ndarray:
    """Drop short "lines" drawn in the colour of the fill around them. Light letters on a coloured
    fill (web and app timetables) make the flattened grey dark between the letters, and those gaps
    pass for rulings; a printed line always differs from the paper or fill on either side of it."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape
    out = mask
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i][:4])
        pad = 3 * max(3, w if vertical else h)
        if vertical:
            x0, y0, x1, y1 = max(0, x - pad), y, min(width, x + w + pad), y + h
        else:
            x0, y0, x1, y1 = x, max(0, y - pad), x + w, min(height, y + h + pad)
        on_line = labels[y0:y1, x0:x1] == i
        window = color[y0:y1, x0:x1]
        if on_line.all():
            continue
        line = np.median(window[on_line], axis=0)
        others = window[~on_line].astype(np.int16)
        around = np.median(others, axis=0)
        # Only on a flat fill (screens: most pixels around are the fill's exact colour); in a photo's
        # shadow a faint real line differs from its surroundings by as little as these gaps do.
        flat = float((np.abs(others - around).max(axis=1) <= 4).mean()) >= 0.5
        if flat and float(np.abs(line - around).max()) < FILL_COLOURED_DIFFERENCE:
            if out is mask:
                out = mask.copy()
            out[y : y + h, x : x + w][labels[y : y + h, x : x + w] == i] = 0
    return out


def _without_same_fill_sides(mask: np.ndarray, color: np.ndarray, long: int) -> np.ndarray:
    """Drop short horizontal shading edges with the same fill above and below: a line of large light
    letters on a colour fill blurs into a paler band, whose edges are not cell boundaries."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape
    out = mask
    depth = max(12, min(height, width) // 36)  # a text line or two: the letters' colour stays the minority
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i][:4])
        if w >= long:
            continue
        first = color[max(0, y - depth) : y, x : x + w]
        second = color[y + h : min(height, y + h + depth), x : x + w]
        if first.size == 0 or second.size == 0:
            continue
        difference = np.abs(np.median(first.reshape(-1, 3), axis=0) - np.median(second.reshape(-1, 3), axis=0))
        if float(difference.max()) < FILL_COLOURED_DIFFERENCE:
            if out is mask:
                out = mask.copy()
            out[y : y + h, x : x + w][labels[y : y + h, x : x + w] == i] = 0
    return out


def _letter_height(ink: np.ndarray) -> float | None:
    """The median height of letter-sized ink blobs (None when there are too few to tell)."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    letters = heights[(heights >= 5) & (heights <= 80) & (widths <= 80)]
    return float(np.median(letters)) if letters.size >= 10 else None


def _without_small_components(ink: np.ndarray, letter: float | None) -> np.ndarray:
    """Drop letter-sized ink blobs. Rulings join into large components, so tall letters ("l", "I",
    "1") no longer pass for short column separators."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    size = max(24.0, 1.8 * letter) if letter is not None else 24.0
    keep = (widths >= size) | (heights >= size)
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


# Vertical pieces at most this many letter heights tall, standing side by side at most this share of
# their height apart, in groups of at least this many, are the stems of one word's letters.
STEM_LETTERS = 4.0
STEM_GAP = 0.8
STEM_GROUP = 3


def _without_letter_stems(vertical: np.ndarray, letter: float) -> np.ndarray:
    """Drop the stems of large bold letters. In a photo a word's letters can run into each other or
    into a shaded fill, into blobs big enough to outlast the vertical opening, and each stem then
    passes for a column rule that cuts the cell at the word. Stems stand side by side, a letter's
    width apart, over the same line of print; a column rule has no parallel neighbour that close
    (a timetable's columns are wider than its rows are tall), and the pieces of one broken rule
    stand one above the other."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(vertical, connectivity=8)
    short = sorted(
        (i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] <= STEM_LETTERS * letter),
        key=lambda i: int(stats[i, cv2.CC_STAT_LEFT]),
    )
    groups = DisjointSet(count)
    for k, a in enumerate(short):
        ax, ay, _, ah = (int(v) for v in stats[a][:4])
        for b in short[k + 1 :]:
            bx, by, _, bh = (int(v) for v in stats[b][:4])
            if bx - ax > STEM_GAP * STEM_LETTERS * letter:
                break
            overlap = min(ay + ah, by + bh) - max(ay, by)
            if overlap >= 0.5 * min(ah, bh) and bx - ax <= STEM_GAP * min(ah, bh):
                groups.union(a, b)
    sizes = Counter(groups.find(i) for i in short)
    stems = [i for i in short if sizes[groups.find(i)] >= STEM_GROUP]
    if not stems:
        return vertical
    drop = np.zeros(count, bool)
    drop[stems] = True
    return np.where(drop[labels], 0, vertical).astype(np.uint8)


def _kernel_lengths(shape: tuple[int, ...]) -> tuple[int, int]:
    height, width = shape[:2]
    return max(30, width // 40), max(18, height // 70)


def _fills(color: np.ndarray) -> np.ndarray:
    """Cell fills with text and thin lines removed: median at half size."""
    height, width = color.shape[:2]
    small = cv2.resize(color, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    return cv2.medianBlur(small, 9)


def _shading_edges(fills: np.ndarray, h_len: int, v_len: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Edges between differently filled areas (computed on the half-size fills, returned full size)."""
    h_len, v_len = max(8, h_len // 2), max(6, v_len // 2)
    values = fills.astype(np.int16)
    diff_x = np.abs(np.diff(values, axis=1)).max(axis=2)
    diff_y = np.abs(np.diff(values, axis=0)).max(axis=2)
    threshold = 28
    edge_v = np.zeros(fills.shape[:2], np.uint8)
    edge_h = np.zeros(fills.shape[:2], np.uint8)
    edge_v[:, 1:][diff_x > threshold] = 255
    edge_h[1:, :][diff_y > threshold] = 255
    edge_v = cv2.dilate(edge_v, np.ones((1, 3), np.uint8))
    edge_h = cv2.dilate(edge_h, np.ones((3, 1), np.uint8))
    edge_h = cv2.morphologyEx(edge_h, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len * 2, 1)))
    edge_v = cv2.morphologyEx(edge_v, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len * 2)))
    size = (shape[1], shape[0])
    return (
        cv2.resize(edge_h, size, interpolation=cv2.INTER_NEAREST),
        cv2.resize(edge_v, size, interpolation=cv2.INTER_NEAREST),
    )


def _positions(profile: np.ndarray, minimum: float, merge_gap: int) -> list[tuple[int, float]]:
    """(position, strength) of the strongest point of each run where ``profile`` reaches ``minimum``."""
    hits = np.flatnonzero(profile >= minimum)
    if hits.size == 0:
        return []
    out: list[tuple[int, float]] = []
    run = [int(hits[0])]
    for value in hits[1:]:
        value = int(value)
        if value - run[-1] > merge_gap:
            out.append(_strongest(profile, run))
            run = []
        run.append(value)
    out.append(_strongest(profile, run))
    return out


def _strongest(profile: np.ndarray, run: list[int]) -> tuple[int, float]:
    best = max(run, key=lambda i: profile[i])
    return best, float(profile[best])


def _coverage(mask: np.ndarray, axis_pos: int, lo: int, hi: int, search: int, vertical: bool) -> float:
    """Best share of the segment [lo, hi) covered by the mask on one line near ``axis_pos``.

    Lines in photos drift and bend, so the line is looked for within +- ``search`` pixels of the
    table-wide position, separately for every slot edge.
    """
    if hi - lo < 2:
        return 0.0
    start = max(0, axis_pos - search)
    if vertical:
        strip = mask[lo:hi, start : axis_pos + search + 1]
        return float((strip > 0).mean(axis=0).max()) if strip.size else 0.0
    strip = mask[start : axis_pos + search + 1, lo:hi]
    return float((strip > 0).mean(axis=1).max()) if strip.size else 0.0


def find_tables(gray: np.ndarray, color: np.ndarray, rulings: Rulings | None = None) -> list[GridTable]:
    """Every ruled (or shaded) grid on the page with at least 2 rows and 2 columns, top to bottom."""
    rulings = rulings or find_rulings(gray, color)
    height, width = gray.shape
    lines = cv2.bitwise_or(rulings.horizontal, rulings.vertical)
    frame = cv2.dilate(lines, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(frame, connectivity=8)
    boxes = [tuple(int(v) for v in stats[i][:4]) for i in range(1, count)]
    reach = max(14, min(height, width) // 30)

    def grid_at(region: tuple[int, int, int, int]) -> GridTable | None:
        top, bottom = _extend_by_bands(boxes, region, reach, rulings.horizontal)
        return _grid_in_region(rulings, color, (region[0], top, region[2], bottom))

    found: dict[tuple[int, int, int, int], GridTable] = {}
    for x, y, w, h in boxes:
        if w >= width * 0.12 and h >= height * 0.05 and (table := grid_at((x, y, x + w, y + h))) is not None:
            found[(x, y, x + w, y + h)] = table
    # Grids whose line regions interleave are pieces of one table: it is read over their union.
    tables: list[GridTable] = []
    for region in _joined_pieces(list(found), max(SHARED_SIDE, min(height, width) // 100)):
        table = found[region] if region in found else grid_at(region)
        if table is not None:
            tables.append(table)
    # A frame around a table (a screenshot's window, a page border) is not a table of its own.
    # When two grids overlap, the outer one is the frame: keep the inner. But a block of a table's
    # cells that a shadow's edges outline on their own is a piece of the table, not the table.
    tables = [t for t in tables if not any(o is not t and _piece_of(t, o) for o in tables)]
    tables = [t for t in tables if not any(o is not t and _encloses(t.box, o.box) for o in tables)]
    tables = _without_sparser_overlaps(tables, lines)
    tables.sort(key=lambda t: (t.box[1], t.box[0]))
    return tables


def _without_sparser_overlaps(tables: list[GridTable], lines: np.ndarray) -> list[GridTable]:
    """Of two grids that overlap over most of the smaller, neither holding the other, the one ruled more
    sparsely borrows the other's rulings: a photographed sheet's edges beside the table (at a corner,
    or along three sides) make a region whose rows are the table's own, cut off at the sheet's edge,
    around mostly empty paper; a table is ruled all over."""
    ruled = {
        id(t): np.count_nonzero(lines[t.box[1] : t.box[3], t.box[0] : t.box[2]]) / max(1, _area(t.box)) for t in tables
    }
    return [
        t for t in tables
        if not any(o is not t and _overlap_share(t.box, o.box) >= OVERLAPPING and ruled[id(o)] > ruled[id(t)] for o in tables)
    ]


def _extend_by_bands(
    boxes: list[tuple[int, ...]], box: tuple[int, int, int, int], reach: int, horizontal: np.ndarray
) -> tuple[int, int]:
    """Top and bottom of a table grown by full-width line bands just above or below it: a dark header
    band whose side borders are invisible is a separate component, but still the table's first row.
    A component ruled into rows of its own is a table of its own (a legend under the timetable), not a band."""
    x0, top, x1, bottom = box
    width = x1 - x0
    changed = True
    while changed:
        changed = False
        for bx, by, bw, bh in boxes:
            overlap = min(x1, bx + bw) - max(x0, bx)
            if overlap < 0.8 * width or bw > 1.3 * width or _ruled_into_rows(horizontal, (bx, by, bw, bh)):
                continue
            if by + bh <= top and top - (by + bh) <= reach and by < top:
                top, changed = by, True
            elif by >= bottom and by - bottom <= reach:
                bottom, changed = by + bh, True
    return top, bottom


# Pixels inside a component's top and bottom edges where a line is not yet one of its edges.
EDGE_MARGIN = 6


def _ruled_into_rows(horizontal: np.ndarray, box: tuple[int, ...]) -> bool:
    """Whether a component has a horizontal ruling across half its width or more inside its edges."""
    x, y, w, h = box
    inner = horizontal[y + EDGE_MARGIN : y + h - EDGE_MARGIN, x : x + w]
    return inner.size > 0 and bool(((inner > 0).sum(axis=1) >= 0.5 * w).any())


# A frame adds a margin row or column on each side of the table it holds, at most.
FRAME_MARGINS = 2


# Outlines whose sides are this close (pixels, at least) share that side.
SHARED_SIDE = 8


def _piece_of(inner: GridTable, outer: GridTable) -> bool:
    """Whether ``inner`` is a block of ``outer``'s cells: ``outer`` encloses it with more rows and
    more columns around it than a frame's margins, or it reaches two of ``outer``'s sides (a frame
    has a margin all round)."""
    if not _encloses(outer.box, inner.box):
        return False
    if outer.n_rows - inner.n_rows > FRAME_MARGINS and outer.n_cols - inner.n_cols > FRAME_MARGINS:
        return True
    return _shared_sides(inner.box, outer.box, SHARED_SIDE) >= 2


# Two regions interleave when their overlap is at least this share of the smaller one, and neither
# holds the other.
INTERLEAVED = 0.2


def _interleaved(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return INTERLEAVED <= _overlap_share(a, b) < 0.95


def _shared_sides(a: tuple[int, int, int, int], b: tuple[int, int, int, int], tolerance: int) -> int:
    """How many of their sides (left, top, right, bottom) two outlines share."""
    return sum(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def _joined_pieces(regions: list[tuple[int, int, int, int]], tolerance: int) -> list[tuple[int, int, int, int]]:
    """Line regions that interleave and share a side, joined. The rulings of a photographed table, bent
    a little or faint in a shadow, can fall apart into pieces that interleave, each reaching the
    table's edge; a frame holds the table inside it, and stays apart."""
    regions = list(regions)
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(regions):
            for j in range(i + 1, len(regions)):
                b = regions[j]
                if _interleaved(a, b) and _shared_sides(a, b, tolerance) >= 1:
                    regions[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del regions[j]
                    joined = True
                    break
            if joined:
                break
    return regions


# The share of a region that another must cover to hold it: a frame holds its table whole, save for a
# photo's bend at the edges. Less, the two only overlap: the edges of a photographed sheet at a table's
# corner make a region that reaches over the table's, and is no frame around it.
ENCLOSED = 0.85
# Two grids overlapping over this share of the smaller are one table read twice.
OVERLAPPING = 0.5


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _intersection(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    return ix * iy if ix > 0 and iy > 0 else 0


def _overlap_share(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of the smaller of two boxes that the other covers."""
    smaller = min(_area(a), _area(b))
    return _intersection(a, b) / smaller if smaller > 0 else 0.0


def _encloses(outer: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    """``outer`` is bigger and covers nearly all of ``inner``."""
    shared = _intersection(outer, inner)
    return shared > 0 and _area(outer) > _area(inner) and shared >= ENCLOSED * _area(inner)


# The fewest letter heights between two row edges.
ROW_LETTERS = 1.5


def _grid_in_region(rulings: Rulings, color: np.ndarray, box: tuple[int, int, int, int]) -> GridTable | None:
    x0, y0, x1, y1 = box
    horizontal = rulings.horizontal[y0:y1, x0:x1]
    vertical = rulings.vertical[y0:y1, x0:x1]
    h_len, v_len = _kernel_lengths(rulings.horizontal.shape)
    min_gap = max(10, min(rulings.horizontal.shape) // 110)
    merge_gap = max(6, min_gap // 2)
    row_hits = _positions((horizontal > 0).sum(axis=1), h_len * 0.9, merge_gap)
    # The region's own edges bound the table even when the outer border is not printed. A row holds a
    # line of print, taller than a letter: a curled sheet's bent rule, found at two heights a letter or so
    # apart, is one edge.
    letter = _letter_height(rulings.ink[y0:y1, x0:x1]) or 0.0
    rows = _dedupe([(0, 0.0), *row_hits, (y1 - y0 - 1, 0.0)], min_gap=max(min_gap, round(ROW_LETTERS * letter)))
    col_hits = _column_rules(vertical, _positions((vertical > 0).sum(axis=0), v_len * 0.9, merge_gap), rows)
    cols = _dedupe([(0, 0.0), *col_hits, (x1 - x0 - 1, 0.0)], min_gap=min_gap)
    if len(rows) < 3 or len(cols) < 3:
        return None
    # Thicken across the line so that a line tilted inside one slot still reads as one row of pixels.
    horizontal = cv2.dilate(horizontal, np.ones((5, 1), np.uint8))
    vertical = cv2.dilate(vertical, np.ones((1, 5), np.uint8))
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    tol = 4
    slots = DisjointSet(n_rows * n_cols)
    for r in range(n_rows):
        lo, hi = rows[r] + tol, rows[r + 1] - tol
        for c in range(n_cols - 1):
            search = int(min(12, max(4, 0.25 * min(cols[c + 1] - cols[c], cols[c + 2] - cols[c + 1]))))
            if _coverage(vertical, cols[c + 1], lo, hi, search, vertical=True) < SEPARATOR_COVERAGE:
                slots.union(r * n_cols + c, r * n_cols + c + 1)
    for c in range(n_cols):
        lo, hi = cols[c] + tol, cols[c + 1] - tol
        for r in range(n_rows - 1):
            search = int(min(12, max(4, 0.25 * min(rows[r + 1] - rows[r], rows[r + 2] - rows[r + 1]))))
            if _coverage(horizontal, rows[r + 1], lo, hi, search, vertical=False) < SEPARATOR_COVERAGE:
                slots.union(r * n_cols + c, (r + 1) * n_cols + c)
    for c in _header_strokes(slots, n_rows, n_cols):
        slots.union(c - 1, c)

    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(slots.find(r * n_cols + c), []).append((r, c))
    # A region that is all one cell (a box, a banner) is not a table.
    if len(groups) < 3:
        return None
    spans = [span for slots in groups.values() for span in _rectangles(slots, rows, cols)]
    # Drop boundaries no cell starts at (a stray stroke or underline crossing merged cells only).
    used_rows = sorted({r0 for r0, _, _, _ in spans} | {n_rows})
    used_cols = sorted({c0 for _, c0, _, _ in spans} | {n_cols})
    # A non-rectangular group ends at the next boundary that is kept.
    row_index = {old: bisect_left(used_rows, old) for old in range(n_rows + 1)}
    col_index = {old: bisect_left(used_cols, old) for old in range(n_cols + 1)}
    cells: list[GridCell] = []
    for r0, c0, r1, c1 in spans:
        cell_box = (x0 + cols[c0], y0 + rows[r0], x0 + cols[c1], y0 + rows[r1])
        r1, c1 = used_rows[row_index[r1]], used_cols[col_index[c1]]
        row, col = row_index[r0], col_index[c0]
        cells.append(
            GridCell(
                row, col, row_index[r1] - row, col_index[c1] - col, cell_box,
                background=_background(color, cell_box, rulings.ink),
            )
        )
    cells.sort(key=lambda cell: (cell.row, cell.col))
    return GridTable(
        box=box,
        row_edges=[y0 + rows[i] for i in used_rows],
        col_edges=[x0 + cols[i] for i in used_cols],
        cells=cells,
    )


def _rectangles(slots: list[tuple[int, int]], rows: list[int], cols: list[int]) -> list[tuple[int, int, int, int]]:
    """A group of joined slots as cells (row0, col0, row1, col1). A group that is not a rectangle is one
    cell over its bounding box (a frame's margins around a table: the reader then sees the frame), unless
    it covers little of that box: thin strips joined through gaps in the rulings (a sheet's margin inside
    the table's frame, down its side and along its foot) would make one cell of the whole table. Those
    are cut into their runs along each row; runs spanning the same columns in consecutive rows are one."""
    r0, c0 = min(r for r, _ in slots), min(c for _, c in slots)
    r1, c1 = max(r for r, _ in slots) + 1, max(c for _, c in slots) + 1
    area = sum((rows[r + 1] - rows[r]) * (cols[c + 1] - cols[c]) for r, c in slots)
    if area >= STRIPS_SHARE * (rows[r1] - rows[r0]) * (cols[c1] - cols[c0]):
        return [(r0, c0, r1, c1)]
    row_runs = [_runs(sorted(c for r, c in slots if r == row)) for row in range(r0, r1)]
    open_runs: dict[tuple[int, int], int] = {}  # (col0, col1) -> first row, for runs reaching the row above
    out: list[tuple[int, int, int, int]] = []
    for row, runs in enumerate([*row_runs, []], start=r0):
        for run in [run for run in open_runs if run not in runs]:
            out.append((open_runs.pop(run), run[0], row, run[1]))
        for run in runs:
            open_runs.setdefault(run, row)
    return out


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """Sorted column indices as runs of consecutive ones, (first, last + 1)."""
    groups = itertools.groupby(enumerate(columns), key=lambda pair: pair[1] - pair[0])
    return [(run[0][1], run[-1][1] + 1) for run in (list(group) for _, group in groups)]


# A group of slots covering less of its bounding box than this is thin strips, not a cell.
STRIPS_SHARE = 0.1


# A column rule has a piece at least this many median row heights long, or runs, in pieces, this share of
# the table down.
COLUMN_PIECE_ROWS = 0.5
COLUMN_SPAN = 0.5


def _column_rules(vertical: np.ndarray, hits: list[tuple[int, float]], rows: list[int]) -> list[tuple[int, float]]:
    """The upright strokes among ``hits`` that are column rules. A rule runs down a row at least, or
    down much of the table in dashes; the strokes of large or bold print (a period's numeral in the
    header, the stems of a blurred word) are letter-tall and stand alone, even where those of several
    rows line up."""
    if len(rows) < 3:
        return hits
    row_height = float(np.median(np.diff(rows)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(vertical, connectivity=8)
    longest = np.zeros(vertical.shape[1], np.int32)
    for i in range(1, count):
        x, _, w, h = (int(v) for v in stats[i][:4])
        longest[x : x + w] = np.maximum(longest[x : x + w], h)
    near = 3  # a tilted rule's pieces stand a few pixels apart
    return [
        (position, strength) for position, strength in hits
        if longest[max(0, position - near) : position + near + 1].max() >= COLUMN_PIECE_ROWS * row_height
        or strength >= COLUMN_SPAN * vertical.shape[0]
    ]


def _header_strokes(slots: DisjointSet, n_rows: int, n_cols: int) -> list[int]:
    """Column boundaries that divide only the top row, inside a column the rows below print: a bold
    numeral '1' heading a period's column (an aSc or Untis print) stands as tall as a short rule, but
    no row below has a column there, and a column that exists only in the header holds nothing. Its
    two header cells are one."""
    if n_rows < 3:
        return []

    def divides(c: int, r: int) -> bool:
        return c in (0, n_cols) or slots.find(r * n_cols + c - 1) != slots.find(r * n_cols + c)

    def column_side(c: int) -> bool:  # the boundary divides most rows below the header
        return 2 * sum(divides(c, r) for r in range(1, n_rows)) >= n_rows - 1

    def header_only(c: int) -> bool:  # the slot is ruled off the row below: joining it joins no lessons
        return slots.find(c) != slots.find(n_cols + c)

    return [
        c for c in range(1, n_cols)
        if divides(c, 0) and not any(divides(c, r) for r in range(1, n_rows))
        and column_side(c - 1) and column_side(c + 1) and header_only(c - 1) and header_only(c)
    ]


def _dedupe(hits: list[tuple[int, float]], min_gap: int) -> list[int]:
    """Positions at least ``min_gap`` apart; of two closer ones the stronger line wins."""
    out: list[tuple[int, float]] = []
    for position, strength in sorted(hits):
        if out and position - out[-1][0] < min_gap:
            if strength > out[-1][1]:
                out[-1] = (position, strength)
            continue
        out.append((position, strength))
    return [position for position, _ in out]


def _background(color: np.ndarray, box: tuple[int, int, int, int], ink: np.ndarray) -> str | None:
    """Dominant fill of a cell: median colour of its non-ink pixels, as #rrggbb."""
    x0, y0, x1, y1 = box
    inset = 6
    region = color[y0 + inset : y1 - inset, x0 + inset : x1 - inset]
    mask = ink[y0 + inset : y1 - inset, x0 + inset : x1 - inset] == 0
    if region.size == 0 or not mask.any():
        return None
    pixels = region[mask]
    blue, green, red = (int(v) for v in np.median(pixels, axis=0))
    return f"#{red:02x}{green:02x}{blue:02x}"
