"""One spelling per name in a document read by OCR.

A timetable names the same subjects, teachers and rooms many times, and OCR misreads some of those
printings ('Scheaunde' for 'Scheikunde', '8151' for 'B151'). The document is its own dictionary: a
value printed once or twice that is a near copy of a value the document prints clearly more often is
that value misread. Values that differ only in a number or a short code ('Maths 1' / 'Maths 2',
'Physics A' / 'Physics B') are distinct names, never merged.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

from timetable_platform.domain.model import Timetable
from timetable_platform.domain.text import fold, strip_accents
from timetable_platform.reading.vocabulary import BREAK_TERMS, OTHER_TERMS, TITLE_WORDS, misread_slot_term

FIELDS = ("subject", "teacher", "room", "group")
# Characters OCR confuses in print, mapped to one representative, so that 'B151' and '8151' compare equal.
_CONFUSABLE = str.maketrans({
    "O": "0", "o": "0", "D": "0", "Q": "0",
    "I": "1", "l": "1", "|": "1", "i": "1", "!": "1",
    "S": "5", "s": "5",
    "B": "8",
    "Z": "2", "z": "2",
    "G": "6",
    "g": "9", "q": "9",
    ",": ".", ";": ".",
})
_SIMILAR = 0.82
_TITLE = re.compile(rf"(?:{TITLE_WORDS})", re.IGNORECASE)


def _shape(value: str) -> str:
    return " ".join(value.translate(_CONFUSABLE).split())


def _tokens(value: str) -> list[str]:
    return re.findall(r"\w+", value.casefold())


def _distinct_names(a: str, b: str) -> bool:
    """Whether two near-equal values are different names: they differ in one short token or in digits only."""
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) == len(tb):
        differing = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
        if len(differing) == 1 and max(len(differing[0][0]), len(differing[0][1])) <= 2:
            return True
        # 'Sr. Ortiz' and 'Sra. Ortiz', 'Mr Lee' and 'Ms Lee': another title is another person.
        if any(_TITLE.fullmatch(x) and _TITLE.fullmatch(y) for x, y in differing):
            return True
    return re.sub(r"\d", "", a) == re.sub(r"\d", "", b) and a != b


def _misread_of(value: str, counts: Counter[str]) -> str | None:
    """The value the document prints more often that ``value`` is an OCR misreading of, if any."""
    own = counts[value]
    best: tuple[float, str] | None = None
    for other, count in counts.items():
        if other == value or count < 2 or count < 2 * own or abs(len(other) - len(value)) > 2:
            continue
        if _shape(other) == _shape(value):
            ratio = 1.0
        else:
            ratio = difflib.SequenceMatcher(None, other.casefold(), value.casefold()).ratio()
        if ratio < _SIMILAR or (_distinct_names(other, value) and ratio < 1.0):
            continue
        if best is None or (ratio, count) > (best[0], counts[best[1]]):
            best = (ratio, other)
    return best[1] if best is not None else None


def _accents_restored(values: list[str]) -> dict[str, str]:
    """Values with a word the document prints elsewhere with its accents ('Quimica' where 'Química' is
    printed too) -> the value with the accented word: OCR drops a small accent now and then, print
    never does."""
    accented: dict[str, str] = {}
    for value in values:
        for word in re.findall(r"\w+", value):
            bare = strip_accents(word)
            if bare != word:
                accented.setdefault(bare, word)
    fixes: dict[str, str] = {}
    for value in values:
        fixed = re.sub(r"\w+", lambda m: accented.get(m[0], m[0]), value)
        if fixed != value:
            fixes[value] = fixed
    return fixes


# A slot named alike on this many days is a row of the school day (a break, registration), not a lesson.
SLOT_ROW_DAYS = 3
# Break and registration words this long at least are told from a misread lesson name by one letter.
SLOT_TERM_LENGTH = 5


def _slot_words_restored(timetable: Timetable) -> int:
    """Break and registration names OCR misread by one letter, alike on every day ('Brak', 'Lunh'): a
    row of the school day prints the same name each day, so the document offers no clean copy to learn
    from. A one-word name one letter off such a word, printed at the same time on several days, is that
    word; the slot's kind follows it."""
    days: dict[tuple[str, str], set[str]] = {}
    for entry in timetable.entries:
        if entry.subject and entry.start:
            days.setdefault((entry.subject, entry.start), set()).add(entry.day)
    fixes: dict[str, tuple[str, str]] = {}
    for (value, _), seen in days.items():
        word = fold(value).strip(" .:")
        if len(seen) < SLOT_ROW_DAYS or not word.isalpha() or word in BREAK_TERMS or word in OTHER_TERMS:
            continue
        found = misread_slot_term(word, SLOT_TERM_LENGTH)
        if found is not None:
            kind, term = found
            fixes[value] = (term.upper() if value.isupper() else term.capitalize() if value[:1].isupper() else term, kind)
    changed = 0
    for entry in timetable.entries:
        if entry.subject in fixes:
            entry.subject, entry.kind = fixes[entry.subject]  # type: ignore[assignment]
            changed += 1
    return changed


def consolidate_spellings(timetable: Timetable) -> int:
    """Give every value its document's dominant spelling; returns how many field values changed."""
    changed = _slot_words_restored(timetable)
    for field in FIELDS:
        restored = _accents_restored([value for entry in timetable.entries if (value := getattr(entry, field))])
        for entry in timetable.entries:
            value = getattr(entry, field)
            if value in restored:
                setattr(entry, field, restored[value])
                changed += 1
        counts = Counter(
            value for entry in timetable.entries if (value := getattr(entry, field)) and len(value) >= 3
        )
        fixes = {value: fix for value in counts if (fix := _misread_of(value, counts)) is not None}
        if not fixes:
            continue
        for entry in timetable.entries:
            value = getattr(entry, field)
            if value in fixes:
                setattr(entry, field, fixes[value])
                changed += 1
    return changed
