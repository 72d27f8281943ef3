"""Day columns laid out on the page: each day's heading with its blocks under it, and each block
printing its own times.

Calendar-app week views (a day per column, events as boxes placed by time, each box saying
'Maths / 08:15 - 09:45 / Room 12'), app and web pages that list one day's lessons as cards, and list
timetables printed in two or more columns all share this shape. Reading their lines in page order
mixes the days; reading them as a grid finds no time axis. Here the page is cut into regions under
the day headings, each region's lines are grouped into blocks by the gaps between them, and a block
takes the time range it prints. Where the reader saw the filled boxes the blocks are drawn in, a
box's lines are one block, and a calendar's boxes also say when they are by where they sit against
its hour axis: that fills in a time the print does not give or that OCR misread.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from dataclasses import dataclass
from itertools import pairwise

from timetable_platform.domain.layout import BBox, Line, Page
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.geometry import split_at_gaps, union_boxes, x_overlap, y_overlap
from timetable_platform.reading.grid import Block
from timetable_platform.reading.listing import LIST_NUMBER, heading_days, item_lines

# Apps print a lesson's fields on one line between dots or bars ('Lab 1 · Mr Smith', 'Smith | R101').
_FIELD_SEPARATOR = re.compile(r"\s+[·•|]\s+")
# Lines further apart than this share of a line's height belong to different blocks (boxes, cards).
BLOCK_GAP = 0.6
# Confidence of a block read this way: its time is printed, its day is the column it sits in.
COLUMN_CONFIDENCE = 0.85
# Confidence of a block whose start or end is inferred from its box's place on the time axis.
INFERRED_CONFIDENCE = 0.6
# Minutes by which a position may miss a time and still confirm it; inferred times snap to this step.
POSITION_TOLERANCE = 4
TIME_STEP = 5


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
    boxed: list[tuple[list[Line], BBox, Day]] = []
    loose: list[tuple[list[Line], Day]] = []
    for column in columns:
        inside = [
            line for line in lines
            if column.top <= line.bbox.top < column.bottom and column.x0 <= line.bbox.center[0] < column.x1
            and not heading_days(line.text, language)
        ]
        for box in page.boxes:
            x, y = box.center
            if not (column.x0 <= x < column.x1 and column.top <= y < column.bottom):
                continue
            held = sorted((line for line in inside if _holds(box, line.bbox)), key=lambda line: (line.bbox.top, line.bbox.x0))
            if held:
                boxed.append((held, box, column.day))
                inside = [line for line in inside if not any(line is other for other in held)]
        sorted_inside = sorted(inside, key=lambda line: (line.bbox.top, line.bbox.x0))
        loose.extend((group, column.day) for group in _groups(sorted_inside))
    blocks: list[Block] = []
    for group, day in loose:
        blocks.extend(_blocks(group, day, page.number))
    read = [(box, _blocks(group, day, page.number)) for group, box, day in boxed]
    scale = _time_scale(page, lines, read)
    for (group, box, day), (_, found) in zip(boxed, read, strict=True):
        if scale is not None and len(found) <= 1:
            placed = _placed(group, box, day, page.number, scale, found[0] if found else None)
            found = [placed] if placed is not None else found
        blocks.extend(found)
    return blocks


def _holds(box: BBox, line: BBox) -> bool:
    x, y = line.center
    return box.x0 <= x <= box.x1 and box.top <= y <= box.bottom


@dataclass
class _Scale:
    """Minutes of the day at a height of the page: ``minutes = origin + per_pixel * y``."""

    origin: float
    per_pixel: float

    def at(self, y: float) -> int:
        minutes = self.origin + self.per_pixel * y
        return int(round(minutes / TIME_STEP) * TIME_STEP)


def _time_scale(page: Page, lines: list[Line], read: list[tuple[BBox, list[Block]]]) -> _Scale | None:
    """The page's time axis, when it has one: heights against minutes from the hour labels printed on
    their own outside the boxes ('08:00') and from the boxes whose single printed range puts their top
    at the start and their bottom at the end. The line most of these points lie on is the axis; it
    needs three points at least, two of them from hour labels or printed ranges that agree."""
    points: list[tuple[float, float]] = []
    for line in lines:
        found = find_times(line.text)
        if len(found) != 1 or found[0].end is not None or strip_times(line.text).strip(" .:"):
            continue
        if any(_holds(box, line.bbox) for box in page.boxes):
            continue
        points.append((line.bbox.center[1], float(found[0].start.minutes)))
    for box, found in read:
        if len(found) == 1 and found[0].start is not None and found[0].end is not None:
            points.append((box.top, float(found[0].start.minutes)))
            points.append((box.bottom, float(found[0].end.minutes)))
    return _fit(points)


def _fit(points: list[tuple[float, float]]) -> _Scale | None:
    """The line through most of ``points`` (within the tolerance), refitted on those by least squares;
    None with fewer than three points on one line, or a line on which time runs upwards."""
    best: list[tuple[float, float]] = []
    for i, (y0, m0) in enumerate(points):
        for y1, m1 in points[i + 1 :]:
            if abs(y1 - y0) < 1 or m1 == m0:
                continue
            slope = (m1 - m0) / (y1 - y0)
            if slope <= 0:
                continue
            near = [(y, m) for y, m in points if abs(m0 + slope * (y - y0) - m) <= POSITION_TOLERANCE]
            if len(near) > len(best):
                best = near
    if len(best) < 3 or len({m for _, m in best}) < 3:
        return None
    mean_y = statistics.fmean(y for y, _ in best)
    mean_m = statistics.fmean(m for _, m in best)
    spread = sum((y - mean_y) ** 2 for y, _ in best)
    if spread <= 0:
        return None
    slope = sum((y - mean_y) * (m - mean_m) for y, m in best) / spread
    if slope <= 0:
        return None
    return _Scale(origin=mean_m - slope * mean_y, per_pixel=slope)


def _placed(
    group: list[Line], box: BBox, day: Day, page: int, scale: _Scale, printed: Block | None
) -> Block | None:
    """The block of one box, its times checked against the box's place on the axis: a printed time
    the place confirms stays, one it contradicts (misread) or one not printed at all is taken from the
    place, and the block's confidence says so."""
    start, end = scale.at(box.top), scale.at(box.bottom)
    if not 0 <= start < end <= 24 * 60:
        return printed
    if printed is None:
        # What is left of a misread time ('8:00 - 9.4') is no field.
        texts = [piece for line in group for piece in _texts_of(strip_times(line.text)) if any(c.isalpha() for c in piece)]
        if not texts:
            return None
        return Block(
            day=day, start=Clock(start), end=Clock(end), period=None, lines=texts, styles=[None] * len(texts),
            page=page, confidence=INFERRED_CONFIDENCE,
        )
    assert printed.start is not None and printed.end is not None
    start_ok = abs(printed.start.minutes - start) <= POSITION_TOLERANCE
    end_ok = abs(printed.end.minutes - end) <= POSITION_TOLERANCE
    if start_ok and end_ok:
        return printed
    return dataclasses.replace(
        printed,
        start=printed.start if start_ok else Clock(start),
        end=printed.end if end_ok else Clock(end),
        printed_start=start_ok,
        printed_end=end_ok,
        confidence=INFERRED_CONFIDENCE,
    )


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
    for row in rows:
        row.sort(key=lambda h: h[0].bbox.center[0])
    widest = max(rows, key=len, default=[])
    if len(widest) >= 3:
        # A week view heads its columns with one row of days; a day word further down that is not
        # written like those headings is a lesson's text or OCR debris ('J', 'ee'), not a heading.
        forms = [_form(line.text) for line, _ in widest]
        shortest = min(letters for letters, _ in forms)
        cases = {case for _, case in forms}
        rows = [
            row for row in rows
            if row is widest or all(
                (form := _form(line.text))[0] >= shortest and form[1] in cases for line, _ in row
            )
        ]
    # Lanes where some heading stands alone on its row and each day is headed once on the page (a list
    # in columns); a calendar's one heading row keeps its midpoints, an app's day tabs beside a day's
    # own heading keep the whole width.
    kept = [heading for row in rows for heading in row]
    named = [day for _, day in kept]
    lone = any(len(row) == 1 for row in rows) and len(set(named)) == len(named)
    lanes = _lanes([line for line, _ in kept], page.width) if lone else [(0.0, page.width)]
    heading_rows: list[_HeadingRow] = []
    for row in rows:
        days = [day for _, day in row]
        if len(set(days)) != len(days):
            continue
        in_lanes = [next(((x0, x1) for x0, x1 in lanes if x0 <= line.bbox.x0 < x1), (0.0, page.width)) for line, _ in row]
        if len(lanes) > 1 and (len(row) == 1 or len(set(in_lanes)) == len(row)):
            cuts = [(day, x0, x1) for (_, day), (x0, x1) in zip(row, in_lanes, strict=True)]
        elif len(row) == 1:
            cuts = [(row[0][1], *_column_under(row[0][0], heading_rows, lines, page.width))]
        else:
            placed = _with_unread_days([(line.bbox.center[0], day) for line, day in row])
            centres = [x for x, _ in placed]
            half = min(b - a for a, b in pairwise(centres)) / 2
            bounds = [centres[0] - half, *((a + b) / 2 for a, b in pairwise(centres)), centres[-1] + half]
            cuts = [(day, bounds[i], bounds[i + 1]) for i, (_, day) in enumerate(placed)]
        top = min(line.bbox.top for line, _ in row)
        heading_rows.append(_HeadingRow(top=top, bottom=max(line.bbox.bottom for line, _ in row), cuts=cuts))
    columns: list[_Column] = []
    for index, heading_row in enumerate(heading_rows):
        for day, x0, x1 in heading_row.cuts:
            below = [other.top for other in heading_rows[index + 1 :] if other.covers(x0, x1)]
            columns.append(_Column(day=day, x0=x0, x1=x1, top=heading_row.bottom, bottom=min(below, default=page.height + 1)))
    return columns


