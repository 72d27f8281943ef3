"""The word-stream grid reader: a page's phrases placed between its day names and time labels.

It ignores the table cells a layout reader found: it finds the day names that line up along a row
or a column, the time (or period) labels beside them, and places every other phrase by its
position between those anchors. Grids are read in canonical coordinates: ``u`` runs along the time
axis, ``v`` along the day axis, so days-as-columns and days-as-rows share one code path.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

from timetable_platform.domain.layout import BBox, Page, Word
from timetable_platform.domain.model import Day
from timetable_platform.domain.times import Clock, TimeMatch, find_times, school_day_range, strip_times
from timetable_platform.reading.cells import classify_kind
from timetable_platform.reading.textstream.phrases import (
    _BLANK,
    BASE_CONFIDENCE,
    WEEK_MARK,
    DayAxis,
    Phrase,
    StreamBlock,
    _groups,
    _is_letter,
    _is_period,
    _median,
    _phrase,
    build_phrases,
    find_day_axes,
)

# What a block's confidence loses for each guess its reading needed.
PENALTY_NO_SLOT_TIME = 0.15
PENALTY_SPAN = 0.1
PENALTY_REPLICATED = 0.05
PENALTY_GUESSED_DAYS = 0.2


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


# --- canonical coordinates -----------------------------------------------------------------------


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


# --- slots ---------------------------------------------------------------------------------------


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
