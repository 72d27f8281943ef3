"""The second, independent reader: timetables from the page's WORDS and their positions, not its table cells.

Where ``reading.interpret`` walks the table structure the reader found, this reader ignores cells
altogether. It groups words into phrases, finds the day names that line up along a row or a column,
finds the time (or period) labels beside them, and places every other phrase by its position
between those anchors. So it keeps working when a reader gets the cell structure wrong (missed
rulings, merged cells read as one, OCR tables without lines), and it fails in other places (dense
text without spacing), which is what the merge needs from a second opinion.

A page can also be read as records (one line per block naming its day and time) or as a list (day
headings with one timed line per block); the reading that finds more wins. Grids are read in
canonical coordinates: ``u`` runs along the time axis, ``v`` along the day axis, so days-as-columns
and days-as-rows share one code path.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from timetable_platform.domain.days import day_candidates, detect_language, parse_day, resolve_day_sequence
from timetable_platform.domain.layout import BBox, Layout, Page, Word
from timetable_platform.domain.model import Day, Entry, Owner, Timetable
from timetable_platform.domain.text import tidy_whitespace
from timetable_platform.domain.times import Clock, TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.cells import CellSplitter, classify_kind
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
PENALTY_NO_SLOT_TIME = 0.15
PENALTY_SPAN = 0.1
PENALTY_REPLICATED = 0.05
PENALTY_GUESSED_DAYS = 0.2


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
class Item:
    """A phrase in canonical coordinates (u along the time axis, v along the day axis)."""

    phrase: Phrase
    u0: float
    u1: float
    v0: float
    v1: float

    @property
    def uc(self) -> float:
        return (self.u0 + self.u1) / 2

    @property
    def vc(self) -> float:
        return (self.v0 + self.v1) / 2

    @property
    def h(self) -> float:
        return self.phrase.height

    @property
    def text(self) -> str:
        return self.phrase.text


@dataclass
class SlotAnchor:
    items: list[Item]
    start: Clock | None = None
    end: Clock | None = None
    period: str | None = None
    label: str | None = None  # non-time, non-period text of the label ('Break')
    start_only: bool = False
    lo: float = 0.0  # band along u
    hi: float = 0.0

    @property
    def u0(self) -> float:
        return min(i.u0 for i in self.items)

    @property
    def u1(self) -> float:
        return max(i.u1 for i in self.items)

    @property
    def uc(self) -> float:
        return (self.u0 + self.u1) / 2


@dataclass
class DayBand:
    day: Day
    item: Item
    lo: float = 0.0
    hi: float = 0.0


@dataclass
class Cluster:
    items: list[Item]
    day_index: int
    slots: tuple[int, int] = (0, 0)  # inclusive run of slot indices
    text_override: str | None = None
    spanned: bool = False
    replicated: bool = False

    @property
    def u0(self) -> float:
        return min(i.u0 for i in self.items)

    @property
    def u1(self) -> float:
        return max(i.u1 for i in self.items)

    @property
    def uc(self) -> float:
        return (self.u0 + self.u1) / 2

    @property
    def text(self) -> str:
        return " ".join(i.text for i in self.items)


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


# --- phrases ------------------------------------------------------------------------------------


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


# --- day axis -----------------------------------------------------------------------------------


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


# --- canonical coordinates ----------------------------------------------------------------------


def _item(p: Phrase, vertical_days: bool) -> Item:
    if vertical_days:  # days run down the page: time axis is x
        return Item(p, u0=p.x0, u1=p.x1, v0=p.top, v1=p.bottom)
    return Item(p, u0=p.top, u1=p.bottom, v0=p.x0, v1=p.x1)


def _start_aligned(anchors: list[tuple[float, float]], items: list[Item], axis: str, h: float) -> bool:
    """Do contents start where their labels start (top-aligned cells) or centre on them?

    A line in the middle of a centred three-line cell also starts level with its label, so
    starting wins only clearly.
    """
    starts = centres = 0
    for a0, a1 in anchors:
        ac = (a0 + a1) / 2
        for it in items:
            lo, hi = (it.u0, it.u1) if axis == "u" else (it.v0, it.v1)
            if abs(lo - a0) < 0.35 * h:
                starts += 1
            if abs((lo + hi) / 2 - ac) < 0.35 * h:
                centres += 1
    return starts > 1.5 * centres


def _bands(spans: list[tuple[float, float]], start_aligned: bool, h: float, limit_hi: float) -> list[tuple[float, float]]:
    """Bands along one axis from label extents: from each label's start, or centred on each label."""
    n = len(spans)
    if n == 0:
        return []
    if start_aligned:
        starts = [s[0] - 0.4 * h for s in spans]
        pitches = [b - a for a, b in itertools.pairwise(starts)]
        pitch = _median(pitches, 4 * h) if pitches else 4 * h
        out = [(starts[i], starts[i + 1]) for i in range(n - 1)]
        out.append((starts[-1], min(limit_hi, starts[-1] + 1.6 * max(pitch, spans[-1][1] - spans[-1][0] + h))))
        return out
    centres = [(a + b) / 2 for a, b in spans]
    bounds = [(centres[i] + centres[i + 1]) / 2 for i in range(n - 1)]
    if n == 1:
        half = max(2 * h, (spans[0][1] - spans[0][0]))
        return [(centres[0] - half, min(limit_hi, centres[0] + half))]
    first = (centres[0] - (bounds[0] - centres[0]), bounds[0])
    last = (bounds[-1], min(limit_hi, centres[-1] + (centres[-1] - bounds[-1])))
    middle = [(bounds[i], bounds[i + 1]) for i in range(n - 2)]
    return [first, *middle, last]


