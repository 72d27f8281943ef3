"""List-style timetables: day headings, then one line per block ('8:30 - 9:15 Maths', '1. 9:00 Art').

A heading may name several days ('Monday, Tuesday, Thursday'); the list under it applies to each.
Items with only a start end where the next item starts; the last such item keeps no end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations, pairwise

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Line, Table
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, find_times, school_day_range, strip_times
from timetable_platform.reading.geometry import y_overlap
from timetable_platform.reading.grid import WEEK_RE, Block

# A list number: '1.', '1)', or a bare '1' before the item's time.
LIST_NUMBER = re.compile(r"^\s*(?P<num>\d{1,2})(?:[.)]\s+|\s+(?=\d{1,2}[:.h]\d\d))")
_HEADING_SPLIT = re.compile(r"\s*(?:,|/|&|\+|\band\b|\bund\b|\bet\b|\by\b|\be\b|\ben\b)\s*", re.IGNORECASE)
_DAY_RANGE = re.compile(
    r"^\s*(?P<a>[^\W\d_]+\.?)(?:\s*[-–]\s*|\s+(?:to|bis|à|a|al|tot)\s+)(?P<b>[^\W\d_]+\.?)\s*:?\s*$",
    re.IGNORECASE,
)
_TRAILING_PARENS = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<inner>[^()]+)\)\s*(?P<rest>[^()]*)$")
_ORDER: tuple[Day, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def heading_days(line: str, language: str | None = None) -> list[Day] | None:
    """Days a heading line names ('Monday', 'Monday, Tuesday, Thursday', 'Mon - Fri'), else None."""
    text = line.strip().rstrip(":").strip()
    if not text or find_times(text) or len(text) > 80:
        return None
    m = _DAY_RANGE.match(text)
    if m:
        a, b = parse_day(m.group("a"), language), parse_day(m.group("b"), language)
        if a and b and _ORDER.index(a) < _ORDER.index(b):
            return list(_ORDER[_ORDER.index(a) : _ORDER.index(b) + 1])
    whole = parse_day(text, language)  # one day with its date ('Seg., 10 de março', 'Monday, 3 March')
    if whole is not None:
        return [whole]
    parts = [p for p in _HEADING_SPLIT.split(text) if p and p.strip()]
    days = [parse_day(p, language) for p in parts]
    if days and all(d is not None for d in days):
        return [d for d in days if d is not None]
    return None


def read_listing(
    lines: Sequence[str], *, language: str | None = None, page: int | None = None
) -> list[Block]:
    """Blocks of every day section; empty when the text has no day headings with timed lines under them."""
    sections: list[tuple[list[Day], list[str], str | None]] = []
    week: str | None = None
    for raw in lines:
        for line in raw.splitlines():
            if not line.strip():
                continue
            marker = WEEK_RE.match(line)
            if marker:
                week = marker.group("label").upper()
                continue
            days = heading_days(line, language)
            if days:
                sections.append((days, [], week))
            elif sections:
                sections[-1][1].append(line.strip())
    blocks: list[Block] = []
    for days, items, section_week in sections:
        parsed = _items(items)
        if not parsed:
            continue
        for day in days:
            for start, end, period, text in parsed:
                if not text:
                    continue
                blocks.append(
                    Block(
                        day=day,
                        start=start,
                        end=end,
                        period=period,
                        lines=item_lines(text),
                        styles=[None] * len(item_lines(text)),
                        week=section_week,
                        page=page,
                        confidence=0.9 if end is not None else 0.8,
                        printed_start=start is not None,
                    )
                )
    return blocks


# How far from a lone time's centre (in the spacing of the lone times) a line beside it may sit.
_BESIDE_REACH = 0.6
# The fewest lone times that make a column of times.
_MIN_LONE_TIMES = 3


def lines_beside_times(lines: Sequence[Line], language: str | None = None) -> list[str]:
    """Page lines as text, each item's name joined to its time when the times stand alone in a column
    of their own: app lists and cards print the time at the left, centred against a name and details
    at the right, so the name sits half a line above the time and reading order puts it with the item
    before. A line right of the time column goes with the lone time whose centre is nearest; below the
    first time, a line beside none (an app's menu bar) is no item's and only day headings stay."""
    texts = [line.text for line in lines]
    timed = [i for i, line in enumerate(lines) if find_times(line.text)]
    lone = [i for i in timed if _lone_time(lines[i].text)]
    # Most timed lines must stand alone: a list that prints names beside its times reads as printed.
    if len(lone) < _MIN_LONE_TIMES or len(lone) < 0.8 * len(timed):
        return texts
    centres = sorted(_yc(lines[i]) for i in lone)
    spacing = sorted(b - a for a, b in pairwise(centres))[len(centres) // 2 - 1]
    column_right = max(lines[i].bbox.x1 for i in lone)
    beside: dict[int, list[int]] = {i: [] for i in lone}
    for j, line in enumerate(lines):
        if j in beside or find_times(line.text) or line.bbox.x0 < column_right:
            continue
        nearest = min(lone, key=lambda i: abs(_yc(lines[i]) - _yc(line)))
        if abs(_yc(lines[nearest]) - _yc(line)) <= _BESIDE_REACH * spacing:
            beside[nearest].append(j)
    # Cards stack a name over its details; a record table's row prints its fields side by side.
    side_by_side = sum(
        1 for found in beside.values() if any(_share_row(lines[a], lines[b]) for a, b in combinations(found, 2))
    )
    if side_by_side > len(lone) / 4:
        return texts
    moved = {j for found in beside.values() for j in found}
    first = min(lines[i].bbox.top for i in lone)
    out: list[str] = []
    for i, text in enumerate(texts):
        if i in moved:
            continue
        if i not in beside and lines[i].bbox.top > first and not (heading_days(text, language) or WEEK_RE.match(text)):
            continue
        found = sorted(beside.get(i, []), key=lambda j: lines[j].bbox.top)
        if not found:
            out.append(text)
            continue
        out.append(f"{text} {texts[found[0]]}")
        out.extend(texts[j] for j in found[1:])
    return out


def _lone_time(text: str) -> bool:
    """A line holding only a time range (perhaps after its list number)."""
    m = LIST_NUMBER.match(text)
    body = text[m.end() :] if m else text
    found = find_times(body)
    return len(found) == 1 and found[0].end is not None and not strip_times(body).strip(" -–:|.,")


def _share_row(a: Line, b: Line) -> bool:
    return y_overlap(a.bbox, b.bbox) > 0.5 * min(a.bbox.height, b.bbox.height)


def _yc(line: Line) -> float:
    return line.bbox.center[1]


def item_lines(text: str) -> list[str]:
    """'Maths (Mr Smith, R101)' or 'Maths (Mr Smith) R101' -> ['Maths', 'Mr Smith', 'R101']: the parts a
    list prints beside the name."""
    first, *rest = text.split("\n")
    m = _TRAILING_PARENS.match(first)
    if not m:
        return [first, *rest]
    parts = [p.strip() for p in re.split(r"[,;|]", m.group("inner")) if p.strip()]
    after = [m.group("rest").strip()] if m.group("rest").strip() else []  # 'Maths (Smith) R101'
    return [m.group("name").strip(), *parts, *after, *rest]


def _items(lines: list[str]) -> list[tuple[Clock | None, Clock | None, str | None, str]]:
    out: list[tuple[Clock | None, Clock | None, str | None, str]] = []
    printed_end: list[bool] = []
    reference: Clock | None = None
    for line in lines:
        period = None
        m = LIST_NUMBER.match(line)
        body = line
        if m:
            period = m.group("num")
            body = line[m.end() :]
        found = find_times(body)
        if not found:
            if out and not find_times(line):
                # A continuation line: part of the previous item's name.
                s, e, p, t = out[-1]
                # Its own line: a field or a note, the splitter decides.
                out[-1] = (s, e, p, f"{t}\n{body.strip()}" if t else body.strip())
            continue
        match = school_day_range(found[0], reference=reference)
        text = strip_times(body).strip(" -–:|")
        if not text and period is None:
            continue  # a bare time: a heading's or a note's, no item (a numbered one takes the lines below)
        reference = match.start
        out.append((match.start, match.end, period, text))
        printed_end.append(match.end is not None)
    # Start-only items end where the next one starts.
    for i, (s, e, p, t) in enumerate(out):
        if e is None and s is not None and i + 1 < len(out):
            nxt = out[i + 1][0]
            if nxt is not None and nxt >= s:
                out[i] = (s, nxt, p, t)
    return out


def read_table_listing(table: Table, *, language: str | None = None, page: int | None = None) -> list[Block]:
    """A list printed as a table: heading rows naming the days, then rows of 'number | time | name'.

    Used when a table has no day axis of its own (e.g. three side-by-side daily lists).
    """
    m = table.grid()
    heading: list[str] = [table.caption] if table.caption else []
    lines: list[str] = []
    for r in range(table.n_rows):
        seen: set[int] = set()
        texts: list[str] = []
        raw: list[str] = []
        for cell in m[r]:
            if cell is None or id(cell) in seen or cell.row != r:
                continue
            seen.add(id(cell))
            if cell.text.strip():
                texts.append(" ".join(cell.text.split()))
                raw.append(cell.text)
        if not texts:
            continue
        timed = next((i for i, t in enumerate(texts) if find_times(t)), None)
        if timed is None:
            if not lines:
                heading.extend(line for cell_text in raw for line in cell_text.splitlines())
            continue
        label = " ".join(texts[:timed])
        time_cell = texts[timed]
        found = find_times(time_cell)
        before = time_cell[: found[0].span[0]].strip()
        if not label and re.fullmatch(r"\d{1,2}[.)]?", before):
            label, time_cell = before, time_cell[found[0].span[0] :]
        label = label.rstrip(".)")
        name = " ".join([time_cell, *texts[timed + 1 :]])
        lines.append(f"{label}. {name}" if re.fullmatch(r"\d{1,2}", label) else name)
    days: list[Day] = []
    for text in heading:
        for part in text.splitlines():
            found_days = heading_days(part.strip(" -—–:"), language)
            for day in found_days or []:
                if day not in days:
                    days.append(day)
    if not days or not lines:
        return []
    parsed = _items(lines)
    return [
        Block(
            day=day,
            start=start,
            end=end,
            period=period,
            lines=item_lines(text),
            styles=[None] * len(item_lines(text)),
            page=page,
            confidence=0.85 if end is not None else 0.75,
            printed_start=start is not None,
        )
        for day in days
        for start, end, period, text in parsed
    ]
