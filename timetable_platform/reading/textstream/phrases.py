"""What the word-stream readers share: phrases, day axes and the blocks they read.

Words close together on one line become a phrase; letters printed one under the other and a time
label wrapped over two lines are joined first. Day names that line up along a row or a column are
a day axis. Every reader of the package turns a page into ``StreamBlock``s.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from timetable_platform.domain.days import day_candidates, resolve_day_sequence
from timetable_platform.domain.layout import Word
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, find_times
from timetable_platform.reading.cells import classify_kind
from timetable_platform.reading.geometry import union_boxes, x_overlap, y_overlap

_PERIOD_WORDS = (
    r"p|per|period|periode|période|lesson|les|lesuur|uur|std|stunde|h|heure|ora|hora|sesión|sesion|"
    r"sessione|block|slot|#"
)
PERIOD_LABEL = re.compile(
    rf"^(?:(?:{_PERIOD_WORDS})\.?\s*)?\d{{1,2}}\s?\.?(?:st|nd|rd|th|e|er|re|ème|ª|º)?\.?"
    rf"(?:\s*(?:{_PERIOD_WORDS})\.?)?$",
    re.IGNORECASE,
)
WEEK_MARK = re.compile(r"\b(?:week|woche|semaine|semana|settimana|wk)\s*[:.]?\s*(?P<label>[AB])\b", re.IGNORECASE)
_BLANK = {"", "-", "–", "—", "/", "x", "n/a", "·", "."}

# Confidence of a block before the merge calibrates it.
BASE_CONFIDENCE = 0.85


def _is_period(text: str) -> bool:
    return bool(PERIOD_LABEL.match(text.strip()))


@dataclass
class Phrase:
    """Words close together on one line (or stacked letters / a wrapped time label)."""

    words: list[Word]
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    height: float  # text height, whatever the orientation

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def style(self) -> str | None:
        return self.words[0].style if self.words else None


@dataclass
class StreamBlock:
    day: Day
    start: Clock | None
    end: Clock | None
    period: str | None
    lines: list[str]
    styles: list[str | None]
    page: int
    week: str | None = None
    subject: str | None = None
    confidence: float = BASE_CONFIDENCE


# --- phrases -------------------------------------------------------------------------------------


def _median(values: Sequence[float], default: float = 10.0) -> float:
    return statistics.median(values) if values else default


def build_phrases(words: Sequence[Word]) -> list[Phrase]:
    """Words -> phrases: same line and a gap under ~0.8 text heights; then wrapped time labels and
    letters stacked one per line are joined vertically."""
    upright = [w for w in words if w.text.strip() and w.rotation in (0, 180)]
    if not upright:
        return []
    heights = [w.bbox.height for w in upright if w.bbox.height > 0]
    h_med = _median(heights)
    lines: list[list[Word]] = []
    for w in sorted(upright, key=lambda w: (w.bbox.center[1], w.bbox.x0)):
        cy = w.bbox.center[1]
        for line in lines[-6:]:
            ref = line[-1].bbox
            if abs(ref.center[1] - cy) < 0.45 * max(ref.height, w.bbox.height, 1.0):
                line.append(w)
                break
        else:
            lines.append([w])
    phrases: list[Phrase] = []
    for line in lines:
        line.sort(key=lambda w: w.bbox.x0)
        current: list[Word] = [line[0]]
        for w in line[1:]:
            prev = current[-1]
            h = max(prev.bbox.height, w.bbox.height, 0.5 * h_med)
            if w.bbox.x0 - prev.bbox.x1 > 0.8 * h:
                phrases.append(_phrase(current))
                current = [w]
            else:
                current.append(w)
        phrases.append(_phrase(current))
    phrases = _join_stacked(phrases)
    phrases.extend(_rotated_phrases([w for w in words if w.text.strip() and w.rotation in (90, 270)], h_med))
    return phrases


def _rotated_phrases(words: Sequence[Word], h_med: float) -> list[Phrase]:
    """Text written up or down a narrow cell: words sharing a column (by x) and close along it form a
    line; neighbouring lines form one phrase, read left to right, each line in its writing direction."""
    if not words:
        return []
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.bbox.center[0], w.bbox.top)):
        for line in lines:
            ref = line[-1].bbox
            if abs(ref.center[0] - w.bbox.center[0]) < 0.45 * max(ref.width, w.bbox.width, 1.0) and (
                min(abs(w.bbox.top - b.bbox.bottom) for b in line) < 1.2 * max(ref.width, w.bbox.width)
                or any(w.bbox.intersects(b.bbox) for b in line)
            ):
                line.append(w)
                break
        else:
            lines.append([w])
    # Order each line in its writing direction (90: bottom to top, 270: top to bottom).
    for line in lines:
        line.sort(key=lambda w: -w.bbox.bottom if w.rotation == 90 else w.bbox.top)
    lines.sort(key=lambda line: min(w.bbox.x0 for w in line))
    groups: list[list[list[Word]]] = []
    for line in lines:
        box = union_boxes([w.bbox for w in line])
        if groups:
            last = union_boxes([w.bbox for ln in groups[-1] for w in ln])
            overlap = y_overlap(box, last)
            if box.x0 - last.x1 < 0.8 * max(box.width, h_med * 0.5) and overlap > 0.3 * min(box.height, last.height):
                groups[-1].append(line)
                continue
        groups.append([line])
    out: list[Phrase] = []
    for group in groups:
        ws = [w for line in group for w in line]
        box = union_boxes([w.bbox for w in ws])
        out.append(
            Phrase(
                words=ws,
                text=" ".join(w.text for w in ws),
                x0=box.x0,
                top=box.top,
                x1=box.x1,
                bottom=box.bottom,
                height=_median([w.bbox.width for w in ws], h_med),
            )
        )
    return out


def _phrase(words: list[Word]) -> Phrase:
    heights = [w.bbox.height for w in words]
    return Phrase(
        words=list(words),
        text=" ".join(w.text for w in words),
        x0=min(w.bbox.x0 for w in words),
        top=min(w.bbox.top for w in words),
        x1=max(w.bbox.x1 for w in words),
        bottom=max(w.bbox.bottom for w in words),
        height=_median(heights, 10.0),
    )


def _join_stacked(phrases: list[Phrase]) -> list[Phrase]:
    """'8.45 –' over '8.55' -> one label; 'M' over 'O' over 'N' -> 'MON'."""
    phrases = sorted(phrases, key=lambda p: (p.top, p.x0))
    used = [False] * len(phrases)
    out: list[Phrase] = []
    for i, p in enumerate(phrases):
        if used[i]:
            continue
        current = p
        used[i] = True
        parts = [p]
        stacked_letters = False
        while True:
            nxt = None
            for j in range(i + 1, len(phrases)):
                q = phrases[j]
                if used[j]:
                    continue
                if q.top - current.bottom > 1.0 * current.height:
                    if q.top > current.bottom + 3 * current.height:
                        break
                    continue
                if q.top < current.bottom - 0.3 * current.height:
                    continue
                letters = _is_letter(current.words[-1].text) and _is_letter(q.text) and (
                    q.top - current.bottom < 0.5 * current.height
                ) and (
                    abs(q.xc - current.words[-1].bbox.center[0]) < 0.8 * current.height
                )
                wrapped_time = bool(re.search(r"[-–—‑−]\s*$|\b(?:to|bis|à)\s*$", current.text)) and bool(
                    find_times(current.text.rstrip(" -–—‑−"))
                ) and bool(re.match(r"^\d", q.text)) and x_overlap(current, q) > 0
                if letters or wrapped_time:
                    nxt = j
                    parts.append(q)
                    stacked_letters = stacked_letters or letters
                    joiner = "" if letters else " "
                    current = Phrase(
                        words=[*current.words, *q.words],
                        text=current.text + joiner + q.text,
                        x0=min(current.x0, q.x0),
                        top=current.top,
                        x1=max(current.x1, q.x1),
                        bottom=q.bottom,
                        height=current.height,
                    )
                    break
            if nxt is None:
                break
            used[nxt] = True
        if stacked_letters and not _spelt_word(current.text):
            out.extend(parts)  # a column of one-letter values ('A', 'A', 'B'), not a word spelt downwards
        else:
            out.append(current)
    return out


def _spelt_word(text: str) -> bool:
    """Letters stacked one per line make a word worth joining: a day name or a break/other label."""
    return (bool(day_candidates(text)) and len(text) >= 2) or classify_kind(text) != "lesson"


def _is_letter(text: str) -> bool:
    return len(text) == 1 and text.isalpha()


# --- day axis ------------------------------------------------------------------------------------


@dataclass
class DayAxis:
    vertical_days: bool  # True: days as rows (labels stacked in a column)
    labels: list[tuple[Phrase, Day]]


def _is_day_like(p: Phrase) -> bool:
    text = p.text.strip()
    return 0 < len(text) <= 14 and bool(day_candidates(text))


def _groups(phrases: list[Phrase], *, by_row: bool) -> list[list[Phrase]]:
    """Phrases lined up on one row (same y) or one column (overlapping x)."""
    out: list[list[Phrase]] = []
    key = (lambda p: p.yc) if by_row else (lambda p: p.xc)
    for p in sorted(phrases, key=key):
        placed = False
        for g in out:
            ref = g[0]
            if by_row and abs(ref.yc - p.yc) < 0.6 * max(ref.height, p.height):
                g.append(p)
                placed = True
                break
            if not by_row and (
                x_overlap(ref, p) > 0.3 * min(ref.x1 - ref.x0, p.x1 - p.x0) or abs(ref.x0 - p.x0) < 0.6 * ref.height
            ):
                g.append(p)
                placed = True
                break
        if not placed:
            out.append([p])
    return out


def _resolve(group: list[Phrase], *, by_row: bool, language: str | None) -> list[tuple[Phrase, Day]]:
    ordered = sorted(group, key=(lambda p: p.x0) if by_row else (lambda p: p.top))
    days = resolve_day_sequence([p.text for p in ordered], language)
    pairs = [(p, d) for p, d in zip(ordered, days, strict=True) if d is not None]
    # Single letters count only in a run of several ('M T W T F'), never alone.
    letters = sum(1 for p, _ in pairs if len(p.text.strip().rstrip(".")) == 1)
    if letters and len(pairs) < 3:
        return []
    return pairs


def find_day_axes(phrases: list[Phrase], language: str | None) -> list[DayAxis]:
    """Day header rows (days as columns) or the day column (days as rows); several rows = stacked sections."""
    candidates = [p for p in phrases if _is_day_like(p)]
    rows = [_resolve(g, by_row=True, language=language) for g in _groups(candidates, by_row=True)]
    cols = [_resolve(g, by_row=False, language=language) for g in _groups(candidates, by_row=False)]
    best_row = max((len({d for _, d in r}) for r in rows), default=0)
    best_col = max((len({d for _, d in c}) for c in cols), default=0)
    if max(best_row, best_col) < 2:
        return []
    if best_row >= best_col:
        keep = [r for r in rows if len({d for _, d in r}) >= max(2, best_row - 1)]
        return [DayAxis(vertical_days=False, labels=r) for r in sorted(keep, key=lambda r: r[0][0].top)]
    best = max(cols, key=lambda c: len({d for _, d in c}))
    # A column running MON..FRI twice is two stacked weeks; each run is a section.
    sections: list[list[tuple[Phrase, Day]]] = [[]]
    order = {d: i for i, d in enumerate(("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"))}
    for p, d in best:
        if sections[-1] and order[d] <= order[sections[-1][-1][1]]:
            sections.append([])
        sections[-1].append((p, d))
    return [DayAxis(vertical_days=True, labels=s) for s in sections if len(s) >= 2]