# --- slots ----------------------------------------------------------------------------------------


def _is_period(text: str) -> bool:
    return bool(PERIOD_LABEL.match(text.strip()))


def _anchor_kind(text: str) -> tuple[bool, bool]:
    """(has a time, is a period label) for a label phrase."""
    has_time = bool(find_times(text))
    rest = strip_times(text) if has_time else text
    return has_time, bool(rest) and _is_period(rest)


def _group_anchors(items: list[Item]) -> list[SlotAnchor]:
    """Label phrases -> slots. Phrases on one line ('1', '08:50 - 09:45') are one slot; a time line
    joins the slot above only to complete a bare period label ('Period 1' over '08:55-09:50')."""
    rows: list[list[Item]] = []
    for it in sorted(items, key=lambda i: (i.uc, i.v0)):
        if rows and abs(rows[-1][0].uc - it.uc) < 0.4 * it.h:
            rows[-1].append(it)
        else:
            rows.append([it])
    slots: list[SlotAnchor] = []
    for row in rows:
        kinds = [_anchor_kind(i.text) for i in row]
        has_time = any(k[0] for k in kinds)
        is_period = any(k[1] for k in kinds)
        if slots:
            cur = slots[-1]
            cur_kinds = [_anchor_kind(i.text) for i in cur.items]
            cur_time = any(k[0] for k in cur_kinds)
            cur_period = any(k[1] for k in cur_kinds)
            h = row[0].h
            top = min(i.u0 for i in row)
            close = top - cur.u1 < 1.5 * h  # stacked lines of one label cell
            completes = cur_period and not cur_time and has_time and not is_period
            if close and completes:
                cur.items.extend(row)
                continue
        slots.append(SlotAnchor(items=list(row)))
    return slots


