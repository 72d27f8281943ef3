"""Day columns laid out on the page: each day's heading with its blocks under it, and each block
printing its own times.

Calendar-app week views (a day per column, events as boxes placed by time, each box saying
'Maths / 08:15 - 09:45 / Room 12'), app and web pages that list one day's lessons as cards, and list
timetables printed in two or more columns all share this shape. Reading their lines in page order
mixes the days; reading them as a grid finds no time axis. Here the page is cut into regions under
the day headings, each region's lines are grouped into blocks by the gaps between them, and a block
takes the time range it prints.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from itertools import pairwise

from timetable_platform.domain.layout import BBox, Line, Page
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.geometry import split_at_gaps, union_boxes, x_overlap, y_overlap
from timetable_platform.reading.grid import Block
from timetable_platform.reading.listing import heading_days, item_lines

# Apps print a lesson's fields on one line between dots or bars ('Lab 1 · Mr Smith', 'Smith | R101').
_FIELD_SEPARATOR = re.compile(r"\s+[·•|]\s+")
# Lines further apart than this share of a line's height belong to different blocks (boxes, cards).
BLOCK_GAP = 0.6
# Confidence of a block read this way: its time is printed, its day is the column it sits in.
COLUMN_CONFIDENCE = 0.85


@dataclass
class _Column:
    day: Day
    x0: float
    x1: float
    top: float
    bottom: float


def read_day_columns(page: Page, language: str | None = None, *, wide_lines: bool = False) -> list[Block]:
    """Blocks read from the day regions of one page; empty when the page has no day headings with
    timed blocks under them. ``wide_lines``: the page's lines run across its columns (a PDF's text
    layer puts everything on one baseline into one line), so they are cut at wide gaps to find the
    headings, and cut where their pieces fall in different day columns."""
    whole = [line for line in page.lines if line.text.strip()]
    if len(whole) < 3:
        return []
    pieces = [part for line in whole for part in split_at_gaps(line)] if wide_lines else whole
    columns = _columns(_distinct(pieces), page, language)
    lines = _distinct([part for line in whole for part in _cut_at_columns(line, columns)] if wide_lines else whole)
    blocks: list[Block] = []
    for column in columns:
        inside = [
            line for line in lines
            if column.top <= line.bbox.top < column.bottom and column.x0 <= line.bbox.center[0] < column.x1
            and not heading_days(line.text, language)
        ]
        for group in _groups(sorted(inside, key=lambda line: (line.bbox.top, line.bbox.x0))):
            blocks.extend(_blocks(group, column.day, page.number))
    return blocks


def _cut_at_columns(line: Line, columns: list[_Column]) -> list[Line]:
    """The line in pieces that each lie in one day column: cut at its wide gaps, with neighbouring
    pieces in the same column (a time and its lesson a tab apart) joined again."""
    parts = split_at_gaps(line)
    if len(parts) == 1:
        return parts

    def column_of(part: Line) -> int | None:
        x, top = part.bbox.center[0], part.bbox.top
        return next((i for i, c in enumerate(columns) if c.top <= top < c.bottom and c.x0 <= x < c.x1), None)

    runs: list[tuple[int | None, list[Line]]] = []
    for part in parts:
        index = column_of(part)
        if runs and runs[-1][0] == index:
            runs[-1][1].append(part)
        else:
            runs.append((index, [part]))
    if len(runs) == 1:
        return [line]
    return [Line(words=[w for part in run for w in part.words], bbox=union_boxes(p.bbox for p in run)) for _, run in runs]


def _distinct(lines: list[Line]) -> list[Line]:
    """One line per place: cells that overlap (a box drawn over the hour lines of a calendar) read the
    same print twice."""
    kept: list[Line] = []
    for line in sorted(lines, key=lambda line: -len(line.text)):
        if any(_shared_area(line.bbox, other.bbox) > 0.5 * min(_area(line.bbox), _area(other.bbox)) for other in kept):
            continue
        kept.append(line)
    return kept


def _area(box: BBox) -> float:
    return box.width * box.height


def _shared_area(a: BBox, b: BBox) -> float:
    return max(0.0, x_overlap(a, b)) * max(0.0, y_overlap(a, b))


@dataclass
class _HeadingRow:
    """Day headings on one baseline and the columns they head: (day, x0, x1) each."""

    top: float
    bottom: float
    cuts: list[tuple[Day, float, float]]

    def covers(self, x0: float, x1: float) -> bool:
        return self.cuts[0][1] < x1 and x0 < self.cuts[-1][2]


def _columns(lines: list[Line], page: Page, language: str | None) -> list[_Column]:
    """Day headings in rows (one baseline); a row of several splits the width at the midpoints between
    them, a lone heading owns the whole width. A region runs down to the next row that covers it."""
    headings = [(line, days[0]) for line in lines if (days := heading_days(line.text, language)) and len(days) == 1]
    rows: list[list[tuple[Line, Day]]] = []
    for line, day in sorted(headings, key=lambda h: h[0].bbox.center[1]):
        if rows and abs(line.bbox.center[1] - rows[-1][0][0].bbox.center[1]) < max(line.bbox.height, 8.0):
            rows[-1].append((line, day))
        else:
            rows.append([(line, day)])
    # Lanes where some heading stands alone on its row and each day is headed once on the page (a list
    # in columns); a calendar's one heading row keeps its midpoints, an app's day tabs beside a day's
    # own heading keep the whole width.
    named = [day for _, day in headings]
    lone = any(len(row) == 1 for row in rows) and len(set(named)) == len(named)
    lanes = _lanes([line for line, _ in headings], page.width) if lone else [(0.0, page.width)]
    heading_rows: list[_HeadingRow] = []
    for row in rows:
        row.sort(key=lambda h: h[0].bbox.center[0])
        days = [day for _, day in row]
        if len(set(days)) != len(days):
            continue
        in_lanes = [next(((x0, x1) for x0, x1 in lanes if x0 <= line.bbox.x0 < x1), (0.0, page.width)) for line, _ in row]
        if len(row) == 1 or (len(lanes) > 1 and len(set(in_lanes)) == len(row)):
            cuts = [(day, x0, x1) for (_, day), (x0, x1) in zip(row, in_lanes, strict=True)]
        else:
            centres = [line.bbox.center[0] for line, _ in row]
            half = min(b - a for a, b in pairwise(centres)) / 2
            bounds = [centres[0] - half, *((a + b) / 2 for a, b in pairwise(centres)), centres[-1] + half]
            cuts = [(day, bounds[i], bounds[i + 1]) for i, (_, day) in enumerate(row)]
        top = min(line.bbox.top for line, _ in row)
        heading_rows.append(_HeadingRow(top=top, bottom=max(line.bbox.bottom for line, _ in row), cuts=cuts))
    columns: list[_Column] = []
    for index, heading_row in enumerate(heading_rows):
        for day, x0, x1 in heading_row.cuts:
            below = [other.top for other in heading_rows[index + 1 :] if other.covers(x0, x1)]
            columns.append(_Column(day=day, x0=x0, x1=x1, top=heading_row.bottom, bottom=min(below, default=page.height + 1)))
    return columns


def _lanes(headings: list[Line], width: float) -> list[tuple[float, float]]:
    """The page's columns of day headings, from where they start: a list printed in two or more
    columns starts each day's heading at its column's left edge, so the headings start at a few
    distinct places; each lane runs to just before the next one starts. One lane: the whole width."""
    if not headings:
        return [(0.0, width)]
    height = statistics.median(line.bbox.height for line in headings)
    starts = sorted(line.bbox.x0 for line in headings)
    lefts = [starts[0]]
    for x in starts[1:]:
        if x - lefts[-1] > 4 * height:  # farther apart than a heading's indent: another column
            lefts.append(x)
    if len(lefts) == 1:
        return [(0.0, width)]
    bounds = [0.0, *(x - height for x in lefts[1:]), width]
    return list(pairwise(bounds))


def _groups(lines: list[Line]) -> list[list[Line]]:
    """Lines in blocks: a gap taller than part of a line ends a block (the padding between boxes)."""
    if not lines:
        return []
    height = statistics.median(line.bbox.height for line in lines)
    groups: list[list[Line]] = [[lines[0]]]
    for line in lines[1:]:
        previous_bottom = max(other.bbox.bottom for other in groups[-1])
        if line.bbox.top - previous_bottom > BLOCK_GAP * height:
            groups.append([])
        groups[-1].append(line)
    return groups


def _range(line: Line) -> TimeMatch | None:
    found = find_times(line.text)
    return found[0] if found and found[0].end is not None else None


def _blocks(group: list[Line], day: Day, page: int) -> list[Block]:
    """One block per time range in the group: the lines up to the next range when the group starts
    with its time ('08:00 - 08:45 Maths'), else the lines before each range ('Maths / 08:00 - 08:45')."""
    timed = [i for i, line in enumerate(group) if _range(line) is not None]
    if not timed:
        return []
    # Time first: each range starts a block; name first: a block starts after the previous one's range.
    cuts = timed if timed[0] == 0 else [0, *(previous + 1 for previous in timed[:-1])]
    blocks: list[Block] = []
    for k, start_index in enumerate(cuts):
        end_index = cuts[k + 1] if k + 1 < len(cuts) else len(group)
        part = group[start_index:end_index]
        anchor = next((line for line in part if _range(line) is not None), None)
        if anchor is None:
            continue
        match = school_day_range(_range(anchor))  # type: ignore[arg-type]
        texts = []
        for line in part:
            text = strip_times(line.text).strip(" -–:|·") if line is anchor else line.text.strip()
            for piece in _FIELD_SEPARATOR.split(text):
                if piece.strip():
                    texts.extend(item_lines(piece.strip()))
        if not texts:
            continue
        blocks.append(
            Block(
                day=day,
                start=match.start,
                end=match.end,
                period=None,
                lines=texts,
                styles=[None] * len(texts),
                page=page,
                confidence=COLUMN_CONFIDENCE,
                printed_start=True,
                printed_end=True,
            )
        )
    return blocks