def _form(text: str) -> tuple[int, str]:
    """How a heading is written: its number of letters and its case."""
    letters = [c for c in text if c.isalpha()]
    case = "upper" if all(c.isupper() for c in letters) else "lower" if all(c.islower() for c in letters) else "mixed"
    return len(letters), case


_WEEK: tuple[Day, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _with_unread_days(row: list[tuple[float, Day]]) -> list[tuple[float, Day]]:
    """A row of day headings with the ones OCR missed put back: week views space their columns evenly,
    so two neighbouring headings that skip a day and stand as far apart as the days between them take
    (within a fifth) hold the skipped days' columns between them."""
    steps = [b[0] - a[0] for a, b in pairwise(row) if _WEEK.index(b[1]) - _WEEK.index(a[1]) == 1]
    if len(row) < 3 or not steps:
        return row
    step = statistics.median(steps)
    out = [row[0]]
    for (x0, a), (x1, b) in pairwise(row):
        skipped = _WEEK.index(b) - _WEEK.index(a)
        if skipped > 1 and abs((x1 - x0) / (skipped * step) - 1) <= 0.2:
            out.extend((x0 + k * (x1 - x0) / skipped, _WEEK[_WEEK.index(a) + k]) for k in range(1, skipped))
        out.append((x1, b))
    return out


def _column_under(heading: Line, above: list[_HeadingRow], lines: list[Line], width: float) -> tuple[float, float]:
    """The x-range a lone heading owns: the column it stands in of a row of several headings above,
    when two or more of that row's columns hold timed lines before it (a list printed in two columns,
    whose days do not line up across them); else the whole width (a day under a strip of day tabs)."""
    x = heading.bbox.center[0]
    for row in reversed(above):
        if len(row.cuts) < 2:
            if row.cuts[0][1] <= 0.0 and row.cuts[0][2] >= width:
                break  # a day heading across the page since: the days run down the page, not in columns
            continue
        filled = [
            (x0, x1)
            for _, x0, x1 in row.cuts
            if any(
                x0 <= line.bbox.center[0] < x1 and row.bottom <= line.bbox.top < heading.bbox.top and _range(line)
                for line in lines
            )
        ]
        if len(filled) >= 2:
            return next(((x0, x1) for _, x0, x1 in row.cuts if x0 <= x < x1), (0.0, width))
        break
    return 0.0, width


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
        # A number before the time is the item's place in the list ('3 10:05-10:55'), not its name.
        number = LIST_NUMBER.match(anchor.text)
        texts = []
        for line in part:
            if line is anchor:
                texts.extend(_texts_of(strip_times(line.text[number.end() if number else 0 :]).strip(" -–:|·")))
            else:
                texts.extend(_texts_of(line.text))
        if not texts:
            continue
        blocks.append(
            Block(
                day=day,
                start=match.start,
                end=match.end,
                period=number.group("num") if number else None,
                lines=texts,
                styles=[None] * len(texts),
                page=page,
                confidence=COLUMN_CONFIDENCE,
                printed_start=True,
                printed_end=True,
            )
        )
    return blocks


def _texts_of(text: str) -> list[str]:
    """A line's fields: apps print them on one line between dots or bars."""
    out: list[str] = []
    for piece in _FIELD_SEPARATOR.split(text.strip()):
        if piece.strip():
            out.extend(item_lines(piece.strip()))
    return out