def _read_slot_times(slots: list[SlotAnchor]) -> None:
    reference: Clock | None = None
    for slot in slots:
        texts = [i.text for i in sorted(slot.items, key=lambda i: (i.u0, i.v0))]
        matches: list[TimeMatch] = []
        rest_parts: list[str] = []
        for text in texts:
            found = find_times(text)
            matches.extend(found)
            rest = strip_times(text) if found else text.strip()
            if rest:
                rest_parts.append(rest)
        for rest in rest_parts:
            if _is_period(rest) and slot.period is None:
                slot.period = rest
            elif slot.label is None and not _is_period(rest):
                slot.label = rest
        ranges = [m for m in matches if m.end is not None]
        chosen: TimeMatch | None = ranges[0] if ranges else (matches[0] if matches else None)
        if chosen is None:
            continue
        settled = school_day_range(chosen, reference=reference)
        slot.start, slot.end = settled.start, settled.end
        if not ranges and len(matches) >= 2:
            second = school_day_range(matches[1], reference=settled.start)
            slot.end = second.start
        slot.start_only = slot.end is None
        reference = slot.start
    # Start-only slots end where the next one starts; the last keeps no end.
    for a, b in itertools.pairwise(slots):
        if a.end is None and a.start is not None and b.start is not None and b.start >= a.start:
            a.end = b.start


# --- the reader ----------------------------------------------------------------------------------


def read_page(page: Page, *, language: str | None, nominal: bool = False) -> tuple[list[StreamBlock], list[str]]:
    """Blocks of one page. ``nominal``: the page comes from an office format, whose readers place each
    cell's lines from the top of its row on a nominal grid (so cells are start-aligned on both axes)."""
    phrases = build_phrases(page.words)
    axes = find_day_axes(phrases, language)
    warnings: list[str] = []
    inferred = False
    if not axes:
        guessed = infer_day_columns(phrases)
        if guessed is None:
            return [], []
        phrases = [*phrases, *(p for p, _ in guessed.labels)]
        axes = [guessed]
        inferred = True
        warnings.append(
            f"page {page.number}: no day names found; the {len(guessed.labels)} columns beside the times "
            "are read as consecutive days from Monday"
        )
    blocks: list[StreamBlock] = []
    h = _median([p.height for p in phrases])
    used_days = {id(p) for axis in axes for p, _ in axis.labels}
    others = [p for p in phrases if id(p) not in used_days]
    if nominal:
        others = _split_at_columns(others, _column_starts(axes, others))
    for index, axis in enumerate(axes):
        next_axis = axes[index + 1] if index + 1 < len(axes) else None
        previous_bottom = max(p.bottom for p, _ in axes[index - 1].labels) if index else 0.0
        section = _read_section(page, axis, next_axis, others, phrases, h, language, nominal, previous_bottom)
        if inferred:
            for b in section:
                b.confidence -= PENALTY_GUESSED_DAYS
        blocks.extend(section)
    return blocks, warnings


