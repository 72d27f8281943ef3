"""What a person should check in an extracted timetable, written for a teacher rather than an engineer.

Pure: the asset checks turn these sentences into an upload's ``review_reasons`` (status
``needs_review``), and the week view shows them above the grid. The engineers' wording of the same
problems stays in ``validate.Issue.message`` and in the timetable's ``warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from timetable_platform.domain.days import DAY_NAMES
from timetable_platform.domain.model import DAYS, Day, Entry, Timetable
from timetable_platform.domain.validate import EARLIEST, LATEST, Issue

# Past this many sentences of one kind, the rest are counted rather than listed: a page of
# near-identical sentences hides the one that matters.
MAX_PER_KIND = 4


def _day(entry: Entry) -> str:
    week = f" (week {entry.week})" if entry.week else ""
    return f"{DAY_NAMES[entry.day]}{week}"


def _when(entry: Entry) -> str:
    if entry.start and entry.end:
        return f"{entry.start}-{entry.end}"
    return entry.start or (f"period {entry.period}" if entry.period else "no time")


def _capped(sentences: list[str], more: Callable[[int], str]) -> list[str]:
    if len(sentences) <= MAX_PER_KIND:
        return sentences
    return [*sentences[:MAX_PER_KIND], more(len(sentences) - MAX_PER_KIND)]


def overlap_reasons(timetable: Timetable, issues: Iterable[Issue]) -> list[str]:
    """One sentence per pair of lessons whose times overlap (same day, week and group)."""
    out = []
    for issue in issues:
        if issue.code != "overlap":
            continue
        a, b = (timetable.entries[i] for i in issue.entries)
        out.append(
            f"Two lessons overlap on {_day(a)}, {_when(a)} ({a.subject}) and {_when(b)} ({b.subject}): "
            "check the printed times."
        )
    return _capped(out, lambda n: f"{n} more pairs of lessons overlap: check the printed times.")


def time_order_reasons(timetable: Timetable, issues: Iterable[Issue]) -> list[str]:
    """Lessons that end before they start, last no time, or carry an unreadable time."""
    out = []
    for issue in issues:
        entry = timetable.entries[issue.entries[0]]
        if issue.code == "start_after_end":
            out.append(f"{entry.subject} on {_day(entry)} ends before it starts ({_when(entry)}): check its times.")
        elif issue.code == "zero_length":
            out.append(f"{entry.subject} on {_day(entry)} starts and ends at {entry.start}: check its end time.")
        elif issue.code == "bad_time":
            out.append(f"{entry.subject} on {_day(entry)} has a time that could not be read: check its times.")
    return _capped(out, lambda n: f"{n} more lessons have times that do not add up: check them.")


def time_range_reasons(timetable: Timetable, issues: Iterable[Issue]) -> list[str]:
    out = []
    seen: set[int] = set()
    for issue in issues:
        if issue.code != "time_out_of_range" or issue.entries[0] in seen:
            continue
        seen.add(issue.entries[0])
        entry = timetable.entries[issue.entries[0]]
        out.append(
            f"{entry.subject} on {_day(entry)} is at {_when(entry)}, outside a school day "
            f"({EARLIEST}-{LATEST}): check its times."
        )
    return _capped(out, lambda n: f"{n} more lessons lie outside a school day: check their times.")


def empty_days(timetable: Timetable) -> list[Day]:
    """Days with no entries that lie between days with entries, in each week the timetable has.

    A Monday-to-Friday timetable read as Monday, Tuesday, Thursday, Friday had a Wednesday column:
    that is all the timetable itself can tell. (Days missing at the ends cannot be told apart from
    a four-day timetable.)
    """
    by_week: dict[str | None, set[str]] = {}
    for entry in timetable.entries:
        by_week.setdefault(entry.week, set()).add(entry.day)
    missing: list[Day] = []
    for days in by_week.values():
        indices = [DAYS.index(d) for d in days]  # type: ignore[arg-type]
        for index in range(min(indices), max(indices) + 1):
            day = DAYS[index]
            if day not in days and day not in missing:
                missing.append(day)
    return sorted(missing, key=DAYS.index)


def empty_day_reasons(days: Sequence[str]) -> list[str]:
    return [
        f"No lessons were read for {DAY_NAMES[day]}, though the days around it have lessons: "
        "check that day in the document."
        for day in days
    ]


def confidence_reasons(mean: float | None, low_share: float | None, *, low_threshold: float) -> list[str]:
    """Sentences for a reading the extractor was unsure about (only those passed in are reported)."""
    out = []
    if mean is not None:
        out.append(f"The reading is uncertain (average confidence {mean:.0%}): compare it with the document.")
    if low_share is not None:
        out.append(
            f"{low_share:.0%} of the lessons were read with low confidence (under {low_threshold:.0%}); "
            "they are outlined in the week view: check them against the document."
        )
    return out


# --- the timetable's own warnings, reworded ------------------------------------------------------
# The merge and the readers write their warnings for engineers (Dagster metadata, the CLI's stderr);
# these patterns follow merge.py's wording. A warning no pattern knows is shown as it is; a note
# about image processing that needs nothing from a teacher is left out.

_NOT_FOR_TEACHERS = re.compile(r"^page \d+: deskewed by ")

_LABEL = (
    r"(?P<day>MON|TUE|WED|THU|FRI|SAT|SUN)(?: week (?P<week>\S+))?"
    r"(?: (?P<when>\d{1,2}:\d{2}-(?:\d{1,2}:\d{2})?|period .+?))?"
)
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(rf"^{_LABEL}: '(?P<subject>.*)' times (?P<a>\S+) vs (?P<b>\S+)$"),
        lambda m: (
            f"{m['subject']} on {_label_day(m)}: its time was read once as {_span(m['a'])} and once as "
            f"{_span(m['b'])}; check the printed time."
        ),
    ),
    (
        re.compile(rf"^{_LABEL}: subject '(?P<a>.*)' vs '(?P<b>.*)'$"),
        lambda m: (
            f'{_label_day(m)}{_label_when(m)}: read once as "{m["a"]}" and once as "{m["b"]}"; '
            "check which is right."
        ),
    ),
    (
        re.compile(r"^second reading only \(not added\): (?P<rest>.*)$"),
        lambda m: (
            f"Some blocks were seen only in the second reading and left out ({_day_codes_named(m['rest'])}): "
            "check that no lesson is missing."
        ),
    ),
    (
        re.compile(r"^(?P<days>[A-Z]{3}(?:, [A-Z]{3})*): only the second reading found blocks on these days; (?P<n>\d+) added, unconfirmed$"),
        lambda m: (
            f"The lessons of {_day_list(m['days'])} were found by only one of the two readings: check them."
        ),
    ),
    (
        re.compile(r"^\.\.\. and (?P<n>\d+) more disagreements between the two readings$"),
        lambda m: f"The two readings of the document disagree in {m['n']} more places.",
    ),
]


def _label_day(m: re.Match[str]) -> str:
    week = f" (week {m['week']})" if m["week"] else ""
    return f"{DAY_NAMES[m['day']]}{week}"


def _label_when(m: re.Match[str]) -> str:
    when = (m["when"] or "").strip().rstrip("-")
    return f" {when}" if when else ""


def _day_codes_named(text: str) -> str:
    return re.sub(r"\b(MON|TUE|WED|THU|FRI|SAT|SUN)\b", lambda m: DAY_NAMES[m.group(1)], text)


def _span(times: str) -> str:
    start, _, end = times.partition("-")
    return f"{start}-{end}" if end else f"{start} with no end time"


def _day_list(codes: str) -> str:
    return ", ".join(DAY_NAMES[c] for c in codes.split(", "))


def plain_warning(warning: str) -> str | None:
    """A timetable warning in a teacher's words (unchanged when it is not one the merge writes);
    None when it asks nothing of a teacher."""
    if _NOT_FOR_TEACHERS.match(warning):
        return None
    for pattern, rewrite in _PATTERNS:
        match = pattern.match(warning)
        if match:
            return rewrite(match)
    return warning


def notices(timetable: Timetable) -> list[str]:
    """Everything a teacher should check in this timetable, in their words, without repeats:
    overlapping or impossible times, empty days, and the extractor's own warnings reworded."""
    from timetable_platform.domain.validate import semantic_issues

    issues = semantic_issues(timetable)
    found = [
        *overlap_reasons(timetable, issues),
        *time_order_reasons(timetable, issues),
        *time_range_reasons(timetable, issues),
        *empty_day_reasons(empty_days(timetable)),
        *(plain_warning(w) for w in timetable.warnings),
    ]
    return list(dict.fromkeys(n for n in found if n))


