"""Reconcile two independent readings of one document, entry by entry, and score every entry.

Entries are aligned by (week, day) and time overlap (or period label when no times are printed).
Each field is voted on: where the readings agree the value stands; where they differ, the value
with more evidence wins (the same text elsewhere in the document, then the reader's weight times
its own confidence) and the disagreement becomes a warning. Every entry gets a confidence from
how the two readings relate on it (``entry_confidence``), calibrated on the corpora so that
entries at 0.9 or more are right at least 90% of the time (``bench/calibrate_merge.py``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from timetable_platform.domain.model import Entry, Timetable

SUBJECT_RATIO = 0.9
# Factor by which the second reading's weighted confidence must exceed the first's to overrule it.
OVERRULE_MARGIN = 1.25
FIELDS = ("teacher", "room", "group")
MAX_WARNINGS = 25


class Agreement(StrEnum):
    """How the two readings relate on one entry."""

    AGREE = "agree"  # same times, same subject
    TIME_DIFF = "time_diff"  # same subject, overlapping but different times
    SUBJECT_DIFF = "subject_diff"  # same times, different subject
    BOTH_DIFF = "both_diff"  # overlapping times, different subject
    PRIMARY_ONLY = "primary_only"  # the second reading has nothing there (but read the document)
    SECONDARY_ONLY = "secondary_only"  # only the second reading found it
    SINGLE = "single"  # no usable second reading of this document
    SECOND_ALONE = "second_alone"  # the first reading found (almost) nothing; the second stands alone


# Confidence per agreement and the first reader's own confidence (>= 0.95, >= 0.8, below), from the
# observed share of right entries (bench/calibrate_merge.py over the 40 synthetic and 5 real corpus
# documents plus 40 generated ones; two rounds as the readers improved), rounded down, more so where
# groups are small or the rounds differed. Only classes observed >= 95% right may reach 0.9.
CALIBRATION: dict[Agreement, tuple[float, float, float]] = {
    Agreement.AGREE: (0.98, 0.95, 0.85),  # observed 0.986 / 0.965 / 1.0 (15 entries)
    Agreement.PRIMARY_ONLY: (0.95, 0.85, 0.4),  # 0.989 / 0.948 (0.81 in round one) / 0.375
    Agreement.SUBJECT_DIFF: (0.75, 0.5, 0.3),  # 0.75 in uncontested documents
    Agreement.TIME_DIFF: (0.85, 0.75, 0.5),  # 0.93 in uncontested documents (0.607 in round one)
    Agreement.BOTH_DIFF: (0.4, 0.4, 0.3),  # 1 of 2, 1 of 3
    Agreement.SECONDARY_ONLY: (0.2, 0.2, 0.2),  # not added to the output; reported in warnings
    Agreement.SINGLE: (0.7, 0.65, 0.5),  # 0.82 / 0.78 / 0.55 (0.38 / 0.56 in round one)
    Agreement.SECOND_ALONE: (0.75, 0.75, 0.7),  # 0.775 in round one (by the second reader's own figure)
}
# A document is contested when the readings name different subjects for more than this share of the
# blocks they both found (a reader misplaced whole rows); then no entry is as sure as usual. Caps
# from the observed shares in contested documents: agree 0.84, first only 0.84, times differ 0.57,
# subjects differ 0.19.
CONTESTED_SHARE = 0.2
CONTESTED_CAP: dict[Agreement, float] = {
    Agreement.AGREE: 0.85,
    Agreement.PRIMARY_ONLY: 0.8,
    Agreement.TIME_DIFF: 0.55,
    Agreement.SUBJECT_DIFF: 0.2,
    Agreement.BOTH_DIFF: 0.4,
}
# Below this share of the first reading's entries confirmed by the second, the two readings disagree
# about the document as a whole; then no single entry is vouched for (observed: about half right).
MIN_COVERAGE = 0.35
OWN_HIGH = 0.95
# Blocks the second reading must find on a day the first has nothing on before they are added.
MIN_DAY_BLOCKS = 3
OWN_MID = 0.8


def norm_text(value: str | None) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", value).casefold()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u2018\u2019\u201c\u201d'\"`]", "", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .,;:-/|()[]")


def same_text(a: str | None, b: str | None) -> bool:
    na, nb = norm_text(a), norm_text(b)
    if na == nb:
        return True
    if not na or not nb:
        return False
    return difflib.SequenceMatcher(None, na, nb).ratio() >= SUBJECT_RATIO


def _minutes(hhmm: str | None) -> int | None:
    if not hhmm:
        return None
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def time_overlap(a: Entry, b: Entry) -> float:
    """Intersection over union of the two time ranges (a start-only entry counts as 5 minutes)."""
    a0, b0 = _minutes(a.start), _minutes(b.start)
    if a0 is None or b0 is None:
        return 0.0
    a1 = _minutes(a.end) or a0 + 5
    b1 = _minutes(b.end) or b0 + 5
    inter = min(a1, b1) - max(a0, b0)
    union = max(a1, b1) - min(a0, b0)
    if inter <= 0 or union <= 0:
        return 1.0 if a0 == b0 else 0.0
    return inter / union


def same_times(a: Entry, b: Entry) -> bool:
    if a.start is None and b.start is None:
        return norm_text(a.period) == norm_text(b.period)
    return a.start == b.start and a.end == b.end


def entry_confidence(
    agreement: Agreement,
    *,
    own_confidence: float | None = None,
    coverage: float = 1.0,
    contested: bool = False,
) -> float:
    """Calibrated confidence of a merged entry.

    ``agreement``: how the two readings relate on the entry; ``own_confidence``: the first reader's
    figure for it (its penalties for guessed boundaries, OCR doubt...); ``coverage``: the share of the
    first reading's entries the second one confirmed. Under ``MIN_COVERAGE`` the readings disagree
    about the whole document and every entry counts as unconfirmed (``SINGLE``); ``contested``: they
    name different subjects for many shared blocks, which caps every figure (``CONTESTED_CAP``).
    """
    if coverage < MIN_COVERAGE and agreement not in (Agreement.SECONDARY_ONLY, Agreement.SECOND_ALONE):
        agreement = Agreement.SINGLE
    own = 1.0 if own_confidence is None else own_confidence
    high, mid, low = CALIBRATION[agreement]
    value = high if own >= OWN_HIGH else (mid if own >= OWN_MID else low)
    if contested:
        value = min(value, CONTESTED_CAP.get(agreement, value))
    return round(max(0.0, min(1.0, value)), 3)


@dataclass
class _Pair:
    primary: Entry
    secondary: Entry | None
    agreement: Agreement


def _pair_score(p: Entry, s: Entry) -> float | None:
    """How well two entries of the same day and week line up; None when they cannot be the same block."""
    if p.start is None or s.start is None:
        if p.start is None and s.start is None and p.period and norm_text(p.period) == norm_text(s.period):
            return 2.0 + (1.0 if same_text(p.subject, s.subject) else 0.0)
        return None
    overlap = time_overlap(p, s)
    if overlap < 0.5 and p.start != s.start:
        return None
    return 2.0 * overlap + (1.0 if same_text(p.subject, s.subject) else 0.0)


def align(primary: Sequence[Entry], secondary: Sequence[Entry]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """One-to-one pairs (primary index, secondary index), best first; then the unpaired of each side."""
    candidates: list[tuple[float, int, int]] = []
    # A reading that saw no A/B weeks at all is compared on days alone.
    use_weeks = any(x.week for x in primary) and any(x.week for x in secondary)
    for i, p in enumerate(primary):
        for j, s in enumerate(secondary):
            if p.day != s.day or (use_weeks and (p.week or None) != (s.week or None)):
                continue
            score = _pair_score(p, s)
            if score is not None:
                candidates.append((score, i, j))
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_p: set[int] = set()
    used_s: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in candidates:
        if i in used_p or j in used_s:
            continue
        used_p.add(i)
        used_s.add(j)
        pairs.append((i, j))
    return (
        sorted(pairs),
        [i for i in range(len(primary)) if i not in used_p],
        [j for j in range(len(secondary)) if j not in used_s],
    )


# A first reading that places fewer than this share of the second's blocks in time and day (a table
# misread so that rows lost their times) gives way to the second, when the second places this many.
FAR_FEWER_SHARE = 1 / 3
FAR_FEWER_MIN_BLOCKS = 8


def _placed(entries: Sequence[Entry]) -> int:
    """Distinct day-and-time (or day-and-period) slots the entries fill: how much of a week a reading
    pins down, whatever else it read."""
    return len({(e.week, e.day, e.start or f"P{e.period}") for e in entries if e.start or e.period})


def places_far_fewer(primary: Sequence[Entry], secondary: Sequence[Entry]) -> bool:
    """The first reading pins down far fewer day-and-time slots than the second: it lost the table."""
    second = _placed(secondary)
    return second >= FAR_FEWER_MIN_BLOCKS and _placed(primary) < FAR_FEWER_SHARE * second


def _label(e: Entry) -> str:
    when = f"{e.start}-{e.end or ''}" if e.start else (f"period {e.period}" if e.period else "")
    week = f" week {e.week}" if e.week else ""
    return f"{e.day}{week} {when}".strip()


def merge_candidates(
    primary: Timetable,
    secondary: Timetable | None,
    *,
    primary_weight: float = 1.0,
    secondary_weight: float = 1.0,
) -> Timetable:
    """One timetable from two readings; every entry gets a calibrated confidence, disagreements become warnings."""
    merged, _ = merge_with_agreements(
        primary, secondary, primary_weight=primary_weight, secondary_weight=secondary_weight
    )
    return merged


def merge_with_agreements(
    primary: Timetable,
    secondary: Timetable | None,
    *,
    primary_weight: float = 1.0,
    secondary_weight: float = 1.0,
) -> tuple[Timetable, list[Agreement]]:
    """``merge_candidates`` plus how the readings related on each output entry (for calibration)."""
    merged = primary.model_copy(deep=True)
    if secondary is None or not secondary.entries:
        for e in merged.entries:
            e.confidence = entry_confidence(Agreement.SINGLE, own_confidence=e.confidence)
        return merged, [Agreement.SINGLE] * len(merged.entries)
    if not primary.entries or places_far_fewer(primary.entries, secondary.entries):
        out = secondary.model_copy(deep=True)
        for e in out.entries:
            e.confidence = entry_confidence(Agreement.SECOND_ALONE, own_confidence=e.confidence)
        set_aside = (
            [f"the first reading placed {_placed(primary.entries)} blocks in time, the second "
             f"{_placed(secondary.entries)}: the second is taken"] if primary.entries else []
        )  # fmt: skip
        out.warnings = [*primary.warnings, *set_aside, *out.warnings]
        return out, [Agreement.SECOND_ALONE] * len(out.entries)

    p_entries, s_entries = primary.entries, secondary.entries
    pairs, only_p, only_s = align(p_entries, s_entries)
    coverage = len(pairs) / len(p_entries)
    differ = sum(1 for i, j in pairs if not same_text(p_entries[i].subject, s_entries[j].subject))
    contested = bool(pairs) and differ / len(pairs) > CONTESTED_SHARE
    # Evidence for a value: how often the document prints it, across both readings.
    printed = Counter(norm_text(e.subject) for e in [*p_entries, *s_entries])

    warnings: list[str] = []
    result: list[tuple[int, Entry, Agreement]] = []
    for i, j in pairs:
        p, s = p_entries[i], s_entries[j]
        entry, agreement, notes = _merge_pair(p, s, printed, primary_weight, secondary_weight)
        entry.confidence = entry_confidence(
            agreement, own_confidence=p.confidence, coverage=coverage, contested=contested
        )
        if coverage < MIN_COVERAGE:
            agreement = Agreement.SINGLE
        warnings.extend(notes)
        result.append((i, entry, agreement))
    for i in only_p:
        entry = p_entries[i].model_copy()
        agreement = Agreement.PRIMARY_ONLY
        entry.confidence = entry_confidence(
            agreement, own_confidence=entry.confidence, coverage=coverage, contested=contested
        )
        if coverage < MIN_COVERAGE:
            agreement = Agreement.SINGLE
        result.append((i, entry, agreement))
    result.sort(key=lambda t: t[0])
    entries = [e for _, e, _ in result]
    agreements = [a for _, _, a in result]
    # Blocks only the second reading saw are not added (on the corpora they were almost never right
    # next to a first reading that found the document); they are reported instead. The exception is a
    # day the first reading has nothing on while the second has several blocks there (the first saw
    # only part of the page): those are added, unconfirmed.
    unseen = [s_entries[j] for j in only_s]
    # A name the first reading placed as a room, teacher or group is no lesson of a day it missed.
    first_fields = {norm_text(v) for e in p_entries for v in (e.room, e.teacher, e.group) if v}
    unseen = [s for s in unseen if norm_text(s.subject) not in first_fields]
    first_days = {e.day for e in p_entries}
    second_days = Counter(s.day for s in unseen)
    missing_days = {day for day, n in second_days.items() if day not in first_days and n >= MIN_DAY_BLOCKS}
    if missing_days:
        kept = [s for s in unseen if s.day in missing_days]
        for s in kept:
            entry = s.model_copy()
            entry.confidence = entry_confidence(Agreement.SECOND_ALONE, own_confidence=s.confidence)
            entries.append(entry)
            agreements.append(Agreement.SECOND_ALONE)
        unseen = [s for s in unseen if s.day not in missing_days]
        days = ", ".join(sorted(missing_days))
        warnings.append(f"{days}: only the second reading found blocks on these days; {len(kept)} added, unconfirmed")
    if unseen:
        sample = ", ".join(f"{_label(s)} '{s.subject}'" for s in unseen[:3])
        more = f" and {len(unseen) - 3} more" if len(unseen) > 3 else ""
        warnings.append(f"second reading only (not added): {sample}{more}")

    merged.entries = entries
    merged.title = primary.title or secondary.title
    merged.owner = primary.owner or secondary.owner
    if len(warnings) > MAX_WARNINGS:
        extra = len(warnings) - MAX_WARNINGS
        warnings = [*warnings[:MAX_WARNINGS], f"... and {extra} more disagreements between the two readings"]
    merged.warnings = [*primary.warnings, *warnings]
    return merged, agreements


def _stray_tail(longer: str, shorter: str) -> bool:
    """'Tutor Time RS' against 'Tutor Time': one reading kept a short code or number (a room or
    teacher it could not place) at the end of the name; the other's name is the name."""
    a, b = norm_text(longer).split(), norm_text(shorter).split()
    if not b or len(a) != len(b) + 1 or a[: len(b)] != b:
        return False
    tail = longer.split()[-1]
    return len(tail) <= 5 and (tail.isupper() or any(c.isdigit() for c in tail))