def infer_day_columns(phrases: list[Phrase]) -> DayAxis | None:
    """Days as columns when the day names did not come through (a dark header row lost by OCR).

    Needs a column of at least three time ranges and five to seven columns of text beside it,
    evenly spaced; the columns are then read as MON, TUE, ... in order, with a warning.
    """
    timed = [p for p in phrases if any(m.end is not None for m in find_times(p.text))]
    if len(timed) < 3:
        return None
    lanes = _groups(timed, by_row=False)
    lane = max(lanes, key=len)
    if len(lane) < 3:
        return None
    lane_x1 = max(p.x1 for p in lane)
    top = min(p.top for p in lane)
    bottom = max(p.bottom for p in lane)
    h = _median([p.height for p in lane])
    body = [p for p in phrases if p.x0 > lane_x1 + h and top - 2 * h <= p.yc <= bottom + 4 * h]
    if len(body) < 10:
        return None
    centres = sorted(p.xc for p in body)
    columns: list[list[float]] = [[centres[0]]]
    for x in centres[1:]:
        if x - columns[-1][-1] > 3 * h:
            columns.append([x])
        else:
            columns[-1].append(x)
    # Columns with a little text only (a centred 'BREAK' row) are not columns of their own.
    columns = [c for c in columns if len(c) >= 3]
    if not 5 <= len(columns) <= 7:
        return None
    mids = [statistics.median(c) for c in columns]
    pitches = [b - a for a, b in itertools.pairwise(mids)]
    if max(pitches) > 1.35 * min(pitches):
        return None
    labels: list[tuple[Phrase, Day]] = []
    header_top = top - 3 * h
    for x, day in zip(mids, ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"), strict=False):
        word = Word(day, BBox(x - h, header_top, x + h, header_top + h))
        labels.append((_phrase([word]), day))
    return DayAxis(vertical_days=False, labels=labels)


def _column_starts(axes: list[DayAxis], phrases: list[Phrase]) -> list[float]:
    """Where columns start on a nominal grid: the day names (days across) or the time labels (days down)."""
    starts = {round(p.x0, 1) for axis in axes if not axis.vertical_days for p, _ in axis.labels}
    if any(axis.vertical_days for axis in axes):
        starts |= {round(p.x0, 1) for p in phrases if find_times(p.text) or _is_period(p.text)}
    return sorted(starts)


def _split_at_columns(phrases: list[Phrase], starts: list[float]) -> list[Phrase]:
    """Office readers estimate word widths, so text of neighbouring cells can run together into one
    phrase ('Religious Studies French'); a word that begins exactly at a column start begins a new one."""
    if not starts:
        return phrases
    out: list[Phrase] = []
    for p in phrases:
        current: list[Word] = []
        for w in p.words:
            if current and any(abs(w.bbox.x0 - x) < 1.0 for x in starts):
                out.append(_phrase(current))
                current = []
            current.append(w)
        out.append(_phrase(current) if len(current) != len(p.words) else p)
    return out


def _week_for(axis: DayAxis, phrases: list[Phrase], previous_bottom: float) -> str | None:
    header_top = min(p.top for p, _ in axis.labels)
    for p in sorted(phrases, key=lambda p: -p.top):
        if previous_bottom <= p.bottom <= header_top + 0.5 * p.height:
            m = WEEK_MARK.search(p.text)
            if m:
                return m.group("label").upper()
    return None


def _read_section(
    page: Page,
    axis: DayAxis,
    next_axis: DayAxis | None,
    others: list[Phrase],
    all_phrases: list[Phrase],
    h: float,
    language: str | None,
    nominal: bool,
    previous_bottom: float = 0.0,
) -> list[StreamBlock]:
    vertical = axis.vertical_days
    day_items = [(_item(p, vertical), d) for p, d in axis.labels]
    day_items.sort(key=lambda t: t[0].v0)
    header_u1 = max(it.u1 for it, _ in day_items)
    first_v0 = min(it.v0 for it, _ in day_items)
    # Section limits: a stacked second week starts at its own header (below, for days across; at its
    # first day row, for days down).
    next_top = min(p.top for p, _ in next_axis.labels) - 0.5 * h if next_axis is not None else float("inf")
    limit_u = next_top if not vertical else float("inf")
    limit_v = next_top if vertical else float("inf")
    items = [_item(p, vertical) for p in others]
    if vertical:
        # Days as rows: the stacked sections share no anchors; keep this section's rows only.
        items = [it for it in items if it.v1 <= limit_v + h]
    items = [it for it in items if it.u0 > header_u1 - 0.3 * it.h and it.u1 < limit_u + it.h]

    # Slot labels: before the first day band along v, carrying a time or a period label. The first
    # band starts half a day pitch before the first label's centre (its start, on a nominal grid),
    # since centred day names sit over left-aligned contents.
    day_pitch = _median([b[0].vc - a[0].vc for a, b in itertools.pairwise(day_items)], 8 * h)
    first_lo = first_v0 - 0.4 * h if nominal else min(first_v0 - 0.1 * h, day_items[0][0].vc - day_pitch / 2)
    margin_lo = first_lo - 3.5 * day_pitch if not vertical else float("-inf")
    label_items = [
        it for it in items
        if it.v1 <= first_lo + 0.5 * it.h and it.v0 >= margin_lo and any(_anchor_kind(it.text))
    ]
    if not label_items:
        return []
    slots = _group_anchors(label_items)
    # Other text in the label lane between labels ('Break' in the time column) joins the nearest slot.
    label_ids = {id(i) for i in label_items}
    lane_lo = min(i.v0 for i in label_items)
    lane_hi = max(i.v1 for i in label_items)
    for it in items:
        if id(it) in label_ids or it.v0 < lane_lo - 0.3 * it.h or it.v1 > min(lane_hi + 0.3 * it.h, first_lo + 0.5 * it.h):
            continue
        if it.u0 < slots[0].u0 - it.h or it.u1 > slots[-1].u1 + 3 * it.h:
            continue
        nearest = min(slots, key=lambda s: abs(s.uc - it.uc))
        if it.u0 < nearest.u1 + 0.5 * it.h and it.u1 > nearest.u0 - 0.5 * it.h:
            nearest.items.append(it)
            label_ids.add(id(it))
    slots.sort(key=lambda s: s.u0)
    _read_slot_times(slots)

    labels_end = max(i.v1 for i in label_items)
    content = [
        it for it in items
        if id(it) not in label_ids and it.v0 >= min(first_lo, labels_end) - 0.2 * it.h and it.v1 > labels_end
    ]
    content = [it for it in content if it.text.strip().casefold() not in _BLANK]
    if not content:
        return []

    # Bands along u (slots) and v (days).
    u_start = nominal or _start_aligned([(s.u0, s.u1) for s in slots], content, "u", h)
    slot_bands = _bands([(s.u0, s.u1) for s in slots], u_start, h, limit_u)
    for s, (lo, hi) in zip(slots, slot_bands, strict=True):
        s.lo, s.hi = lo, hi
    v_start = nominal or _start_aligned([(it.v0, it.v1) for it, _ in day_items], content, "v", h)
    day_bands_raw = _bands([(it.v0, it.v1) for it, _ in day_items], v_start, h, limit_v)
    days = [DayBand(day=d, item=it, lo=lo, hi=hi) for (it, d), (lo, hi) in zip(day_items, day_bands_raw, strict=True)]

    u_lo, u_hi = slots[0].lo, slots[-1].hi
    by_day: list[list[Item]] = [[] for _ in days]
    for it in content:
        if it.uc < u_lo or it.uc > u_hi:
            continue
        key = it.v0 + 0.3 * it.h if v_start else it.vc
        for j, band in enumerate(days):
            if band.lo <= key < band.hi:
                by_day[j].append(it)
                break

    # Lines of a cell stack along the time axis only when days run across.
    pitch = None if vertical else _line_pitch(by_day, h)
    slot_pitch = _median([b.uc - a.uc for a, b in itertools.pairwise(slots)], 0.0)
    if pitch is not None and pitch > 0.6 * slot_pitch:
        pitch = None  # one line per cell: the step down is the row pitch, not a line pitch
    clusters: list[Cluster] = []
    for j, day_items_j in enumerate(by_day):
        clusters.extend(_clusters_for_day(j, day_items_j, slots, u_start, pitch))
    _spread_full_rows(clusters, days, slots)
    week = _week_for(axis, all_phrases, previous_bottom)
    return _blocks(clusters, days, slots, page.number, week)


def _line_pitch(by_day: list[list[Item]], h: float) -> float | None:
    """Distance between the centres of two lines of one cell on this page (the lower quartile of the
    distances between consecutive lines down each day), or None with too few lines to tell."""
    steps: list[float] = []
    for items in by_day:
        centres = sorted(i.uc for i in items)
        steps.extend(b - a for a, b in itertools.pairwise(centres) if b - a > 0.5 * h)
    if len(steps) < 6:
        return None
    steps.sort()
    return steps[len(steps) // 4]


def _clusters_for_day(
    day_index: int, items: list[Item], slots: list[SlotAnchor], u_start: bool, pitch: float | None
) -> list[Cluster]:
    if not items:
        return []
    items = sorted(items, key=lambda i: (i.u0, i.v0))
    out: list[Cluster] = []
    if u_start:
        by_slot: dict[int, list[Item]] = {}
        for it in items:
            key = it.u0 + 0.3 * it.h
            for k, s in enumerate(slots):
                if s.lo <= key < s.hi:
                    by_slot.setdefault(k, []).append(it)
                    break
        for k, group in sorted(by_slot.items()):
            out.append(Cluster(items=group, day_index=day_index, slots=(k, k)))
        return out
    groups: list[list[Item]] = []
    for it in items:
        # Next line of the same cell: close (under 0.6 text heights apart), or one line pitch on
        # (OCR boxes vary in height, so the gap alone misleads).
        if groups and (
            it.u0 - max(g.u1 for g in groups[-1]) < 0.6 * it.h
            or (pitch is not None and it.uc - groups[-1][-1].uc <= 1.3 * pitch)
        ):
            groups[-1].append(it)
        else:
            groups.append([it])
    claimed: dict[int, int] = {}
    for gi, g in enumerate(groups):
        c = Cluster(items=g, day_index=day_index)
        nearest = min(range(len(slots)), key=lambda k: abs((slots[k].lo + slots[k].hi) / 2 - c.uc))
        claimed.setdefault(nearest, gi)
        out.append(c)
    for gi, c in enumerate(out):
        nearest = min(range(len(slots)), key=lambda k: abs((slots[k].lo + slots[k].hi) / 2 - c.uc))
        best = (nearest, nearest)
        best_score = abs((slots[nearest].lo + slots[nearest].hi) / 2 - c.uc)
        margin = 0.25 * (slots[nearest].hi - slots[nearest].lo)
        runs = [
            (a, b)
            for a in range(max(0, nearest - 3), nearest + 1)
            for b in range(nearest, min(len(slots), a + 4))
            if a != b
        ]
        # Shorter runs first: a longer span must be clearly better centred than the best so far.
        for a, b in sorted(runs, key=lambda r: r[1] - r[0]):
            if any(claimed.get(k, gi) != gi for k in range(a, b + 1)):
                continue
            score = abs((slots[a].lo + slots[b].hi) / 2 - c.uc)
            if score < best_score - margin:
                best, best_score = (a, b), score
        c.slots = best
        c.spanned = best[0] != best[1]
    return out


def _spread_full_rows(clusters: list[Cluster], days: list[DayBand], slots: list[SlotAnchor]) -> None:
    """A row printed once across all days (Break, Lunch) or spelt one letter per day (B R E A K)."""
    if len(days) < 2:
        return
    for k in range(len(slots)):
        in_slot = [c for c in clusters if c.slots[0] <= k <= c.slots[1]]
        starting = [c for c in in_slot if c.slots[0] == k]
        if len(in_slot) == 1 and len(starting) == 1:
            only = starting[0]
            v_extent = max(i.v1 for i in only.items) - min(i.v0 for i in only.items)
            day_pitch = (days[-1].hi - days[0].lo) / len(days)
            if classify_kind(only.text) in ("break", "other") or v_extent > 1.5 * day_pitch:
                for j in range(len(days)):
                    if j == only.day_index:
                        continue
                    clusters.append(
                        Cluster(items=only.items, day_index=j, slots=only.slots, replicated=True, spanned=only.spanned)
                    )
                only.replicated = True
            continue
        letters = [c for c in starting if _is_letter(c.text.strip())]
        symbols = [c for c in starting if not any(ch.isalnum() for ch in c.text)]
        # One letter per day spelling a word down the days (B R E A K); a day may lack its letter
        # (a picture in its place), but then the word must be one a timetable uses for such rows.
        if len(letters) >= 3 and len(letters) + len(symbols) == len(starting) and len(letters) >= len(days) - 1:
            word = "".join(c.text.strip() for c in sorted(letters, key=lambda c: c.day_index))
            if len(letters) < len(days) and classify_kind(word) == "lesson":
                continue
            name = word.capitalize() if word.isupper() else word
            for c in letters:
                c.text_override = name
                c.replicated = True
            for c in symbols:
                clusters.remove(c)
            covered = {c.day_index for c in letters}
            template = letters[0]
            for j in range(len(days)):
                if j not in covered:
                    clusters.append(
                        Cluster(items=template.items, day_index=j, slots=template.slots, text_override=name,
                                replicated=True)
                    )


def _lines(cluster: Cluster) -> tuple[list[str], list[str | None]]:
    """The cluster's phrases back in reading order, one text line per printed line."""
    phrases = sorted((i.phrase for i in cluster.items), key=lambda p: (p.top, p.x0))
    lines: list[list[Phrase]] = []
    for p in phrases:
        if lines and abs(lines[-1][0].yc - p.yc) < 0.5 * p.height:
            lines[-1].append(p)
        else:
            lines.append([p])
    texts = [" ".join(q.text for q in sorted(line, key=lambda q: q.x0)) for line in lines]
    styles = [line[0].style for line in lines]
    return texts, styles


def _blocks(
    clusters: list[Cluster], days: list[DayBand], slots: list[SlotAnchor], page: int, week: str | None
) -> list[StreamBlock]:
    out: list[StreamBlock] = []
    for c in clusters:
        a, b = c.slots
        first, last = slots[a], slots[b]
        lines, styles = _lines(c)
        confidence = BASE_CONFIDENCE
        if first.start is None:
            confidence -= PENALTY_NO_SLOT_TIME
        if c.spanned:
            confidence -= PENALTY_SPAN
        if c.replicated:
            confidence -= PENALTY_REPLICATED
        parts = [(lines, styles)] if c.text_override is not None else _split_on_times(lines, styles)
        timed: list[tuple[Clock | None, Clock | None, list[str], list[str | None]]] = []
        for part_lines, part_styles in parts:
            start, end = first.start, last.end
            # A time printed in the cell overrides the labels ('1.15-3PM', '2.50 KS2 Assembly').
            inner = [m for line in part_lines for m in find_times(line)] if c.text_override is None else []
            if inner:
                m = school_day_range(inner[0], reference=None)
                start = m.start
                end = m.end if m.end is not None else end
            timed.append((start, end, part_lines, part_styles))
        # Two lessons in one cell, each with its start: the first ends where the second starts.
        for i in range(len(timed) - 1):
            s0, e0, l0, st0 = timed[i]
            s1 = timed[i + 1][0]
            if s1 is not None and (e0 is None or (s0 is not None and e0 > s1 > s0)):
                timed[i] = (s0, s1, l0, st0)
        for start, end, part_lines, part_styles in timed:
            out.append(
                StreamBlock(
                    day=days[c.day_index].day,
                    start=start,
                    end=end,
                    period=first.period,
                    lines=part_lines,
                    styles=part_styles,
                    page=page,
                    week=week,
                    subject=c.text_override,
                    confidence=confidence,
                )
            )
    return out


def _split_on_times(lines: list[str], styles: list[str | None]) -> list[tuple[list[str], list[str | None]]]:
    """A cell holding two lessons, each line group opening with its own time ('14:15-14:35 PE' ...)."""
    parts: list[tuple[list[str], list[str | None]]] = []
    for line, style in zip(lines, styles, strict=True):
        opens = find_times(line)
        if parts and opens and opens[0].span[0] <= 1 and any(find_times(x) for x in parts[-1][0]):
            parts.append(([line], [style]))
        elif parts:
            parts[-1][0].append(line)
            parts[-1][1].append(style)
        else:
            parts.append(([line], [style]))
    return parts


# --- list-style pages ------------------------------------------------------------------------------


# A list number: '1.', '1)', or a bare '1' before the item's time.
_LIST_NUMBER = re.compile(r"^\s*(?P<num>\d{1,2})(?:[.)]\s+|\s+(?=\d{1,2}[:.h]\d\d))")
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
        m_num = _LIST_NUMBER.match(text)
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


# --- document --------------------------------------------------------------------------------------


def read_text_stream(layout: Layout, *, language: str | None = None) -> Timetable:
    """The timetable this reader sees in ``layout``'s words; empty (with a warning) when it sees none."""
    texts = [*layout.paragraphs, *(w.text for p in layout.pages for w in p.words)]
    language = language or (layout.languages[0] if layout.languages else detect_language(texts))
    blocks: list[StreamBlock] = []
    warnings: list[str] = []
    nominal = not (layout.media_type == "application/pdf" or layout.media_type.startswith("image/"))
    list_text: list[tuple[str, int]] = []
    for page in layout.pages:
        found, page_warnings = read_page(page, language=language, nominal=nominal)
        records, surely = read_records_page(page, language=language)
        # A records page read as a grid gives a scatter of blocks; a grid read as records gives one
        # block per printed line, far fewer than its cells.
        if records and (surely or len(records) >= 0.8 * len(found)):
            found, page_warnings = records, []
        list_text.extend(list_lines(page))
        blocks.extend(found)
        warnings.extend(page_warnings)
    # A list (day headings, one timed line per block) may run over pages; it wins where it reads more.
    listed = _list_blocks(list_text, language) if list_text else []
    if len(listed) > len(blocks):
        blocks, warnings = listed, []
    _settle_weeks(blocks, layout.paragraphs)
    title, owner = _title_owner(layout)
    entries = _entries(blocks, owner, language)
    if not entries:
        warnings.append("text stream: no day names lined up with times or periods")
    return Timetable(title=title, owner=owner, entries=entries, warnings=warnings)


def _settle_weeks(blocks: list[StreamBlock], paragraphs: Sequence[str]) -> None:
    """Blocks of an A/B timetable whose week marker was not among the words (a heading kept only as a
    paragraph, say) take the other week of the pair, or the one marker the paragraphs print."""
    weeks = {b.week for b in blocks}
    if weeks == {None, "A"} or weeks == {None, "B"}:
        other = "B" if "A" in weeks else "A"
        for b in blocks:
            if b.week is None:
                b.week = other
    elif weeks == {None}:
        marks = {m.group("label").upper() for text in paragraphs for m in WEEK_MARK.finditer(text)}
        if len(marks) == 1:
            week = marks.pop()
            for b in blocks:
                b.week = week


def _title_owner(layout: Layout) -> tuple[str | None, Owner | None]:
    from timetable_platform.reading.interpret import find_owner, find_title, heading_lines

    lines = heading_lines(layout)
    title = find_title(lines) if lines else None
    return title, find_owner(title, lines)


def _entries(blocks: list[StreamBlock], owner: Owner | None, language: str | None) -> list[Entry]:
    if not blocks:
        return []
    splitter = CellSplitter.fit(
        [b.lines for b in blocks if b.subject is None], owner_kind=owner.kind if owner else None, language=language
    )
    out: list[Entry] = []
    seen: set[tuple[object, ...]] = set()
    for b in blocks:
        if b.subject is not None:
            subject, teacher, room, group, notes, kind = b.subject, None, None, None, None, classify_kind(b.subject)
        else:
            f = splitter.split(b.lines, styles=b.styles)
            subject, teacher, room, group, notes, kind = f.subject, f.teacher, f.room, f.group, f.notes, f.kind
        if not subject or subject.strip().casefold() in _BLANK:
            continue
        key = (b.week, b.day, b.start, b.end, b.period, subject)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Entry(
                day=b.day,
                start=b.start.hhmm() if b.start else None,
                end=b.end.hhmm() if b.end else None,
                period=b.period,
                kind=kind,
                subject=subject,
                teacher=teacher,
                room=room,
                group=group,
                week=b.week,
                notes=notes,
                confidence=round(max(0.0, min(1.0, b.confidence)), 3),
                page=b.page,
            )
        )
    return out
