"""List-style timetables: day headings, then one line per block ('8:30 - 9:15 Maths', '1. 9:00 Art').

A heading may name several days ('Monday, Tuesday, Thursday'); the list under it applies to each.
Items with only a start end where the next item starts; the last such item keeps no end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Table
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, find_times, school_day_range, strip_times
from timetable_platform.reading.grid import WEEK_RE, Block

_NUMBER_PREFIX = re.compile(r"^\s*(?P<num>\d{1,2})[.)]\s+")
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
        m = _NUMBER_PREFIX.match(line)
        body = line
        if m:
            period = m.group("num")
            body = line[m.end() :]
        found = find_times(body)
        if not found:
            if out and not find_times(line):
                # A continuation line: part of the previous item's name.
                s, e, p, t = out[-1]
                out[-1] = (s, e, p, f"{t}\n{body.strip()}")  # its own line: a field or a note, the splitter decides
            continue
        match = school_day_range(found[0], reference=reference)
        text = strip_times(body).strip(" -–:|")
        if not text:
            continue
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
