"""List pages: day headings, each followed by one timed line per block ('1. 8:30 Maths'), as
plain-text and letter-style timetables print them; a list may run over several pages.
"""

from __future__ import annotations

import re

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Page
from timetable_platform.domain.model import Day
from timetable_platform.domain.text import tidy_whitespace
from timetable_platform.domain.times import Clock, TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.listing import LIST_NUMBER
from timetable_platform.reading.textstream.phrases import (
    BASE_CONFIDENCE,
    WEEK_MARK,
    Phrase,
    StreamBlock,
    _median,
    build_phrases,
)

_HEADING_SPLIT = re.compile(r"\s*(?:,|/|&|\band\b|\bund\b|\bet\b|\by\b|\ben\b|\be\b)\s*", re.IGNORECASE)


def _heading_days(text: str, language: str | None) -> list[Day] | None:
    text = text.strip().rstrip(":").strip()
    if not text or len(text) > 60 or find_times(text):
        return None
    parts = [p for p in _HEADING_SPLIT.split(text) if p.strip()]
    days = [parse_day(p, language) for p in parts]
    if days and all(days):
        return [d for d in days if d is not None]
    return None


def list_lines(page: Page) -> list[tuple[str, int]]:
    """The page's text lines in reading order, column by column, each with its page number."""
    phrases = build_phrases(page.words)
    if not phrases:
        return []
    h = _median([p.height for p in phrases])
    # Columns of text: phrases grouped by where their lines start.
    columns: list[list[Phrase]] = []
    for p in sorted(phrases, key=lambda p: p.x0):
        for col in columns:
            if abs(col[0].x0 - p.x0) < 4 * h or (p.x0 > col[0].x0 and p.x0 < max(q.x1 for q in col) - 2 * h):
                col.append(p)
                break
        else:
            columns.append([p])
    out: list[tuple[str, int]] = []
    for col in columns:
        rows: list[list[Phrase]] = []
        for p in sorted(col, key=lambda p: (p.yc, p.x0)):
            if rows and abs(rows[-1][0].yc - p.yc) < 0.5 * p.height:
                rows[-1].append(p)
            else:
                rows.append([p])
        out.extend((tidy_whitespace(" ".join(q.text for q in sorted(r, key=lambda q: q.x0))), page.number) for r in rows)
    return out


def _list_blocks(texts: list[tuple[str, int]], language: str | None) -> list[StreamBlock]:
    """Blocks of a list read in order (a list may run over several pages, its week and day carried on)."""
    out: list[StreamBlock] = []
    current: list[Day] = []
    items: list[tuple[str | None, TimeMatch, str, int]] = []

    def flush() -> None:
        reference: Clock | None = None
        settled: list[tuple[str | None, Clock, Clock | None, str, int]] = []
        for period, m, text, page in items:
            s = school_day_range(m, reference=reference)
            settled.append((period, s.start, s.end, text, page))
            reference = s.start
        for i, (period, start, end, text, page) in enumerate(settled):
            if end is None and i + 1 < len(settled):
                end = settled[i + 1][1]
            for day in current:
                out.append(
                    StreamBlock(day=day, start=start, end=end, period=period, lines=[text], styles=[None],
                                page=page, week=week, confidence=BASE_CONFIDENCE - 0.05)
                )

    week: str | None = None
    for text, page in texts:
        marker = WEEK_MARK.search(text)
        if marker and len(text) <= 40 and not find_times(text):
            if current and items:
                flush()
                items = []
            week = marker.group("label").upper()
            rest = WEEK_MARK.sub(" ", text).strip(" :-–")
            days = _heading_days(rest, language) if rest else None
            if days:
                current = days
            continue
        days = _heading_days(text, language)
        if days:
            if current and items:
                flush()
            current, items = days, []
            continue
        if not current:
            continue
        period = None
        m_num = LIST_NUMBER.match(text)
        body = text
        if m_num:
            period = m_num.group("num")
            body = text[m_num.end():]
        found = find_times(body)
        if not found or found[0].span[0] > 2:
            continue
        rest = strip_times(body)
        if rest:
            items.append((period, found[0], rest, page))
    if current and items:
        flush()
    return out
