"""Records pages: one printed line per block, naming its day and its time
('Monday  08:30  09:15  Maths  R101'), as lists exported from scheduling software print them.
"""

from __future__ import annotations

import itertools
import re

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Page
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.textstream.phrases import (
    BASE_CONFIDENCE,
    Phrase,
    StreamBlock,
    _is_period,
    build_phrases,
)


def _rows(phrases: list[Phrase]) -> list[list[Phrase]]:
    """Phrases on one printed line, top to bottom, each row left to right."""
    rows: list[list[Phrase]] = []
    for p in sorted(phrases, key=lambda p: (p.yc, p.x0)):
        if rows and abs(rows[-1][0].yc - p.yc) < 0.5 * max(p.height, rows[-1][0].height):
            rows[-1].append(p)
        else:
            rows.append([p])
    return [sorted(r, key=lambda p: p.x0) for r in rows]


_WEEK_HEADER = re.compile(r"^(?:week|woche|semaine|semana|settimana|wk)\.?$", re.IGNORECASE)


def read_records_page(page: Page, *, language: str | None) -> tuple[list[StreamBlock], bool]:
    """One block per printed line that names a day and a time ('Monday  08:30  09:15  Maths  R101').

    A line without a day continues the day above it; separate start and end columns are read as a
    range; start-only lines end where the next line of the same day starts. The flag says the page
    is surely a list of records: a day is printed again on the next line.
    """
    phrases = build_phrases(page.words)
    rows = _rows(phrases)
    has_week_column = any(_WEEK_HEADER.match(p.text.strip()) for p in phrases)
    parsed: list[tuple[Day, TimeMatch, TimeMatch | None, str | None, str | None, list[str]]] = []
    day: Day | None = None
    timed_rows = sum(1 for row in rows if any(find_times(p.text) for p in row))
    repeated = 0
    for row in rows:
        days = [(i, parse_day(p.text, language)) for i, p in enumerate(row) if len(p.text) <= 14]
        days = [(i, d) for i, d in days if d is not None]
        # A record names its day first (after a week column at most): 'MIT' further on is a teacher.
        lead = [(i, d) for i, d in days if i == 0 or (i == 1 and len(row[0].text.strip()) <= 2)]
        if len(days) <= 1:
            days = lead
        if len(days) > 1:
            day = None
            continue  # a header row of day names, not a record
        if days:
            repeated += int(days[0][1] == day)
            day = days[0][1]
        times: list[tuple[int, TimeMatch]] = []
        for i, p in enumerate(row):
            times.extend((i, m) for m in find_times(p.text))
        if day is None or not times:
            continue
        used = {i for i, _ in days} | {i for i, _ in times}
        ranges = [m for _, m in times if m.end is not None]
        first = ranges[0] if ranges else times[0][1]
        second = None if ranges or len(times) < 2 else times[1][1]
        period: str | None = None
        week: str | None = None
        lines: list[str] = []
        for i, p in enumerate(row):
            rest = strip_times(p.text) if i in {j for j, _ in times} else ("" if i in used else p.text.strip())
            if not rest:
                continue
            if period is None and _is_period(rest) and not lines:
                period = rest
            elif has_week_column and rest.upper() in ("A", "B") and week is None:
                week = rest.upper()
            else:
                lines.append(rest)
        if lines:
            parsed.append((day, first, second, period, week, lines))
    # A records page: most lines with a time also name their day.
    if len(parsed) < 3 or len(parsed) < 0.6 * timed_rows:
        return [], False
    out: list[StreamBlock] = []
    reference: dict[Day, Clock | None] = {}
    for d, first, second, period, week, lines in parsed:
        m = school_day_range(first, reference=reference.get(d))
        start, end = m.start, m.end
        if second is not None:
            end = school_day_range(second, reference=start).start
        reference[d] = start
        out.append(StreamBlock(day=d, start=start, end=end, period=period, lines=lines, styles=[None] * len(lines),
                               page=page.number, week=week, confidence=BASE_CONFIDENCE))
    # Start-only lines end where the next line of the same day (and week) starts.
    for a, b in itertools.pairwise(out):
        if a.end is None and a.day == b.day and a.week == b.week and b.start and a.start and b.start >= a.start:
            a.end = b.start
    return out, repeated >= 2