# --- the title --------------------------------------------------------------------------------

MAX_HEADING_WORDS = 16
_LEADING_TRAILING = " \t-\u2013\u2014:;,|"


def heading_or_none(title: str | None) -> str | None:
    """The title if it reads as a heading, else None: a reader may take a line of prose for one.

    Headings are short and capitalised ("Reception timetable January 2025", "4M", "Class: 2EJ
    Term: Autumn 2"); a line of six words or more that is mostly lower-case words, or that ends a
    sentence, is prose ("If adult working on task work - once finished, move to ..."). A title
    printed twice in a row ("Daily Schedule- Daily Schedule-") is kept once.
    """
    if not title:
        return None
    text = " ".join(title.split()).strip(_LEADING_TRAILING)
    words = text.split()
    half = len(words) // 2
    if len(words) % 2 == 0 and half and [w.strip(_LEADING_TRAILING) for w in words[:half]] == [
        w.strip(_LEADING_TRAILING) for w in words[half:]
    ]:
        words = words[:half]
        text = " ".join(words).strip(_LEADING_TRAILING)
    if not words or len(words) > MAX_HEADING_WORDS:
        return None
    alphabetic = [w for w in words if w[:1].isalpha()]
    lower = sum(1 for w in alphabetic if w[:1].islower())
    if len(words) >= 6 and lower * 2 > len(alphabetic):
        return None
    if len(words) >= 6 and text.endswith((".", "!", "?")):
        return None
    return text or None
