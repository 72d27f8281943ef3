"""Day × time grids: find the day axis and the time axis (either orientation) and read every block.

The table is first turned so that days run along a header row (days as columns); a table printed with
days as rows is transposed. Rows below the header are then grouped into *slots* by the label cells
beside the day columns (period label and/or time). Each body cell gives one block per day it covers,
with the combined time range of the slots it covers; a time printed in the cell overrides the header.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from timetable_platform.domain.days import (
    LANGUAGES,
    day_candidates,
    full_names,
    join_spaced_letters,
    resolve_day_sequence,
    short_names,
)
from timetable_platform.domain.layout import Cell, Line, Table
from timetable_platform.domain.model import Day
from timetable_platform.domain.text import fold
from timetable_platform.domain.times import (
    Clock,
    TimeMatch,
    find_times,
    school_day,
    school_day_range,
    strip_times,
    with_lost_separators,
)
from timetable_platform.reading.cells import classify_kind, is_code, is_room, is_teacher_name, names_batch
from timetable_platform.reading.plausibility import too_few_letters
from timetable_platform.reading.vocabulary import field_label_role

# A week marker: 'Week A', 'Woche B', 'Semaine A', 'Semana B', 'Settimana A', 'Week 1' (digits only in sections).
WEEK_RE = re.compile(
    r"^\s*(?:week|woche|semaine|semana|settimana|wk)\s*[:.]?\s*(?P<label>[AB12])\b\s*$", re.IGNORECASE
)
_WEEK_IN_TEXT_RE = re.compile(
    r"\b(?:week|woche|semaine|semana|settimana)\s*[:.]?\s*(?P<label>[AB])\b", re.IGNORECASE
)
_EMPTY_MARKS = {"", "-", "–", "—", "/", "x", "n/a", "·", "."}

# Confidence penalties (a first heuristic; the merge calibrates the final figure).
PENALTY_GUESSED_BOUNDARY = 0.1  # a cell edge falls inside a header slot
PENALTY_NO_TIME = 0.15  # the grid has times but this block got none
PENALTY_NEIGHBOUR_TIME = 0.05
# How much earlier than its header slot a time printed in a cell may start ('1.15-3PM' under 1.40-2.30).
_CELL_TIME_LEEWAY = 75  # a boundary taken from a neighbour's printed time


@dataclass
class Block:
    """One block on one day, before its text is split into fields."""

    day: Day
    start: Clock | None
    end: Clock | None
    period: str | None
    lines: list[str]
    styles: list[str | None] = field(default_factory=list)
    week: str | None = None
    page: int | None = None
    confidence: float = 1.0
    # Set when the block's name is not in its own cell (letters spelt one per day, B-R-E-A-K).
    subject: str | None = None
    notes: list[str] = field(default_factory=list)
    printed_start: bool = False
    printed_end: bool = False
    # The cell edge falls inside a header slot, so the boundary is a guess a neighbour's printed time beats.
    start_guessed: bool = False
    end_guessed: bool = False
    # Grid rows (canonical orientation) the block covers, to find its neighbours.
    row_start: int = 0
    row_end: int = 0
    lane: int = 0
    # Fields printed in lines of their own beside the lesson (a room column after each day, a row of
    # rooms above the periods it serves): role -> text, taken as printed.
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class Slot:
    """A run of grid rows sharing the same label cells: one time block of the header axis."""

    row_start: int
    row_end: int  # exclusive
    start: Clock | None = None
    end: Clock | None = None
    period: str | None = None
    start_only: bool = False
    # Where the slot's own rows end and the sub-rows ruled off by taller boxes begin (None: no sub-rows).
    sub_rows_from: int | None = None
    # A named activity printed in the label instead of a period ('Snack time'): it applies to every
    # day whose own cell in this slot is empty.
    activity: str | None = None
    # A line of rooms (teachers, groups) rather than of lessons: its label names the field.
    field_role: str | None = None
    # Its times were not read but inferred from its neighbours'.
    inferred: bool = False
    # Its label printed one time, right of the label's centre: where a centred range prints its end.
    lone_time_right: bool = False


@dataclass
class GridReading:
    blocks: list[Block]
    # Title-like text printed inside the table (a full-width row above the header).
    title_lines: list[str] = field(default_factory=list)
    has_times: bool = False
    warnings: list[str] = field(default_factory=list)


_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


def note_style(style: str | None) -> str | None:
    """The part of a style that marks a note: italics or a strong colour (red, blue...).

    Weight and grey shades only set names apart from codes ('Maths' bold, 'OKA · R1' grey), so they
    are dropped; what remains is compared between a cell's lines by the splitter.
    """
    if not style:
        return None
    marks: list[str] = []
    if "italic" in style.casefold():
        marks.append("italic")
    colour = _HEX.search(style)
    if colour:
        rgb = [int(colour.group(1)[i : i + 2], 16) for i in (0, 2, 4)]
        if max(rgb) - min(rgb) > 90:
            marks.append(colour.group(0).lower())
    return " ".join(marks) or None


# A line whose print is this many times smaller than the name's line is small print (a name of capitals
# and tall letters with none below the line, 'Deutsch', stands about 1.5 times as tall as the codes).
SMALL_PRINT_RATIO = 1.45


# How far down a cell its name may sit under corner codes, in lines.
NAME_LINE_REACH = 3


def cell_text_lines(cell: Cell) -> tuple[list[str], list[str | None]]:
    """A cell's text lines with one style per line (the first word's), letters spelt one per line joined.

    A line in print much smaller than the name's is styled ``small``: timetable exports print a lesson's
    name large and its class, room and teacher codes small in the cell's corners, and small print is
    never more of the name."""
    if cell.lines:
        lines = [ln.text for ln in cell.lines]
        styles: list[str | None] = [note_style(ln.words[0].style) if ln.words else None for ln in cell.lines]
        heights = [_print_height(ln) for ln in cell.lines]
        # The name is the first line, or the largest print under small codes in the corner above it
        # (a room, and a batch label beside it that OCR reads as a line of its own).
        name = 0
        for index in range(1, min(len(heights), NAME_LINE_REACH)):
            if heights[index] and heights[name] and heights[index] > heights[name]:
                name = index
        reference = heights[name]
        for index, height in enumerate(heights):
            if index != name and reference and height and reference >= SMALL_PRINT_RATIO * height:
                styles[index] = f"{styles[index]} small" if styles[index] else "small"
    else:
        lines = cell.text.splitlines()
        styles = [None] * len(lines)
    pairs = [(t.strip(), s) for t, s in zip(lines, styles, strict=True) if t.strip()]
    if len(pairs) >= 2 and all(len(t) == 1 and t.isalpha() for t, _ in pairs):
        return ["".join(t for t, _ in pairs)], [pairs[0][1]]
    return [t for t, _ in pairs], [s for _, s in pairs]


def _print_height(line: Line) -> float | None:
    heights = sorted(w.bbox.height for w in line.words)
    return heights[len(heights) // 2] if heights else None


def is_blank(text: str) -> bool:
    stripped = text.strip().casefold()
    return stripped in _EMPTY_MARKS or bool(re.fullmatch(r"[-–—_.·/x*]+", stripped))


def _distinct(cells: list[Cell | None]) -> list[tuple[int, Cell]]:
    """First index of each distinct cell along a row or column."""
    seen: set[int] = set()
    out: list[tuple[int, Cell]] = []
    for i, c in enumerate(cells):
        if c is not None and id(c) not in seen:
            seen.add(id(c))
            out.append((i, c))
    return out


def transpose(table: Table) -> Table:
    cells = [
        Cell(
            row=c.col,
            col=c.row,
            text=c.text,
            rowspan=c.colspan,
            colspan=c.rowspan,
            bbox=c.bbox,
            lines=c.lines,
            confidence=c.confidence,
            background=c.background,
        )
        for c in table.cells
    ]
    return Table(
        n_rows=table.n_cols, n_cols=table.n_rows, cells=cells, bbox=table.bbox, caption=table.caption
    )


def _day_label(text: str) -> str:
    return join_spaced_letters(text.strip())


_DAY_INDEX = {d: i for i, d in enumerate(("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"))}


@lru_cache(maxsize=8192)
def _may_name_day(text: str, language: str | None) -> bool:
    label = _day_label(text)
    if not label or len(label) > 24:
        return False
    return bool(day_candidates(label, language) or (language and day_candidates(label, None)))


def _line_language(labels: list[str], language: str | None) -> str | None:
    """The one language a line's day labels are read in: the one that reads most of them (the document's
    own on a tie). Read together, 'Tu' and 'PE' are no day pair: no language has both."""
    counts: dict[str, int] = {}
    for label in labels:
        if label:
            for lang in day_candidates(label, None):
                counts[lang] = counts.get(lang, 0) + 1
    if not counts:
        return language
    best = max(counts.values())
    if language is not None and counts.get(language, 0) == best:
        return language
    return next(lang for lang in LANGUAGES if counts.get(lang) == best)


def _axis_language(m: list[list[Cell | None]], language: str | None) -> str | None:
    """The language of the table's day axis (its fullest header row): later header rows are read in it,
    so a subject that happens to be a day's abbreviation in another language opens no new section."""
    best: tuple[int, str | None] = (0, language)
    for row in m:
        distinct = _distinct(row)
        labels = [_day_label(c.text) if _may_name_day(c.text, language) else "" for _, c in distinct]
        if sum(1 for label in labels if label) <= best[0]:
            continue
        lang = _line_language(labels, language)
        count = _day_count(_line_days(row, lang))
        if count > best[0]:
            best = (count, lang)
    return best[1]


