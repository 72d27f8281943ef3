"""How plausible a reading of a whole document is, and what that does to its entries' confidence.

The readers score each entry from what they saw locally (an OCR word's certainty, a boundary guessed
from a neighbour). A reading can be locally sure and still wrong as a whole: OCR debris read as
lesson names, a table read in the wrong orientation so that most blocks lose their times. These are
document-level signs; they lower every entry of a doubtful reading, and the entries that show them
most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from timetable_platform.domain.model import Timetable

# Characters that lesson names print; others ('¢', '@', '|', '~') are OCR debris.
_NAME_CHARS = re.compile(r"[^\w\s\-–&/().,:;'’+#*!?\"%°ºª]")
# Confidence lost by an entry whose name looks like debris, and the most a document's doubt takes away.
PENALTY_DEBRIS = 0.3
# Confidence lost by an entry placed at no time nor period where most of the document's entries have
# times: it lost them (a misread label, a word of the page's furniture read as a lesson).
PENALTY_TIMELESS = 0.2
MAX_DOCUMENT_PENALTY = 0.3
# What an OCR reading of a document never gets past: nothing read from pixels is that certain, however the
# two readings agree (measured: entries >= 0.9 right far less often on images than on text layers).
OCR_CAP = 0.85
# A reading no second reader checked, whose own figure carries a guess (a boundary taken from a
# neighbour, a field split by a narrow margin), stays under 0.9: on the held-out documents such
# entries between 0.9 and 0.95 were right half the time, those without a guess every time.
UNCHECKED_GUESS_CAP = 0.85
UNGUESSED = 0.95

@dataclass(frozen=True)
class Plausibility:
    debris_share: float
    timeless_share: float
    penalty: float


def too_few_letters(text: str) -> bool:
    """Fewer than two letters ('2', '3:0', 'I'): debris of a time, a ruling's stub or a speck OCR read,
    never a lesson's name."""
    return sum(ch.isalpha() for ch in text) < 2


def looks_like_debris(subject: str) -> bool:
    """A name no timetable prints: no word of three letters nor a capitalised code ('PE', 'PHY(L)'), or
    characters OCR makes of specks."""
    words = re.findall(r"[^\W\d_]{3,}|\b[A-Z][A-Z\d]+\b", subject)
    return not words or bool(_NAME_CHARS.search(subject))


def assess(timetable: Timetable) -> Plausibility:
    entries = timetable.entries
    if not entries:
        return Plausibility(0.0, 0.0, 0.0)
    debris = sum(1 for e in entries if looks_like_debris(e.subject)) / len(entries)
    timed = [e for e in entries if e.start]
    # Where most entries have times, the rest lost theirs to a misread header or an odd merge.
    timeless = (len(entries) - len(timed)) / len(entries) if timed else 0.0
    penalty = min(MAX_DOCUMENT_PENALTY, 0.5 * debris + 0.3 * timeless)
    return Plausibility(debris_share=debris, timeless_share=timeless, penalty=penalty)


def without_unplaced_repeats(timetable: Timetable) -> int:
    """Drop entries placed at no time nor period that repeat a lesson the same day holds placed: a
    second reading of part of the table (a block of it read again without its row labels) adds nothing
    a teacher could use. Returns how many were dropped."""
    placed = {(e.week, e.day, e.subject.casefold()) for e in timetable.entries if e.start or e.period}
    kept = [
        e for e in timetable.entries
        if e.start or e.period or (e.week, e.day, e.subject.casefold()) not in placed
    ]  # fmt: skip
    dropped = len(timetable.entries) - len(kept)
    timetable.entries = kept
    return dropped


# A legend's line: a footnote mark, then words ('# Science stream only', '† Held in the library').
_LEGEND_LINE = re.compile(r"[#*†‡]\s+[^\W\d_]")


def without_legends(timetable: Timetable) -> int:
    """Drop entries that are a legend's lines: a timetable marks some lessons ('Chemistry #') and
    explains the marks under the table, where a reading by position puts them in the last row's slots.
    No lesson's name opens with a footnote mark and a space. Returns how many were dropped."""
    kept = [e for e in timetable.entries if not _LEGEND_LINE.match(e.subject)]
    if not kept:  # nothing but marked lines: no legend of anything, the reading is left as it is
        return 0
    dropped = len(timetable.entries) - len(kept)
    timetable.entries = kept
    return dropped


def adjust_confidence(timetable: Timetable, *, ocr: bool, single_reading: bool = False) -> Plausibility:
    """Lower the entries' confidence by the document's doubt and their own signs of debris; cap OCR,
    and, for a reading no second reader checked, any entry whose own figure carries a guess."""
    found = assess(timetable)
    for entry in timetable.entries:
        value = 1.0 if entry.confidence is None else entry.confidence
        if single_reading and value < UNGUESSED:
            value = min(value, UNCHECKED_GUESS_CAP)
        value -= found.penalty
        if looks_like_debris(entry.subject):
            value -= PENALTY_DEBRIS
        if 0.0 < found.timeless_share < 0.5 and not entry.start and not entry.period:
            value -= PENALTY_TIMELESS
        if ocr:
            value = min(value, OCR_CAP)
        entry.confidence = round(max(0.0, min(1.0, value)), 3)
    return found