def _same_slot_week(a: Entry, b: Entry) -> bool:
    return a.day == b.day and (a.week or None) == (b.week or None)


def _clashes(a: Entry, b: Entry) -> bool:
    if a.start is None or b.start is None:
        return a.start is None and b.start is None and norm_text(a.period) == norm_text(b.period)
    return time_overlap(a, b) > 0.0 or a.start == b.start


def _merge_pair(
    p: Entry, s: Entry, printed: Counter[str], primary_weight: float, secondary_weight: float
) -> tuple[Entry, Agreement, list[str]]:
    entry = p.model_copy()
    notes: list[str] = []
    p_score = primary_weight * (p.confidence if p.confidence is not None else 1.0)
    # The second reading must be clearly stronger to overrule the first.
    s_score = secondary_weight * (s.confidence if s.confidence is not None else 1.0) / OVERRULE_MARGIN
    # Only a caller who weighs the second reading above the first lets it overrule a printed value;
    # on the corpora the cell reader's value was right far more often when the two disagreed.
    trust_secondary = secondary_weight > primary_weight
    times_agree = same_times(p, s)
    subject_agree = same_text(p.subject, s.subject)
    if not subject_agree:
        p_seen, s_seen = printed[norm_text(p.subject)], printed[norm_text(s.subject)]
        # Two spellings of one name ('Engl1sh' / 'English', same words): the one the document prints
        # elsewhere wins; a name with a word more ('Maths Cont') is not a misspelling of 'Maths'.
        variants = (
            len(p.subject.split()) == len(s.subject.split())
            and difflib.SequenceMatcher(None, norm_text(p.subject), norm_text(s.subject)).ratio() >= 0.6
        )
        take_secondary = (
            (variants and p_seen <= 2 and s_seen > p_seen + 1)
            or _stray_tail(p.subject, s.subject)
            or (trust_secondary and not (variants and p_seen > s_seen) and s_score > p_score)
        ) and not _stray_tail(s.subject, p.subject)
        if take_secondary:
            entry.subject, entry.kind = s.subject, s.kind
            for name in FIELDS:
                setattr(entry, name, getattr(s, name))
        notes.append(f"{_label(p)}: subject '{p.subject}' vs '{s.subject}'")
    if not times_agree:
        if (trust_secondary and s_score > p_score) or (p.start is None and s.start is not None):
            entry.start, entry.end = s.start, s.end
        notes.append(f"{_label(p)}: '{entry.subject}' times {p.start}-{p.end or ''} vs {s.start}-{s.end or ''}")
    if subject_agree:
        for name in FIELDS:
            pv, sv = getattr(p, name), getattr(s, name)
            if sv is not None and (pv is None or not same_text(pv, sv)) and trust_secondary and s_score > p_score:
                setattr(entry, name, sv)
    if entry.period is None and s.period is not None:
        entry.period = s.period
    if times_agree and subject_agree:
        agreement = Agreement.AGREE
    elif subject_agree:
        agreement = Agreement.TIME_DIFF
    elif times_agree:
        agreement = Agreement.SUBJECT_DIFF
    else:
        agreement = Agreement.BOTH_DIFF
    return entry, agreement, notes