def _line_days(cells: list[Cell | None], language: str | None, *, strict: bool = False) -> dict[int, Day]:
    """Days named along one row/column: distinct cell -> day, keyed by the cell's first index."""
    distinct = _distinct(cells)
    labels = [_day_label(c.text) if _may_name_day(c.text, language) else "" for _, c in distinct]
    if not any(labels):
        return {}
    # The same lone letter repeated beside day names ('Lun. | S | Mar. | S', S for sala) labels a column
    # printed after each day, not a day: days do not repeat within one week's header.
    letters = [label.strip(" .").casefold() for label in labels if len(label.strip(" .")) == 1]
    longer = sum(1 for label in labels if len(label.strip(" .")) >= 2)
    if longer >= 2 and len(letters) >= 2 and len(set(letters)) == 1:
        labels = [label if len(label.strip(" .")) >= 2 else "" for label in labels]
    if not (strict and language):
        language = _line_language(labels, language)
    labels = [label if label and day_candidates(label, language) else "" for label in labels]
    days = resolve_day_sequence(labels, language)
    if sum(d is not None for d in days) >= 2:
        # A misread name among real ones ('Fric' for 'Friday'): its first three letters, if they continue the row.
        for i, (_, cell) in enumerate(distinct):
            text = cell.text.strip()
            if days[i] is not None or not text.isalpha() or len(text) < 4:
                continue
            prefix = text[:3]
            if not _may_name_day(prefix, language):
                continue
            guess = resolve_day_sequence([*(d or "" for d in days[:i]), prefix], language)[-1]
            before = next((d for d in reversed(days[:i]) if d is not None), None)
            if guess is not None and before is not None and _DAY_INDEX[guess] == _DAY_INDEX[before] + 1:
                days[i] = guess
        texts = [cell.text for _, cell in distinct]
        _fill_misread_gaps(days, texts)
        _fill_misspelt_names(days, texts, language)
        _fill_misread_gaps(days, texts)  # a garbled name just placed may close a gap
    return {i: d for (i, _), d in zip(distinct, days, strict=True) if d is not None}


