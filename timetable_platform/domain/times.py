"""Times of day as timetables print them: '8:30', '08.30', '8h30', '3PM', '8.35 - 8.50 am', 'from 8.30 to 9.15'.

Everything is pure. ``parse_time`` / ``parse_time_range`` read a whole string; ``find_times`` finds
every time or range inside free text without mistaking dates, rooms, classes or list numbers for
times. 12-hour times without am/pm are left as printed; ``school_day`` moves them into a school day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from timetable_platform.domain.text import same_length_normalise, tidy_whitespace

MINUTES_PER_DAY = 24 * 60
HALF_DAY = 12 * 60


@dataclass(frozen=True, order=True)
class Clock:
    """A time of day in minutes since midnight (24:00 allowed as an end of day)."""

    minutes: int

    def __post_init__(self) -> None:
        if not 0 <= self.minutes <= MINUTES_PER_DAY:
            raise ValueError(f"minutes out of range: {self.minutes}")

    @classmethod
    def of(cls, hour: int, minute: int = 0) -> Clock:
        return cls(hour * 60 + minute)

    @property
    def hour(self) -> int:
        return self.minutes // 60

    @property
    def minute(self) -> int:
        return self.minutes % 60

    def hhmm(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def plus(self, minutes: int) -> Clock:
        return Clock(min(MINUTES_PER_DAY, max(0, self.minutes + minutes)))

    def __str__(self) -> str:
        return self.hhmm()


@dataclass(frozen=True)
class TimeMatch:
    """One time or range found in text; ``span`` indexes the text it was found in."""

    start: Clock
    end: Clock | None
    span: tuple[int, int]
    # am/pm printed somewhere in the expression: the clock values are already final.
    explicit_meridiem: bool = False
    # Evidently 24-hour ('08:30', '13:15', '0:45'): school_day must not move it.
    twenty_four_hour: bool = False

    @property
    def is_range(self) -> bool:
        return self.end is not None

    @property
    def settled(self) -> bool:
        """True when the printed form leaves no am/pm doubt."""
        return self.explicit_meridiem or self.twenty_four_hour


# --- the grammar -------------------------------------------------------------------------------

_MERIDIEM = r"(?:\s?(?P<{p}mer>[aApP])\.?\s?[mM]\.?(?![^\W\d_]))"
_TOKEN = (
    r"(?P<{p}h>\d{{1,2}})"
    r"(?:(?P<{p}sep>[:.hH]|,(?=\d\d(?!\d)))(?P<{p}m>\d{{2}})(?::\d\d)?(?!\d)|(?P<{p}hh>[hH])(?![^\W\d_]))?"
    + _MERIDIEM
    + "?"
)
# Between two times: a dash (any kind, unified beforehand), a slash between two times with minutes
# ('8:25/9:25'; '12/11' is a date), or a word ('to', 'bis', 'à', 'às', 'hasta', 'sampai', 's/d').
_CONNECTOR = (
    r"(?P<conn>\s*(?:-+|~|–|/)\s*"
    r"|\s+(?:to|till|til|until|bis|à|a|au|tot|al|alle|ate|até|às|as|hasta|sampai|s/d|s\.d\.|jusqu'?à|fino alle|t/m)\s+)"
)
_FROM = r"(?:(?P<from>from|von|de|des|dès|desde|dalle|dalla|da|van|vanaf)\s+)?"
_LEFT_EDGE = r"(?<![\w.:/])"
# Not followed by more digits, letters, a slash (dates 12/11) or '.5' / ':5' (dates 12.11.2024).
_RIGHT_EDGE = r"(?![\w/]|[.:,]\d)"

_RANGE_RE = re.compile(
    _LEFT_EDGE + _FROM + _TOKEN.format(p="s") + _CONNECTOR + _TOKEN.format(p="e") + _RIGHT_EDGE,
    re.IGNORECASE,
)
_SINGLE_RE = re.compile(_LEFT_EDGE + _TOKEN.format(p="s") + _RIGHT_EDGE, re.IGNORECASE)


@dataclass(frozen=True)
class _Token:
    hour: int
    minute: int
    meridiem: str | None  # 'a' / 'p'
    bare: bool  # only an hour, no minutes, no 'h', no am/pm
    leading_zero: bool
    dotted: bool  # minutes after '.', which dates also use


def _token(m: re.Match[str], p: str) -> _Token | None:
    hour_text = m.group(f"{p}h")
    hour = int(hour_text)
    minute_text = m.group(f"{p}m")
    minute = int(minute_text) if minute_text else 0
    mer = m.group(f"{p}mer")
    meridiem = mer.lower() if mer else None
    if minute > 59:
        return None
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
    elif hour > 24 or (hour == 24 and minute):
        return None
    return _Token(
        hour=hour,
        minute=minute,
        meridiem=meridiem,
        bare=minute_text is None and m.group(f"{p}hh") is None and meridiem is None,
        leading_zero=len(hour_text) == 2 and hour_text[0] == "0",
        dotted=m.group(f"{p}sep") == ".",
    )


def _apply_meridiem(hour: int, meridiem: str | None) -> int:
    if meridiem == "a":
        return 0 if hour == 12 else hour
    if meridiem == "p":
        return hour if hour == 12 else hour + 12
    return hour


def _minutes(tok: _Token, meridiem: str | None) -> int:
    return _apply_meridiem(tok.hour, meridiem) * 60 + tok.minute


def _is_24h(tok: _Token) -> bool:
    return tok.meridiem is None and (tok.leading_zero or tok.hour == 0 or tok.hour > 12)


def _range_clocks(s: _Token, e: _Token) -> tuple[Clock, Clock]:
    """Both ends as clocks, sharing a printed am/pm across the range ('8.35 - 8.50 am', '1.15-3PM')."""
    if s.meridiem and e.meridiem:
        start, end = _minutes(s, s.meridiem), _minutes(e, e.meridiem)
    elif e.meridiem:
        end = _minutes(e, e.meridiem)
        start = _minutes(s, e.meridiem) if s.hour <= 12 else _minutes(s, None)
        if start > end and s.hour <= 12:
            # '11-1pm' is 11 am to 1 pm.
            start = _minutes(s, "a" if e.meridiem == "p" else "p")
    elif s.meridiem:
        start = _minutes(s, s.meridiem)
        end = _minutes(e, s.meridiem) if e.hour <= 12 else _minutes(e, None)
        if end < start and e.hour <= 12 and s.meridiem == "a":
            end = _minutes(e, "p")  # '11am-1' is 11 am to 1 pm
    else:
        start, end = _minutes(s, None), _minutes(e, None)
        if end < start and e.hour < 12 and end + HALF_DAY >= start:
            end += HALF_DAY  # '12-1', '11.30-1.15': the range crosses noon
    end = min(end, MINUTES_PER_DAY)
    return Clock(start), Clock(end)


def _whole_line(text: str, span: tuple[int, int]) -> bool:
    line_start = text.rfind("\n", 0, span[0]) + 1
    line_end = text.find("\n", span[1])
    line_end = len(text) if line_end < 0 else line_end
    return not text[line_start : span[0]].strip() and not text[span[1] : line_end].strip()


def _dotted_date_tail(text: str, end: int) -> bool:
    """'12.11.' (a German date) ends with a dot right after the minutes."""
    return end < len(text) and text[end] == "." and (end + 1 == len(text) or not text[end + 1].isalpha())


def _match_range(m: re.Match[str]) -> TimeMatch | None:
    s, e = _token(m, "s"), _token(m, "e")
    if s is None or e is None:
        return None
    start, end = _range_clocks(s, e)
    if end < start and not (s.meridiem or e.meridiem):
        return None
    span = m.span()
    return TimeMatch(
        start=start,
        end=end,
        span=span,
        explicit_meridiem=bool(s.meridiem or e.meridiem),
        twenty_four_hour=_is_24h(s) or _is_24h(e),
    )


def _match_single(m: re.Match[str]) -> TimeMatch | None:
    s = _token(m, "s")
    if s is None:
        return None
    return TimeMatch(
        start=Clock(_minutes(s, s.meridiem)),
        end=None,
        span=m.span(),
        explicit_meridiem=s.meridiem is not None,
        twenty_four_hour=_is_24h(s),
    )


# --- public API ----------------------------------------------------------------------------------


def parse_time(text: str) -> Clock | None:
    """The whole string as one time ('8:30', '08.30', '8h30', '3PM', '9'); None otherwise ('2024', '1.')."""
    norm = same_length_normalise(text).strip()
    m = _SINGLE_RE.fullmatch(norm)
    if m is None:
        return None
    found = _match_single(m)
    return found.start if found else None


def parse_time_range(text: str) -> TimeMatch | None:
    """The whole string as a time or a range ('8.35 - 8.50 am', '1.15-3PM', 'from 8.30 to 9.15')."""
    norm = same_length_normalise(text)
    stripped = norm.strip()
    offset = len(norm) - len(norm.lstrip())
    stripped = tidy_whitespace(stripped) if "\n" in stripped else stripped
    m = _RANGE_RE.fullmatch(stripped)
    found = _match_range(m) if m else None
    if found is None:
        m = _SINGLE_RE.fullmatch(stripped)
        found = _match_single(m) if m else None
    if found is None:
        return None
    if stripped is not norm.strip():
        return replace(found, span=(offset, offset + len(norm.strip())))
    return replace(found, span=(found.span[0] + offset, found.span[1] + offset))


# Words after bare hours that make them times ('8 - 9 Uhr', '8-9 h', '2-3 o'clock').
_HOURS_WORD = re.compile(r"\s*(?:uhr|h|hrs?|hours?|o'?clock|heures?|horas?|ore|uur|jam)\b", re.IGNORECASE)
# Noon and midnight in words, replaced by times of the same length so that spans stay right.
# 'Noon' alone may name a break; next to a range's dash it is a time.
_NOON = re.compile(
    r"\b12\s?(?:noon|midday)\b|\b(?:noon|midday)\b(?=\s*[-–]\s*\d)|(?<=[-–])\s?(?:noon|midday)\b",
    re.IGNORECASE,
)


def _noon_as_time(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        width = len(m.group(0))
        return ("12:00" if width >= 5 else "12pm").ljust(width)

    return _NOON.sub(repl, text)


def find_times(text: str) -> list[TimeMatch]:
    """Every time or range in free text, left to right ('10.30-11.15 Music: Brass', '2.50 KS2 Assembly').

    A bare hour counts only inside a range that fills its line ('9-10') or with am/pm ('9 am'),
    so 'Week 2', 'Year 10', '7B', 'R101', '1.' and dates like '12.11.2024' are not times.
    """
    norm = _noon_as_time(same_length_normalise(text))
    found: list[TimeMatch] = []
    taken: list[tuple[int, int]] = []
    for m in _RANGE_RE.finditer(norm):
        match = _match_range(m)
        if match is None:
            continue
        s, e = _token(m, "s"), _token(m, "e")
        assert s is not None and e is not None
        if (s.bare and e.bare) and not (_whole_line(norm, m.span()) or _HOURS_WORD.match(norm, m.end())):
            continue
        if m.group("conn").strip() == "/" and (s.bare or e.bare):
            continue
        if e.dotted and _dotted_date_tail(norm, m.end()):
            continue
        found.append(match)
        taken.append(m.span())
    pos = 0
    while True:
        m = _SINGLE_RE.search(norm, pos)
        if m is None:
            break
        pos = m.end() if m.end() > m.start() else m.start() + 1
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        s = _token(m, "s")
        if s is None or s.bare:
            continue
        if s.dotted and _dotted_date_tail(norm, m.end()):
            continue
        single = _match_single(m)
        if single is not None:
            found.append(single)
    found.sort(key=lambda t: t.span)
    return found


def strip_times(text: str) -> str:
    """The text without its time expressions, whitespace tidied per line (line breaks kept).

    Separators left dangling where a time was ('- Maths', 'Maths :', '()') go too; lines
    without a time are only whitespace-tidied, so 'Swimming\n/ Bedrock' keeps its slash.
    """
    matches = find_times(text)
    if not matches:
        return tidy_whitespace(text, keep_newlines=True)
    removed = [False] * len(text)
    for m in matches:
        for i in range(*m.span):
            removed[i] = True
    out_lines: list[str] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        if any(removed[line_start:line_end]):
            kept = "".join(" " if removed[i] else text[i] for i in range(line_start, line_end))
            kept = re.sub(r"\(\s*\)|\[\s*\]", " ", kept)
            kept = re.sub(r"^[\s\-:,;@|/]+", "", tidy_whitespace(kept))
            line = re.sub(r"[\s\-,;@|/:]+$", "", kept)
        out_lines.append(tidy_whitespace(line))
        line_start = line_end + 1
    return "\n".join(line for line in out_lines if line)


def school_day(clock: Clock, *, reference: Clock | None = None) -> Clock:
    """Read a 12-hour time without am/pm as a school-day time.

    Hours 1..6 are afternoon ('1.15' -> 13:15); 7..12 stay. With ``reference`` (the previous time in
    the sequence), a time that would go backwards is moved to the afternoon when that restores order.
    """
    if clock.minutes >= HALF_DAY + 60 or clock.hour == 0:
        return clock  # 13:00 and later, or 0:xx, is already 24-hour
    if 1 <= clock.hour <= 6:
        return Clock(clock.minutes + HALF_DAY)
    if reference is not None and clock < reference and clock.hour < 12:
        later = clock.minutes + HALF_DAY
        if later < MINUTES_PER_DAY and later >= reference.minutes:
            return Clock(later)
    return clock


def school_day_range(match: TimeMatch, *, reference: Clock | None = None) -> TimeMatch:
    """``school_day`` for a whole match; printed am/pm and evident 24-hour times are left alone."""
    if match.settled:
        return match
    start = school_day(match.start, reference=reference)
    end = match.end
    if end is not None:
        end = school_day(end, reference=start)
        if end < start:
            end = match.end
    return replace(match, start=start, end=end)


# Two clock times whose separators OCR lost, joined by a dash ('845-930', '1055 - 1140').
# Joined by a dash, or printed one above the other (a slot label stacks its start over its end).
_BARE_RANGE = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])([0-5]\d)[ \t]*([-–]|\n)\s*([01]?\d|2[0-3])([0-5]\d)(?![\d:.])")


def with_lost_separators(text: str) -> str:
    """A slot label is a time or a period: two numbers of three or four digits joined by a dash, or on
    consecutive lines, there are a time range whose colons or dots OCR lost ('845-930' is 8:45-9:30),
    when they make a lesson's length (ten minutes to four hours; '2024-2025' is a school year)."""

    def fix(m: re.Match[str]) -> str:
        start, end = int(m[1]) * 60 + int(m[2]), int(m[4]) * 60 + int(m[5])
        if end <= start and end + 12 * 60 > start:
            end += 12 * 60  # '1230-130' on a 12-hour clock
        return f"{m[1]}:{m[2]}{m[3]}{m[4]}:{m[5]}" if 10 <= end - start <= 240 else m[0]

    return _BARE_RANGE.sub(fix, text)