_DAY_ORDER: tuple[Day, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _fill_misspelt_names(days: list[Day | None], texts: list[str], language: str | None) -> None:
    """A full day name OCR garbled ('Dinsdaú', 'Niaanda' on a shaded header band) beside days that were
    read: the day its neighbours call for, when the label is still recognisably that day's name.
    The order settles which day is meant; the spelling only has to be close to it. Letters stacked
    one per line with one garbled may name the day two places from one read."""
    if language is None or sum(d is not None for d in days) < 2:
        return
    names = full_names(language)
    short = short_names(language)
    changed = True
    while changed:
        changed = False
        for i, day in enumerate(days):
            if day is not None:
                continue
            word = fold(texts[i]).strip(" .:")
            stacked = _stacked_letters(texts[i])
            if stacked is None and not word.isalpha() and _wrapped_name(word):
                # A name wrapped over two lines, its hyphen misread ('Quarta: / feira', 'Segund / feira').
                word = re.sub(r"[\W_]+", "", word)
            if stacked is None and (len(word) < 4 or not word.isalpha()):
                continue
            expected = _expected_day(days, i, reach=2 if stacked is not None else 1)
            if expected is None or expected in days:
                continue
            if stacked is not None:
                close = any(_letters_match(stacked, name) for name in short[_DAY_INDEX[expected]])
            else:
                # A garbled name keeps about its length; a label naming two days ('Tuesday / Wednesday') is longer.
                candidates = names[_DAY_INDEX[expected]]
                close = len(word) <= max(len(n) for n in candidates) + 2 and max(
                    difflib.SequenceMatcher(None, word, n).ratio() for n in candidates
                ) >= 0.66
            if close:
                days[i] = expected
                changed = True


def _wrapped_name(text: str) -> bool:
    """Whether a label is words of letters over two lines or split by a hyphen or a colon, nothing else."""
    return re.fullmatch(r"[^\W\d_]+[-:.]?\s*\n?\s*[-:.]?[^\W\d_]+", text.strip()) is not None


def _expected_day(days: list[Day | None], i: int, *, reach: int) -> Day | None:
    """The day place ``i`` holds if the line runs on without a gap from the nearest day read, up to
    ``reach`` places away (a second garbled label may lie between)."""
    for k in range(1, reach + 1):
        after = days[i + k] if i + k < len(days) else None
        if after is not None and all(d is None for d in days[i + 1 : i + k]):
            return _DAY_ORDER[_DAY_INDEX[after] - k] if _DAY_INDEX[after] >= k else None
        before = days[i - k] if i - k >= 0 else None
        if before is not None and all(d is None for d in days[i - k + 1 : i]):
            return _DAY_ORDER[_DAY_INDEX[before] + k] if _DAY_INDEX[before] + k < len(_DAY_ORDER) else None
    return None


def _stacked_letters(text: str) -> list[str] | None:
    """The lines of a day label printed one letter per line ('M' / 'O' / 'N'), folded, when it is
    one: three lines or more, each a letter or a short smudge OCR made of one."""
    lines = [fold(line).strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 3 or any(len(line) > 3 for line in lines) or sum(len(line) == 1 for line in lines) < 2:
        return None
    return lines


def _letters_match(lines: list[str], name: str) -> bool:
    """Stacked letters spell ``name`` but for one line OCR garbled ('M' / 'fe)' / 'N' for MON): as many
    lines as letters, the first and the last right."""
    if len(lines) != len(name) or len(name) < 3:
        return False
    right = sum(1 for line, letter in zip(lines, name, strict=True) if line[:1] == letter)
    return lines[0][:1] == name[0] and lines[-1][:1] == name[-1] and right >= len(name) - 1


def _fill_misread_gaps(days: list[Day | None], texts: list[str]) -> None:
    """A label OCR misread ('Oi' for 'Di') between two days one apart from it ('Ma', ?, 'Wo') names
    the day between: a header does not skip a weekday and print something else in its place. Only
    short wordlike labels are taken (a room or notes column beside each day holds no such gap)."""
    if sum(d is not None for d in days) < 3:
        return
    for i in range(1, len(days) - 1):
        before, after = days[i - 1], days[i + 1]
        if days[i] is not None or before is None or after is None:
            continue
        text = texts[i].strip()
        if not (1 <= len(text) <= 12) or any(ch.isdigit() for ch in text) or not any(ch.isalpha() for ch in text):
            continue
        if _DAY_INDEX[after] - _DAY_INDEX[before] == 2:
            days[i] = _DAY_ORDER[_DAY_INDEX[before] + 1]


def _day_count(found: dict[int, Day]) -> int:
    """Distinct days a line names: the same label repeated ('X X X', a crossed-out row) is no day axis."""
    return len(set(found.values()))


def detect_orientation(table: Table, language: str | None) -> tuple[bool, int] | None:
    """(transposed?, day count): days along a row (not transposed) or along a column (transposed)."""
    m = table.grid()
    best_row = max((_day_count(_line_days(m[r], language)) for r in range(table.n_rows)), default=0)
    cols = [[m[r][c] for r in range(table.n_rows)] for c in range(table.n_cols)]
    best_col = max((_day_count(_line_days(col, language)) for col in cols), default=0)
    if max(best_row, best_col) == 0:
        return None
    if best_col > best_row:
        return True, best_col
    if best_col == best_row:
        # Tie (a one-day section, say): the time axis runs across the other way.
        def timed(line: list[Cell | None]) -> int:
            return sum(1 for _, c in _distinct(line) if find_times(c.text) and len(strip_times(c.text)) <= 12)

        def edge(lines: list[list[Cell | None]]) -> list[Cell | None]:
            # The header is at the table's edge; a full-width title line does not count.
            return next((line for line in lines if len(_distinct(line)) >= 2), [])

        times_along_row = timed(edge([m[r] for r in range(table.n_rows)]))
        times_along_col = timed(edge(cols))
        if times_along_row > times_along_col:
            return True, best_col
    return False, best_row


def _week_of(text: str) -> str | None:
    m = WEEK_RE.match(text.strip())
    return m.group("label").upper() if m else None


def _slot_times(texts: list[str]) -> tuple[TimeMatch | None, TimeMatch | None, str | None]:
    """The start match, a separate end match (when start and end are printed apart) and the period label."""
    matches: list[TimeMatch] = []
    period: str | None = None
    for text in map(with_lost_separators, texts):
        found = find_times(text)
        matches.extend(found)
        rest = strip_times(text).strip() if found else text.strip()
        rest = " ".join(rest.split())
        if rest and period is None and not is_blank(rest):
            period = rest
    if not matches:
        return None, None, period
    ranges = [m for m in matches if m.end is not None]
    if ranges:
        return ranges[0], None, period
    if len(matches) >= 2:  # start and end printed apart (separate cells, or a dash lost in OCR)
        return matches[0], matches[1], period
    if len(matches) == 1 and period is not None:
        # '3 3.15pm' (a dash lost in OCR): a bare hour on the same line just before the time is its start,
        # when it is shortly before it (a period number on its own line, '1' over '08:40', is not).
        only = matches[0]
        for text in texts:
            for line in text.splitlines():
                hour = re.match(r"\s*(\d{1,2})\s*[-–]?\s+(?=\d)", line)
                if not hour or not find_times(line[hour.end() :]) or not 1 <= int(hour.group(1)) <= 12:
                    continue
                start = school_day(Clock.of(int(hour.group(1))))
                end = only.start if only.settled else school_day(only.start, reference=start)
                if start < end and end.minutes - start.minutes <= 120:
                    return TimeMatch(start=start, end=end, span=(0, 0), twenty_four_hour=True), None, None
    return matches[0], None, period


# No school block starts this late: a 12-hour reading that lands here is a misreading.
_EVENING = Clock.of(19)
_PERIOD_WORDS = re.compile(
    r"^(?:p|per|period|lesson|les|stunde|std|heure|h|ora|uur|sesi[oó]n|hour|block|slot|time|zeit|horaire|orario|"
    r"horario|tijd|#|nr|no)\.?$",
    re.IGNORECASE,
)


def _is_activity(label: str) -> bool:
    """A label naming what happens ('Snack time', 'Daily routine: Yoga') rather than a period ('P3', '2. Std')."""
    if re.search(r"\d", label):
        return False
    words = re.findall(r"[^\W\d_]+", label)
    if not words or all(_PERIOD_WORDS.match(w) for w in words) or max(len(w) for w in words) < 3:
        return False
    return sum(len(w) for w in words) >= 3 and not re.fullmatch(r"[IVXivx]+", label.strip(" ."))


def _settled_times(
    first: TimeMatch | None, second: TimeMatch | None, reference: Clock | None
) -> tuple[Clock | None, Clock | None]:
    """24-hour clocks for a slot: 12-hour times without am/pm are read inside a school day, each on its own."""
    if first is None:
        return None, None
    if reference is not None and reference >= _EVENING:
        reference = None
    if second is None:
        match = school_day_range(first, reference=reference)
        if match.start >= _EVENING and not first.settled:
            match = school_day_range(first)  # a reference that pushes a morning time into the night is wrong
        start = _afternoon_if_backwards(match.start, first, reference)
        end = _afternoon_if_backwards(match.end, first, start) if match.end is not None else None
        return start, end
    start = first.start if first.settled else school_day(first.start, reference=reference)
    if start >= _EVENING and not first.settled:
        start = school_day(first.start)
    start = _afternoon_if_backwards(start, first, reference)
    end = second.start if second.settled else school_day(second.start, reference=start)
    end = _afternoon_if_backwards(end, second, start)
    return start, (end if end > start else None)


def _afternoon_if_backwards(clock: Clock, match: TimeMatch, reference: Clock | None) -> Clock:
    """A zero-padded hour before noon ('01:00') that would put the day's slots out of order, after one
    at or past noon, is a 12-hour afternoon time: many schools pad 12-hour clocks ('12:00 - 01:00',
    '01:00 - 02:00'). A padded hour reads as 24-hour otherwise."""
    if match.explicit_meridiem or reference is None or not 1 <= clock.hour <= 11 or clock >= reference:
        return clock
    later = Clock(clock.minutes + 12 * 60)
    return later if reference.hour >= 12 and later >= reference and later < _EVENING else clock


def _build_slots(
    m: list[list[Cell | None]], body_rows: range, label_cols: list[int], title_cells: set[int]
) -> list[Slot]:
    slots: list[Slot] = []
    previous_key: tuple[int, ...] | None = None
    for r in body_rows:
        key = tuple(id(m[r][c]) for c in label_cols if m[r][c] is not None and id(m[r][c]) not in title_cells)
        if slots and _prints_nothing_of_its_own(m[r], r):
            # A sub-row: tiles of uneven height drawn past the labelled row.
            slots[-1].sub_rows_from = slots[-1].sub_rows_from or slots[-1].row_end
            slots[-1].row_end = r + 1
            continue
        if key != previous_key or not slots:
            slots.append(Slot(row_start=r, row_end=r + 1))
            previous_key = key
        else:
            slots[-1].row_end = r + 1
    reference: Clock | None = None
    for slot in slots:
        seen: set[int] = set()
        texts: list[str] = []
        label_cells: list[Cell] = []
        for c in label_cols:
            cell = m[slot.row_start][c]
            if cell is None or id(cell) in seen or id(cell) in title_cells:
                continue
            seen.add(id(cell))
            texts.append(cell.text)
            label_cells.append(cell)
        first, second, period = _slot_times(texts)
        if first is not None and second is None and first.end is None:
            slot.lone_time_right = _time_right_of_centre(label_cells)
        if first is None and period is not None and field_label_role(period):
            slot.field_role = field_label_role(period)
            continue
        start, end = _settled_times(first, second, reference)
        end_read = _end_before_misread_start(texts, first, second, reference)
        if end_read is not None:
            start, end = None, end_read
        if first is not None and second is None and first.end is None and _after_unreadable_start(texts, first):
            start, end = None, start
            period = _UNREADABLE_START.sub("", period or "").strip() or None
        slot.start, slot.end, slot.period = start, end, period
        if period is not None and _is_activity(period):
            slot.period, slot.activity = None, period
        if start is not None or end is not None:
            reference = end or start
    _ends_of_lost_ranges(slots)
    _repair_unreadable_starts(slots)
    _repair_off_grid_minutes(slots)
    # One unreadable label between two timed slots (OCR): it runs from the one's end to the other's
    # start, less the header's usual gap on each side when that leaves a slot of a length it prints.
    gap = _usual_gap(slots)
    lengths = {s.end.minutes - s.start.minutes for s in slots if s.start is not None and s.end is not None}
    for i in range(1, len(slots) - 1):
        prev, slot, nxt = slots[i - 1], slots[i], slots[i + 1]
        if slot.field_role is not None:
            continue
        if slot.start is None and prev.end is not None and nxt.start is not None and prev.end < nxt.start:
            slot.start, slot.end, slot.inferred = prev.end, nxt.start, True
            inner = nxt.start.minutes - prev.end.minutes - 2 * gap
            if gap and any(abs(inner - length) <= LENGTH_LEEWAY for length in lengths):
                slot.start, slot.end = prev.end.plus(gap), nxt.start.plus(-gap)
    _share_untimed_runs(slots)
    _repair_half_ranges(slots)
    _repair_misread_first_start(slots)
    _repair_misread_range(slots)
    _repair_near_seams(slots)
    _time_unread_end_periods(slots)
    # Start-only headers: a block ends where the next one starts.
    for i, slot in enumerate(slots):
        if slot.start is not None and slot.end is None:
            slot.start_only = True
            nxt = next((s.start for s in slots[i + 1 :] if s.start is not None), None)
            if nxt is not None and nxt > slot.start:
                slot.end = nxt
    return slots


def _prints_nothing_of_its_own(row: list[Cell | None], r: int) -> bool:
    """A grid row with no label and no cell starting in it: the edges of boxes of uneven height (lesson
    tiles, each as tall as its text) rule it off a labelled row above, and it belongs to that row's slot.
    A row whose label OCR lost still starts its own lessons."""
    return all(cell is None or cell.row < r or is_blank(cell.text) for cell in row)


def _beside_days(m: list[list[Cell | None]], body_rows: range, label_cols: list[int], day_cols: list[int]) -> list[int]:
    """The label columns that touch the day columns, directly or through other printed columns, and
    those that print times. An untimed column an empty column keeps apart is page furniture (a web
    page's menu or advert beside the grid), not a row label."""
    width = len(m[0]) if m else 0

    def printed(c: int) -> bool:
        return any((cell := m[r][c]) is not None and not is_blank(cell.text) for r in body_rows)

    def timed(c: int) -> bool:
        return len({id(cell) for r in body_rows if (cell := m[r][c]) is not None and find_times(cell.text)}) >= 2

    lo, hi = day_cols[0], day_cols[-1]
    while lo > 0 and printed(lo - 1):
        lo -= 1
    while hi + 1 < width and printed(hi + 1):
        hi += 1
    return [c for c in label_cols if lo <= c <= hi or timed(c)]


def _side_captions(m: list[list[Cell | None]], body_rows: range, label_cols: list[int]) -> set[int]:
    """Ids of label-column cells that span rows which another label column times one by one (a web
    page's menu or a note beside the time column): a slot's label names one slot, not several."""
    captions: set[int] = set()
    for c in label_cols:
        for r in body_rows:
            cell = m[r][c]
            if cell is None or cell.row != r or cell.row_end - cell.row < 2:
                continue
            rows = range(max(r, body_rows.start), min(cell.row_end, body_rows.stop))
            for other in label_cols:
                timed = {
                    id(label) for k in rows
                    if (label := m[k][other]) is not None and label is not cell and find_times(label.text)
                }
                if len(timed) >= 2:
                    captions.add(id(cell))
                    break
    return captions


def _end_before_misread_start(
    texts: list[str], first: TimeMatch | None, second: TimeMatch | None, reference: Clock | None
) -> Clock | None:
    """The end of a range that, read after the slot before it, ends before it starts ('17.20-10.50'
    after a slot ending at 9.50): OCR misread a digit of the start, and the end alone is kept."""
    if first is None or reference is None or first.explicit_meridiem:
        return None
    printed = second.start if second is not None else _printed_end(texts, first)
    if printed is None:
        return None
    end = printed if (second is not None and second.settled) else school_day(printed, reference=reference)
    return end if reference < end < first.start else None


def _printed_end(texts: list[str], match: TimeMatch) -> Clock | None:
    """The end of range ``match`` as printed, before the grammar moved it past its start."""
    for text in map(with_lost_separators, texts):
        for found in find_times(text):
            if found == match:
                last = re.search(r"(\d{1,2})[:.h](\d{2})\D*$", text[found.span[0] : found.span[1]])
                return Clock.of(int(last[1]), int(last[2])) if last and int(last[1]) < 24 else None
    return None


# A time OCR could not read ('6:90', '8:99': no such minute; 'N1:20': a letter for a digit), then a
# dash, at the end of the text before a time: that time is an end.
_UNREADABLE_START = re.compile(r"\S*\d[:.]\d{2}\s*[-–—]\s*$")


def _after_unreadable_start(texts: list[str], match: TimeMatch) -> bool:
    """Whether the lone time ``match`` follows a misread time and a dash on its line ('6:90-7:10')."""
    for text in texts:
        found = find_times(text)
        if found and found[0].span == match.span and found[0].start == match.start:
            before = text[: match.span[0]]
            line_start = before.rfind("\n") + 1
            return bool(_UNREADABLE_START.search(before[line_start:]))
    return False


def _share_untimed_runs(slots: list[Slot]) -> None:
    """Labels OCR lost after a start whose end was lost too ('10:20-', '', '11:40'): when the time from
    that start to the next one read is a whole number of the header's usual period length, one
    period for each of those slots, the periods follow each other at that length."""
    lengths = sorted(s.end.minutes - s.start.minutes for s in slots if s.start is not None and s.end is not None)
    if len(lengths) < 3:
        return
    usual = lengths[len(lengths) // 2]
    for i, first in enumerate(slots):
        if first.start is None or first.end is not None or first.field_role is not None:
            continue
        k = i + 1
        while k < len(slots) and slots[k].start is None and slots[k].end is None and slots[k].field_role is None:
            k += 1
        count = k - i
        if count < 2 or k == len(slots) or slots[k].start is None or usual <= 0:
            continue
        span = slots[k].start.minutes - first.start.minutes  # type: ignore[union-attr]
        if abs(span - count * usual) > 2:
            continue
        for n, slot in enumerate(slots[i:k]):
            slot.start = Clock(first.start.minutes + n * usual)  # type: ignore[union-attr]
            slot.end = Clock(first.start.minutes + (n + 1) * usual)  # type: ignore[union-attr]


def _untimed_tail(slots: list[Slot]) -> int | None:
    """Index of the first of the slots that end a timed header with named, untimed labels (a subject
    list or totals printed beside the week: 'Subjects', 'Hours'), or None. Each such label is words,
    not a period number, and at least three slots before them carry times."""
    timed = [k for k, s in enumerate(slots) if s.start is not None]
    if len(timed) < 3 or timed[-1] == len(slots) - 1:
        return None
    tail = slots[timed[-1] + 1 :]
    for slot in tail:
        label = slot.activity or slot.period or ""
        if slot.end is not None or not re.search(r"[^\W\d_]{3,}", label) or re.search(r"\d", label):
            return None
        if field_label_role(label) or classify_kind(label) != "lesson":
            return None
    return timed[-1] + 1


# The share of a label cell's width a lone time may start left of the cell's centre and still be right of it.
LONE_END_LEEWAY = 0.02


def _time_right_of_centre(cells: list[Cell]) -> bool:
    """Whether the one time a label prints starts right of the label's centre: a range centred in its
    cell prints its end there, and a time printed alone is centred over it."""
    for cell in cells:
        if cell.bbox is None or cell.bbox.width <= 0:
            continue
        for line in cell.lines:
            if find_times(with_lost_separators(line.text)):
                centre = (cell.bbox.x0 + cell.bbox.x1) / 2
                return line.bbox.x0 >= centre - LONE_END_LEEWAY * cell.bbox.width
    return False


def _ends_of_lost_ranges(slots: list[Slot]) -> None:
    """In a header of ranges, a label showing one time right of its centre lost its start (OCR read
    only the end of a range printed centred): that time is the slot's end."""
    timed = [s for s in slots if s.start is not None and s.field_role is None]
    ranged = [s for s in timed if s.end is not None]
    if len(ranged) < 3 or len(ranged) < USUAL_LENGTH_SHARE * len(timed):
        return
    for slot in timed:
        if slot.end is None and slot.lone_time_right:
            slot.start, slot.end = None, slot.start


def _repair_unreadable_starts(slots: list[Slot]) -> None:
    """A range whose start OCR misread keeps its end; it starts where the block before it ends, or,
    first in the header or after a block whose end was lost too, the header's usual length before its
    end (still after the block before it starts)."""
    lengths = sorted(s.end.minutes - s.start.minutes for s in slots if s.start is not None and s.end is not None)
    usual = lengths[len(lengths) // 2] if lengths else None
    ranged = [s for s in slots if s.start is not None and s.end is not None]
    # Lessons keep one length more often than breaks keep one gap: where most ranges share a length and
    # the header breaks between lessons, the lost start is that far before the end (a break before it,
    # after lunch, stays a break). Where every lesson starts as the one before ends, so does this one.
    meeting = all(
        b.start == a.end for a, b in itertools.pairwise(slots) if a.end is not None and b.start is not None
    )
    shared = _usual_length(ranged) if len(ranged) >= 3 and not meeting else None
    for i, slot in enumerate(slots):
        if slot.start is not None or slot.end is None:
            continue
        prev = slots[i - 1] if i > 0 else None
        if shared is not None and prev is not None and prev.end is not None and prev.end <= slot.end.plus(-shared):
            slot.start = slot.end.plus(-shared)
        elif prev is not None and prev.end is not None and prev.end < slot.end:
            slot.start = prev.end
        elif (
            usual is not None
            and usual > 0
            and (prev is None or (prev.end is None and (prev.start is None or prev.start.minutes < slot.end.minutes - usual)))
        ):
            slot.start = Clock(slot.end.minutes - usual)
        else:  # nothing to go by: the one time read is taken as the start, as before
            slot.start, slot.end = slot.end, None


_NUMBERED_PERIOD = re.compile(r"^(\D{0,6}?)\s*(\d{1,2})(\D{0,6})$")


def _repair_period_sequence(slots: list[Slot], spanning: set[int], with_lessons: set[int] | None = None) -> None:
    """Periods count up one per lesson row ('P1', 'P2', ...). When the labels that were read all fit
    that count, a label OCR lost or misread ('', 'Pa', 'i]') is the number its row's place gives.
    Rows of one cell across every day (breaks), labels naming an activity and timed rows without a
    period are not lesson rows here; a count the read labels do not fit is left alone. A label of
    three letters or fewer beside lessons ('Del' where a '3' was printed) is a misread number."""
    with_lessons = with_lessons or set()

    def misread(slot: Slot, k: int) -> bool:
        return slot.activity is not None and len(slot.activity) <= 3 and k in with_lessons

    lesson_rows = [
        k for k, slot in enumerate(slots)
        if k not in spanning and (slot.activity is None or misread(slot, k)) and slot.field_role is None
        and (slot.period is not None or slot.start is None)
    ]
    read: dict[int, tuple[str, int, str]] = {}
    for rank, k in enumerate(lesson_rows):
        match = _NUMBERED_PERIOD.match(slots[k].period or "")
        if match:
            read[rank] = (match.group(1), int(match.group(2)), match.group(3))
    if len(read) < 2 or len(read) < len(lesson_rows) / 2:
        return
    if len({(prefix, suffix) for prefix, _, suffix in read.values()}) != 1:
        return
    if len({number - rank for rank, (_, number, _) in read.items()}) != 1:
        return
    prefix, first, suffix = next(iter(read.values()))
    offset = first - next(iter(read))
    for rank, k in enumerate(lesson_rows):
        if rank not in read and rank + offset >= 0:
            slots[k].period = f"{prefix}{rank + offset}{suffix}"
            if misread(slots[k], k):
                slots[k].activity = None


# Minutes by which a slot inferred between two others may differ from a length the header prints.
LENGTH_LEEWAY = 5
# How many gaps between printed slots must agree for a header to have a usual gap.
USUAL_GAP_SHARE = 2 / 3
USUAL_GAP_MIN = 3


# Bell schedules put their times on five-minute marks: where this share of a header's times do, a time
# off the marks is a misread digit ('10:49' for '10:40').
ON_MARKS_SHARE = 2 / 3
MARK_MINUTES = 5


def _repair_off_grid_minutes(slots: list[Slot]) -> None:
    """A range with one time off the five-minute marks that most of the header's times keep, in print
    small enough for OCR to misread one digit: the misread time is set the header's usual length (that
    of its ranges on the marks) away from the other, when that lands on a mark between its neighbours,
    and marked inferred (the entries' confidence says the time was guessed)."""
    times = [t for s in slots if s.field_role is None for t in (s.start, s.end) if t is not None]
    on_marks = [t for t in times if t.minutes % MARK_MINUTES == 0]
    if len(on_marks) < 4 or len(on_marks) < ON_MARKS_SHARE * len(times):
        return
    lengths = Counter(
        s.end.minutes - s.start.minutes
        for s in slots
        if s.start is not None and s.end is not None and s.start.minutes % MARK_MINUTES == 0
        and s.end.minutes % MARK_MINUTES == 0 and s.end > s.start
    )  # fmt: skip
    if not lengths:
        return
    usual = lengths.most_common(1)[0][0]
    for i, slot in enumerate(slots):
        if slot.start is None or slot.end is None or slot.field_role is not None:
            continue
        before = next((t for s in reversed(slots[:i]) for t in (s.end, s.start) if t is not None), None)
        after = next((t for s in slots[i + 1 :] for t in (s.start, s.end) if t is not None), None)
        start_off, end_off = slot.start.minutes % MARK_MINUTES, slot.end.minutes % MARK_MINUTES
        if start_off and not end_off:
            start, end = slot.end.minutes - usual, slot.end.minutes
        elif end_off and not start_off:
            start, end = slot.start.minutes, slot.start.minutes + usual
        else:
            continue
        if start >= 0 and end <= 24 * 60 and (before is None or before.minutes <= start) and (
            after is None or end <= after.minutes
        ):
            slot.start, slot.end, slot.inferred = Clock(start), Clock(end), True


def _time_unread_end_periods(slots: list[Slot]) -> None:
    """Numbered periods at the end (or start) of a header whose times OCR could not read at all (print
    lost in a photo's shadow or at its curled edge): where the header's ranges share one length and one
    changeover, each follows its timed neighbour at those, marked inferred."""
    ranged = [s for s in slots if s.start is not None and s.end is not None and s.field_role is None]
    if len(ranged) < 3:
        return
    length = _usual_length(ranged)
    gap = _usual_gap(slots)
    if length is None or not any(
        a.end is not None and b.start is not None and b.start.minutes - a.end.minutes == gap
        for a, b in itertools.pairwise(slots)
    ):
        return

    def untimed_period(slot: Slot) -> bool:
        return slot.start is None and slot.end is None and slot.field_role is None and (slot.period or "").isdigit()

    for order in (slots, slots[::-1]):
        for before, slot in itertools.pairwise(order):
            if not untimed_period(slot) or before.start is None or before.end is None:
                continue
            if order is slots:
                start = before.end.minutes + gap
                end = start + length
            else:
                end = before.start.minutes - gap
                start = end - length
            if start < 0 or end > 24 * 60:
                break
            slot.start, slot.end, slot.inferred = Clock(start), Clock(end), True


def _usual_gap(slots: list[Slot]) -> int:
    """Minutes between one slot's end and the next one's start that most of the header agrees on
    (changeover between lessons); 0 when it prints none or no clear one."""
    gaps = [
        b.start.minutes - a.end.minutes
        for a, b in itertools.pairwise(slots)
        if a.end is not None and b.start is not None and b.start >= a.end
    ]
    if len(gaps) < USUAL_GAP_MIN:
        return 0
    gap, count = Counter(gaps).most_common(1)[0]
    return gap if count >= USUAL_GAP_SHARE * len(gaps) else 0


def _repair_misread_first_start(slots: list[Slot]) -> None:
    """A first start time that breaks a regular run of start-only rows ('6.00, 9.00, 10.00, 11.00' where
    OCR read an 8 as a 6): rows one step apart begin one step before the second row."""
    timed = [s for s in slots if s.start is not None and s.field_role is None]
    if len(timed) < 4 or any(s.end is not None for s in timed):
        return
    steps = [b.start.minutes - a.start.minutes for a, b in itertools.pairwise(timed)]  # type: ignore[union-attr]
    usual = statistics.median(steps[1:])
    if usual <= 0 or not all(abs(step - usual) <= 0.25 * usual for step in steps[1:3]):
        return
    if steps[0] >= 2 * usual or steps[0] <= 0:
        second = timed[1].start
        assert second is not None
        timed[0].start = Clock(second.minutes - int(usual))


# How many of a header's ranges must share its usual length (within a tenth) to repair one by it.
USUAL_LENGTH_SHARE = 0.6


def _repair_misread_range(slots: list[Slot]) -> None:
    """A range that breaks the header's order, one half misread by OCR ('1:30-8:15' for '7:30-8:15',
    which also reads as afternoon): the half that fits between its neighbours stays, and the other is
    set the header's usual length away from it (checked both as printed and twelve hours off)."""
    ranged = [s for s in slots if s.start is not None and s.end is not None and s.field_role is None]
    if len(ranged) < 4:
        return
    lengths = [s.end.minutes - s.start.minutes for s in ranged]  # type: ignore[union-attr]
    usual = int(statistics.median(lengths))
    if usual <= 0 or sum(abs(n - usual) <= 0.1 * usual for n in lengths) < USUAL_LENGTH_SHARE * len(ranged):
        return
    for i, slot in enumerate(ranged):
        assert slot.start is not None and slot.end is not None
        before = ranged[i - 1].end if i > 0 else None
        after = ranged[i + 1].start if i + 1 < len(ranged) else None
        length = slot.end.minutes - slot.start.minutes
        in_order = (before is None or before <= slot.start) and (after is None or slot.end <= after)
        if in_order and length > 0:
            continue  # a long block in its place (a double practical) is printed so
        candidates = [(end - usual, end) for end in _twelve_hours_off(slot.end.minutes)]
        candidates += [(start, start + usual) for start in _twelve_hours_off(slot.start.minutes)]
        for start, end in candidates:
            if start >= 0 and end < 24 * 60 and (before is None or before.minutes <= start) and (
                after is None or end <= after.minutes
            ):
                slot.start, slot.end, slot.inferred = Clock(start), Clock(end), True
                break


def _usual_length(ranged: list[Slot]) -> int | None:
    """The length in minutes most of the header's ranged slots share exactly, if they do."""
    length, count = Counter(s.end.minutes - s.start.minutes for s in ranged).most_common(1)[0]  # type: ignore[union-attr]
    return length if length > 0 and count >= USUAL_LENGTH_SHARE * len(ranged) else None


# Minutes between one slot's end and the next one's start that no school breaks for.
SEAM_GAP = 2


def _repair_near_seams(slots: list[Slot]) -> None:
    """Consecutive slots a minute or two apart meet, one of the times misread by OCR ('08:00-08:54',
    '08:55-09:50' for 08:55, a 5 read as a 4): no school breaks for a minute. The time that gives its
    slot the header's usual length is the one misread."""
    ranged = [s for s in slots if s.start is not None and s.end is not None and s.field_role is None]
    usual = _usual_length(ranged) if len(ranged) >= 3 else None
    if usual is None:
        return
    for slot, after in itertools.pairwise(ranged):
        assert slot.start is not None and slot.end is not None and after.start is not None and after.end is not None
        gap = after.start.minutes - slot.end.minutes
        if not 0 < gap <= SEAM_GAP:
            continue
        if slot.end.minutes + gap - slot.start.minutes == usual:
            slot.end, slot.inferred = after.start, True
        elif after.end.minutes - (after.start.minutes - gap) == usual:
            after.start, after.inferred = slot.end, True
    # A slot a minute or two off the length most slots share ('12:50-13:33' among 45-minute lessons)
    # has a misread digit: in its end, or in its start when the end meets the next slot.
    for i, slot in enumerate(ranged):
        assert slot.start is not None and slot.end is not None
        off = usual - (slot.end.minutes - slot.start.minutes)
        if not 0 < abs(off) <= SEAM_GAP:
            continue
        before = ranged[i - 1].end if i > 0 else None
        after = ranged[i + 1].start if i + 1 < len(ranged) else None
        if after is not None and slot.end == after:
            if slot.start != before and (before is None or slot.start.plus(-off) >= before):
                slot.start, slot.inferred = slot.start.plus(-off), True
        elif after is None or slot.end.plus(off) <= after:
            slot.end, slot.inferred = slot.end.plus(off), True


def _twelve_hours_off(minutes: int) -> list[int]:
    return [minutes, *(m for m in (minutes - 12 * 60, minutes + 12 * 60) if 0 <= m < 24 * 60)]


def _repair_half_ranges(slots: list[Slot]) -> None:
    """In a header of ranges, a slot showing one time lost the other half (OCR): '12:00' between
    '10:50-11:40' and '12:05-13:00' is the end of 11:45-12:00, with the header's usual gap, or the
    usual length when most slots share one."""
    timed = [s for s in slots if s.start is not None]
    ranged = [s for s in timed if s.end is not None]
    if len(ranged) < 3 or len(ranged) < 0.6 * len(timed) or len(ranged) == len(timed):
        return
    gaps = sorted(
        b.start.minutes - a.end.minutes  # type: ignore[union-attr]
        for a, b in itertools.pairwise(slots)
        if a.end is not None and b.start is not None and b.start >= a.end
    )
    if not gaps:
        return
    gap = gaps[len(gaps) // 2]
    # Lessons keep one length more often than breaks keep one gap (a short break, then a long one):
    # where most slots share a length, the lost half is that far from the half read.
    usual = _usual_length(ranged)
    for i, slot in enumerate(slots):
        if slot.start is None or slot.end is not None:
            continue
        prev = slots[i - 1] if i > 0 else None
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        if prev is None or nxt is None or prev.end is None or nxt.start is None:
            continue
        t = slot.start
        if not prev.end < t < nxt.start:
            continue
        if t.minutes - prev.end.minutes > nxt.start.minutes - t.minutes:
            start = t.plus(-usual) if usual is not None and t.plus(-usual) >= prev.end else prev.end.plus(gap)
            if start < t:
                slot.start, slot.end = start, t
        else:
            end = t.plus(usual) if usual is not None and t.plus(usual) <= nxt.start else nxt.start.plus(-gap)
            if end > t:
                slot.end = end


def _letter_rows(m: list[list[Cell | None]], slots: list[Slot], day_cols: list[int]) -> dict[int, str]:
    """Cells of a word spelt one letter per day (B | R | E | A | K down the day rows): cell id -> word."""
    out: dict[int, str] = {}
    for slot in slots:
        for r in range(slot.row_start, slot.row_end):
            cells = _distinct([m[r][c] for c in day_cols])
            if len(cells) < 3 or len(cells) != len({id(m[r][c]) for c in day_cols if m[r][c] is not None}):
                continue
            texts = [c.text.strip() for _, c in cells]
            if any(len(t) > 2 for t in texts):
                continue
            letters = "".join(t for t in texts if len(t) == 1 and t.isalpha())
            if len(letters) < 3 or len(letters) < len(texts) - 1 or len(set(letters.casefold())) == 1:
                continue  # 'X X X X' crosses out a slot; a word has more than one letter
            word = letters.capitalize()
            for _, c in cells:
                out[id(c)] = word
    return out


def _split_on_times(lines: list[str], styles: list[str | None]) -> list[tuple[list[str], list[str | None]]]:
    """Several blocks in one cell, each line group opened by a leading time ('8:30 Maths', '9:15 Art')."""
    groups: list[tuple[list[str], list[str | None]]] = []
    for line, style in zip(lines, styles, strict=True):
        found = find_times(line)
        leads = bool(found) and found[0].span[0] == 0
        if leads or not groups:
            groups.append(([line], [style]))
        else:
            groups[-1][0].append(line)
            groups[-1][1].append(style)
    timed = sum(1 for g in groups if find_times(g[0][0]) and find_times(g[0][0])[0].span[0] == 0)
    if timed >= 2 and all(find_times(g[0][0]) for g in groups[1:]):
        return groups
    return [(lines, styles)]


def _apply_cell_time(block: Block, reference: Clock | None) -> None:
    """A time printed in the cell overrides the header; the time text leaves the name."""
    text = "\n".join(block.lines)
    found = find_times(text)
    if not found:
        return
    second = None
    if found[0].end is None and len(found) >= 2:
        between = text[found[0].span[1] : found[1].span[0]]
        if not between.strip(" \t\n-–—~"):  # '1:30 2:30': a range whose dash was lost (OCR)
            second = found[1]
    start, end = _settled_times(found[0], second, reference)
    if start is None:
        return
    tentative_start, tentative_end = block.start, block.end
    if (
        tentative_start is not None
        and tentative_end is not None
        and not (tentative_start.plus(-_CELL_TIME_LEEWAY) <= start < tentative_end)
    ):
        # Far from the header slot the cell sits in: a misread, not the block's time. Keep the header's.
        block.confidence -= PENALTY_GUESSED_BOUNDARY
        _strip_cell_times(block)
        return
    block.start = start
    block.printed_start = True
    if end is not None:
        block.end = end
        block.printed_end = True
    elif tentative_end is not None and tentative_end > start:
        block.end = tentative_end
    else:
        block.end = None
    _strip_cell_times(block)


_TIME_AT_END = re.compile(r"\d[:.h]\d\d\s*$")
_LEADING_MERIDIEM = re.compile(r"^\s*[aApP]\.?\s?[mM]\.?(?![^\W\d_])\s*")


def _strip_cell_times(block: Block) -> None:
    new_lines: list[str] = []
    new_styles: list[str | None] = []
    previous = ""
    for line, style in zip(block.lines, block.styles or [None] * len(block.lines), strict=True):
        if _TIME_AT_END.search(previous):
            # A narrow cell wraps '9:30 AM - 9:50 AM' so that the last 'AM' opens the next line.
            line = _LEADING_MERIDIEM.sub("", line)
        previous = line
        stripped = strip_times(line).strip() if find_times(line) else line
        if stripped:
            new_lines.append(stripped)
            new_styles.append(style)
    block.lines, block.styles = new_lines, new_styles


def _field_line(line: str) -> bool:
    return is_teacher_name(line) or is_room(line) or is_code(line)


def _join_split_lessons(blocks: list[Block]) -> list[Block]:
    """A lesson's name in one cell and its teacher and room alone in the cell below is one lesson over
    both rows: a rule drawn across a merged cell (striped rows, each with its own edges) cuts its
    centred text in two. The halves become one block; a cell of fields only (two lines or more, led by a
    name or a room: a code leading a cell may be its subject's) is never a lesson."""
    out: list[Block] = []
    for block in sorted(blocks, key=lambda b: (b.lane, b.row_start)):
        above = out[-1] if out else None
        if (
            above is not None
            and above.lane == block.lane
            and above.row_end == block.row_start
            and not block.printed_start
            and len(block.lines) >= 2
            and (is_teacher_name(block.lines[0]) or is_room(block.lines[0]))
            and all(_field_line(line) for line in block.lines)
            and above.lines
            and not any(_field_line(line) for line in above.lines)
            and classify_kind(above.text) == "lesson"
        ):
            above.lines += block.lines
            above.styles += block.styles
            above.end, above.row_end, above.end_guessed = block.end, block.row_end, block.end_guessed
            above.printed_end = block.printed_end
            continue
        out.append(block)
    return out


def _fix_neighbours(blocks: list[Block]) -> None:
    """Boundaries a cell does not print are taken from its neighbour's printed time (several blocks in one slot)."""
    ordered = sorted(blocks, key=lambda b: (b.lane, b.row_start, 0 if b.printed_start else 1))
    for a, b in itertools.pairwise(ordered):
        if a.lane != b.lane or b.row_start != a.row_end:
            continue
        if (
            not a.printed_end
            and (a.end_guessed or a.end is None)
            and b.printed_start
            and b.start is not None
            and a.start is not None
            and b.start > a.start
            and a.end != b.start
        ):
            a.end = b.start
            a.confidence -= PENALTY_NEIGHBOUR_TIME
        if (
            not b.printed_start
            and b.start_guessed
            and a.printed_end
            and a.end is not None
            and b.start is not None
            and a.end > b.start
            and (b.end is None or a.end < b.end)
        ):
            b.start = a.end
            b.confidence -= PENALTY_NEIGHBOUR_TIME


def _section_starts(m: list[list[Cell | None]], n_rows: int, language: str | None, best: int) -> list[int]:
    """Header rows: rows naming nearly as many days as the best one (a repeated header opens a new section)."""
    threshold = max(2, int(best * 0.6 + 0.999)) if best >= 2 else 1
    return [r for r in range(n_rows) if _day_count(_line_days(m[r], language, strict=True)) >= threshold]


def sub_table(table: Table, row_start: int, row_stop: int) -> Table:
    """Rows [row_start, row_stop) of a table as a table of their own (spans clipped)."""
    cells: list[Cell] = []
    for c in table.cells:
        top, bottom = max(c.row, row_start), min(c.row_end, row_stop)
        if top >= bottom:
            continue
        cells.append(
            Cell(
                row=top - row_start,
                col=c.col,
                text=c.text,
                rowspan=bottom - top,
                colspan=c.colspan,
                bbox=c.bbox,
                lines=c.lines,
                confidence=c.confidence,
                background=c.background,
            )
        )
    return Table(
        n_rows=row_stop - row_start, n_cols=table.n_cols, cells=cells, bbox=table.bbox, caption=table.caption
    )


def week_marker_rows(table: Table) -> dict[int, str]:
    """Rows printing only a week marker ('Week A', 'Woche B'): row -> week label."""
    m = table.grid()
    out: dict[int, str] = {}
    for r in range(table.n_rows):
        cells = [c for _, c in _distinct(m[r]) if not is_blank(c.text)]
        if len(cells) == 1 and cells[0].row == r:
            week = _week_of(cells[0].text)
            if week:
                out[r] = week
    return out


def caption_week(text: str | None) -> str | None:
    if not text:
        return None
    m = _WEEK_IN_TEXT_RE.search(text)
    return m.group("label").upper() if m else None


def read_grid(
    table: Table, *, language: str | None = None, page: int | None = None, default_week: str | None = None
) -> GridReading | None:
    """Every block of a day × time grid, or None when the table has no day axis.

    Rows printing only 'Week A' / 'Woche B' cut the table into week sections, read one by one (so a
    days-as-rows table with stacked weeks works too). ``default_week`` is a marker printed above the
    table, used for the first section when the table itself does not say.
    """
    markers = week_marker_rows(table)
    if not markers:
        week = caption_week(table.caption) or default_week
        return _read_section(table, language=language, page=page, week=week)
    cuts = sorted(markers)
    pieces: list[tuple[int, int, str | None]] = []
    first_week = caption_week(table.caption) or default_week
    if first_week is None and markers[cuts[0]] in "B2":
        first_week = {"B": "A", "2": "1"}[markers[cuts[0]]]
    pieces.append((0, cuts[0], first_week))
    for i, r in enumerate(cuts):
        stop = cuts[i + 1] if i + 1 < len(cuts) else table.n_rows
        pieces.append((r + 1, stop, markers[r]))
    combined = GridReading(blocks=[])
    found_any = False
    for start, stop, week in pieces:
        if stop <= start:
            continue
        reading = _read_section(sub_table(table, start, stop), language=language, page=page, week=week)
        if reading is None:
            continue
        found_any = True
        combined.blocks.extend(reading.blocks)
        combined.title_lines.extend(reading.title_lines if not combined.title_lines else [])
        combined.has_times = combined.has_times or reading.has_times
        combined.warnings.extend(reading.warnings)
    return combined if found_any else None


def _read_section(
    table: Table, *, language: str | None, page: int | None, week: str | None
) -> GridReading | None:
    found = detect_orientation(table, language)
    if found is None:
        return None
    transposed, best = found
    canonical = transpose(table) if transposed else table
    m = canonical.grid()
    language = _axis_language(m, language)
    headers = _section_starts(m, canonical.n_rows, language, best)
    if not headers:
        return None
    reading = GridReading(blocks=[])
    section_week = week
    # Rows above the first header: title-like text.
    for r in range(headers[0]):
        for _, cell in _distinct(m[r]):
            if not is_blank(cell.text) and not caption_week(cell.text) and not _week_of(cell.text):
                reading.title_lines.extend(cell_text_lines(cell)[0])
    week_rows: dict[int, str] = {}
    for r in range(canonical.n_rows):
        cells = [c for _, c in _distinct(m[r]) if not is_blank(c.text)]
        if len(cells) == 1:
            week = _week_of(cells[0].text)
            if week:
                week_rows[r] = week
    bounds = [*headers, canonical.n_rows]
    all_slots_have_times = False
    for index, header in enumerate(headers):
        section_end = bounds[index + 1]
        week = section_week
        markers = [w for r, w in week_rows.items() if r < header]
        if markers:
            week = markers[-1]
        day_by_first = _line_days(m[header], language, strict=True)
        # Every grid column under a day header cell belongs to that day.
        day_of_col: dict[int, Day] = {}
        for c in range(canonical.n_cols):
            cell = m[header][c]
            if cell is None:
                continue
            first = next(i for i in range(canonical.n_cols) if m[header][i] is cell)
            if first in day_by_first:
                day_of_col[c] = day_by_first[first]
        if not day_of_col or (len(set(day_of_col.values())) == 1 and len(day_of_col) == canonical.n_cols):
            continue  # one day name across the whole width is a heading ('Daily Schedule — Friday'), not an axis
        for c in range(canonical.n_cols):
            cell = m[header][c]
            if cell is not None and c not in day_of_col:
                wk = _week_of(cell.text) or (
                    _WEEK_IN_TEXT_RE.search(cell.text).group("label").upper()  # type: ignore[union-attr]
                    if _WEEK_IN_TEXT_RE.search(cell.text)
                    else None
                )
                if wk:
                    week = wk
        week_of_col = _column_weeks(m, header, index and bounds[index - 1], day_of_col)
        header_cells = {id(m[header][c]) for c in day_of_col}
        body_start = header + 1
        while body_start < section_end and any(
            m[body_start][c] is not None and id(m[body_start][c]) in header_cells for c in day_of_col
        ):
            body_start += 1
        body_rows = range(body_start, section_end)
        body_rows = range(body_rows.start, max(body_rows.start, body_rows.stop))
        body = [r for r in body_rows if r not in week_rows]
        if not body:
            continue
        body_rows = range(body[0], body[-1] + 1)
        field_cols = _field_columns(m, header, day_of_col)
        label_cols = [c for c in range(canonical.n_cols) if c not in day_of_col and c not in field_cols]
        label_cols = _beside_days(m, body_rows, label_cols, sorted(day_of_col))
        # A label cell covering every body row is a title or side caption, not a slot label.
        title_cells: set[int] = set()
        for c in label_cols:
            cell = m[body_rows.start][c]
            if (
                cell is not None
                and cell.row <= body_rows.start
                and cell.row_end >= body_rows.stop
                and len(body_rows) > 1
            ):
                title_cells.add(id(cell))
        title_cells |= _side_captions(m, body_rows, label_cols)
        # A body cell reaching into a label column (a split day header, OCR) is not a label.
        body_cells = {id(m[r][c]) for r in body_rows for c in day_of_col if m[r][c] is not None}
        slots = _build_slots(m, body_rows, label_cols, title_cells | body_cells)
        spanning = {
            k for k, slot in enumerate(slots)
            if len({id(m[slot.row_start][c]) for c in day_of_col}) == 1 and len(day_of_col) > 1
        }
        day_texts = [
            [m[slot.row_start][c].text for c in day_of_col if m[slot.row_start][c] is not None] for slot in slots
        ]
        # Rows where every day has its own break or registration cell ('Break' | 'Break' | ...) are no
        # lesson rows either.
        break_rows = {
            k for k, texts in enumerate(day_texts)
            if any(not is_blank(t) for t in texts) and all(is_blank(t) or classify_kind(t) != "lesson" for t in texts)
        }
        with_lessons = {
            k for k, texts in enumerate(day_texts) if any(not is_blank(t) and classify_kind(t) == "lesson" for t in texts)
        }
        _repair_period_sequence(slots, spanning | break_rows, with_lessons)
        untimed_tail = _untimed_tail(slots)
        if untimed_tail is not None:
            body_rows = range(body_rows.start, slots[untimed_tail].row_start)
            slots = slots[:untimed_tail]
        for c in label_cols:  # a title printed down the side of a days-as-rows table
            cell = m[body_rows.start][c]
            if cell is not None and id(cell) in title_cells:
                reading.title_lines.extend(
                    t for t in cell_text_lines(cell)[0] if t not in reading.title_lines
                )
        slot_of_row = {r: s for s in slots for r in range(s.row_start, s.row_end)}
        has_times = any(s.start is not None for s in slots)
        all_slots_have_times = all_slots_have_times or has_times
        letters = _letter_rows(m, slots, sorted(day_of_col))
        day_cols_by_day: dict[tuple[Day, str | None], list[int]] = {}
        for c in sorted(day_of_col):
            day_cols_by_day.setdefault((day_of_col[c], week_of_col.get(c) or week), []).append(c)
        section_blocks: list[Block] = []
        for (day, col_week), cols in day_cols_by_day.items():
            day_blocks: list[Block] = []
            emitted: set[int] = set()
            for lane, c in enumerate(cols):
                r = body_rows.start
                while r < body_rows.stop:
                    cell = m[r][c]
                    if cell is None or r in week_rows:
                        r += 1
                        continue
                    r0 = r
                    while r < body_rows.stop and m[r][c] is cell:
                        r += 1
                    if id(cell) in emitted or id(cell) in header_cells:
                        continue
                    emitted.add(id(cell))
                    word = letters.get(id(cell))
                    if is_blank(cell.text) and not word:
                        continue
                    day_blocks.extend(
                        _cell_blocks(cell, r0, r, slot_of_row, day, col_week, page, word, has_times, lane)
                    )
            if len(cols) > 1 and _lanes_are_one(m, body_rows, cols):
                day_blocks = _join_lanes(day_blocks)
            _apply_field_columns(day_blocks, cols, field_cols, m)
            day_blocks = _apply_field_slots(day_blocks, slots, m, cols)
            _apply_activities(day_blocks, slots, day, col_week, page)
            day_blocks = _join_split_lessons(day_blocks)
            _fix_neighbours(day_blocks)
            section_blocks.extend(day_blocks)
        section_blocks.extend(_spread_lone_breaks(section_blocks, slots, list(day_cols_by_day)))
        reading.blocks.extend(section_blocks)
    reading.has_times = all_slots_have_times
    return reading


def _spread_lone_breaks(
    blocks: list[Block], slots: list[Slot], days: list[tuple[Day, str | None]]
) -> list[Block]:
    """A break printed once in a row that is empty on every other day ('LUNCH' written across an
    unruled row, or in the middle day's cell): one break per day, as a row spanning the days is."""
    if len(days) < 3:
        return []
    added: list[Block] = []
    for slot in slots:
        inside = [b for b in blocks if b.row_start < slot.row_end and b.row_end > slot.row_start]
        if len(inside) != 1:
            continue
        lone = inside[0]
        if (lone.row_start, lone.row_end) != (slot.row_start, slot.row_end) or lone.subject:
            continue
        if classify_kind(lone.text) != "break" or len(lone.lines) != 1:
            continue
        for day, week in days:
            if (day, week) != (lone.day, lone.week):
                added.append(dataclasses.replace(lone, day=day, week=week, confidence=lone.confidence - PENALTY_GUESSED_BOUNDARY, notes=list(lone.notes), fields=dict(lone.fields)))
    return added


def _field_columns(m: list[list[Cell | None]], header: int, day_of_col: dict[int, Day]) -> dict[int, tuple[int, str]]:
    """Columns of rooms (teachers, groups) printed right of a day's column, as many Word and Excel
    timetables do ('Mon | Room | Tue | Room'): column -> (the day column it belongs to, role). A one-letter
    label ('S' for sala) counts only when the document repeats it beside two days or more."""
    found: dict[int, tuple[int, str]] = {}
    short = 0
    for c in range(1, len(m[header])):
        cell = m[header][c]
        if c in day_of_col or cell is None or m[header][c - 1] is cell:
            continue
        owner = c - 1 if c - 1 in day_of_col else (found[c - 1][0] if c - 1 in found else None)
        if owner is None:
            continue
        role = field_label_role(cell.text)
        if role is None:
            continue
        found[c] = (owner, role)
        short += len(cell.text.strip(" .:")) <= 2
    if short and len(found) < 2:
        return {}
    return found


def _apply_field_columns(
    blocks: list[Block], cols: list[int], field_cols: dict[int, tuple[int, str]], m: list[list[Cell | None]]
) -> None:
    """Each block takes the fields printed beside it in its day's field columns, over the rows it covers."""
    for block in blocks:
        col = cols[block.lane] if block.lane < len(cols) else cols[0]
        for fc, (owner, role) in field_cols.items():
            if owner != col and not (owner in cols and col in cols):
                continue
            if owner != col:
                continue
            texts: list[str] = []
            for r in range(block.row_start, block.row_end):
                cell = m[r][fc]
                text = " ".join(cell.text.split()) if cell is not None else ""
                if text and not is_blank(text) and text not in texts:
                    texts.append(text)
            if texts:
                block.fields[role] = " / ".join(texts)


def _apply_field_slots(
    blocks: list[Block], slots: list[Slot], m: list[list[Cell | None]], cols: list[int]
) -> list[Block]:
    """A row of rooms (teachers, groups) across the days serves the lesson slots after it, up to the next
    such row: its cells become those blocks' fields instead of blocks of their own."""
    field_slots = [s for s in slots if s.field_role is not None]
    if not field_slots:
        return blocks
    kept = [b for b in blocks if not any(b.row_start < s.row_end and b.row_end > s.row_start for s in field_slots)]
    for i, slot in enumerate(field_slots):
        stop = next((s.row_start for s in field_slots[i + 1 :] if s.field_role == slot.field_role), 10**9)
        texts: list[str] = []
        for r in range(slot.row_start, slot.row_end):
            for c in cols:
                cell = m[r][c]
                text = " ".join(cell.text.split()) if cell is not None else ""
                if text and not is_blank(text) and text not in texts:
                    texts.append(text)
        if not texts:
            continue
        for block in kept:
            if slot.row_end <= block.row_start < stop:
                block.fields.setdefault(slot.field_role or "room", " / ".join(texts))
    return kept


def _lanes_are_one(m: list[list[Cell | None]], body_rows: range, cols: list[int]) -> bool:
    """A day split into sub-lanes where most cells span every lane: the split is an artefact (a line of
    text read as a row boundary, OCR), so cells side by side in one slot are one cell's lines."""
    spanning = split = 0
    for r in body_rows:
        cells = [m[r][c] for c in cols]
        if any(c is None for c in cells):
            continue
        if all(c is cells[0] for c in cells):
            spanning += 1
        else:
            split += 1
    return spanning >= 2 * max(1, split)


def _join_lanes(blocks: list[Block]) -> list[Block]:
    """Blocks of the same rows in different lanes joined in lane order (text continues across the cut),
    unless each names its own batch ('Group 1' over 'Group 2': a period shared by two batches, printed
    as two halves of one cell, while the day's other cells are whole)."""
    out: list[Block] = []
    for block in sorted(blocks, key=lambda b: (b.row_start, b.row_end, b.lane)):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.row_start == block.row_start
            and prev.row_end == block.row_end
            and prev.lane != block.lane
            and not block.subject
            and not prev.subject
            and not (any(map(names_batch, prev.lines)) and any(map(names_batch, block.lines)))
        ):
            prev.lines.extend(block.lines)
            prev.styles.extend(block.styles or [None] * len(block.lines))
            prev.notes.extend(n for n in block.notes if n not in prev.notes)
            prev.confidence = min(prev.confidence, block.confidence) - PENALTY_GUESSED_BOUNDARY
            continue
        out.append(block)
    return out


def _column_weeks(
    m: list[list[Cell | None]], header: int, top: int, day_of_col: dict[int, Day]
) -> dict[int, str]:
    """Weeks told apart inside one header: a 'Week A' / 'Week B' cell above the day names, or (with no
    marker) the same day names printed twice, the second run being the second week."""
    out: dict[int, str] = {}
    for c in day_of_col:
        for r in range(header - 1, top - 1, -1):
            cell = m[r][c]
            if cell is None:
                continue
            marker = _week_of(cell.text) or caption_week(cell.text)
            if marker:
                out[c] = marker
                break
    if out:
        return out
    seen: dict[Day, int] = {}
    first_cells: set[int] = set()
    occurrence: dict[int, int] = {}
    for c in sorted(day_of_col):
        cell = m[header][c]
        if cell is None:
            continue
        if id(cell) not in first_cells:
            first_cells.add(id(cell))
            occurrence[id(cell)] = seen.get(day_of_col[c], 0)
            seen[day_of_col[c]] = occurrence[id(cell)] + 1
    if max(seen.values(), default=1) < 2:
        return {}
    labels = "AB" if max(seen.values()) == 2 else "123456789"
    for c in day_of_col:
        cell = m[header][c]
        if cell is not None and occurrence.get(id(cell), 0) < len(labels):
            out[c] = labels[occurrence[id(cell)]]
    return out


def _apply_activities(
    blocks: list[Block], slots: list[Slot], day: Day, week: str | None, page: int | None
) -> None:
    """Activity labels: a day with nothing of its own in the slot gets the activity; one with its own text
    keeps it, noting the activity it replaces."""
    for slot in slots:
        if slot.activity is None:
            continue
        own = [b for b in blocks if b.row_start < slot.row_end and b.row_end > slot.row_start]
        if not own:
            blocks.append(
                Block(
                    day=day,
                    start=slot.start,
                    end=slot.end,
                    period=None,
                    lines=[slot.activity],
                    styles=[None],
                    week=week,
                    page=page,
                    confidence=0.9,
                    row_start=slot.row_start,
                    row_end=slot.row_end,
                )
            )
            continue
        for block in own:
            if block.text.casefold() != slot.activity.casefold():
                block.notes.append(f"column header: {slot.activity}")


def _cell_blocks(
    cell: Cell,
    r0: int,
    r1: int,
    slot_of_row: dict[int, Slot],
    day: Day,
    week: str | None,
    page: int | None,
    word: str | None,
    has_times: bool,
    lane: int,
) -> list[Block]:
    first, last = slot_of_row[r0], slot_of_row[r1 - 1]
    confidence = cell.confidence
    start = first.start
    if r0 != first.row_start or first.inferred or last.inferred:
        confidence -= PENALTY_GUESSED_BOUNDARY
    # A box that stops within the sub-rows of its last slot is one of the shorter ones: it fills the slot.
    if r1 == last.row_end or first is last or (last.sub_rows_from is not None and r1 >= last.sub_rows_from):
        end = last.end
        if r1 < (last.sub_rows_from or last.row_end):
            confidence -= PENALTY_GUESSED_BOUNDARY
    else:
        end = last.start
        confidence -= PENALTY_GUESSED_BOUNDARY
    lines, styles = cell_text_lines(cell)
    if word:
        lines, styles = [word], [None]
    blocks: list[Block] = []
    groups = _split_on_times(lines, styles)
    for gi, (g_lines, g_styles) in enumerate(groups):
        block = Block(
            day=day,
            start=start,
            end=end,
            period=first.period,
            lines=list(g_lines),
            styles=list(g_styles),
            week=week,
            page=page,
            confidence=confidence,
            row_start=r0,
            row_end=r1,
            lane=lane,
        )
        block.start_guessed = r0 != first.row_start or gi > 0
        block.end_guessed = r1 != last.row_end or gi + 1 < len(groups)
        _apply_cell_time(block, reference=start)
        if len(groups) > 1:
            if gi + 1 < len(groups) and block.end in (None, end):
                nxt = find_times(groups[gi + 1][0][0])
                if nxt:
                    block.end = school_day_range(nxt[0], reference=block.start).start
            if gi > 0:
                block.period = None
        if block.printed_start and block.start is not None and start is not None and block.start > start:
            # A block that starts later than its slot is not the slot's numbered period start.
            pass
        if word:
            block.subject = word
        if has_times and block.start is None:
            block.confidence -= PENALTY_NO_TIME
        if block.subject or not too_few_letters(block.text):
            blocks.append(block)
    return blocks
