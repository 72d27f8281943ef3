"""Day names in every language CLDR describes (via Babel): full names, abbreviations, single letters.

The forms of a language are CLDR's wide, abbreviated, short and narrow names (format and stand-alone),
plus any prefix (two letters or more) of a full name, plus a few printed forms CLDR lacks ('Weds',
'Thurs', 'X' for miércoles). A prefix two days share ('Se' for Senin and Selasa in Indonesian) names
both, and single letters name every day they start: such labels are settled by the document's
language or, for a header row, by the order of the labels (``resolve_day_sequence``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

from babel import Locale

from timetable_platform.domain.model import DAYS, Day
from timetable_platform.domain.text import fold, words

# Most likely first: a form several languages read differently goes to the first of them. The first
# seven are the languages Tesseract reads here and the corpus prints; the rest are read from digital
# documents (and by OCR where their script is Latin).
LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "nl", "pt",
    "id", "ms", "tr", "pl", "cs", "sk", "sv", "da", "nb", "fi", "ro", "hu", "hr", "sl", "ca", "gl",
    "eu", "fil", "sw", "vi", "af", "et", "lv", "lt", "ga", "cy", "sq", "is", "ru", "uk", "bg", "sr",
    "el", "tr", "ar", "he", "hi", "zh", "ja", "ko",
)  # fmt: skip
LANGUAGES = tuple(dict.fromkeys(LANGUAGES))
# Single letters ('P', 'K', 'H') name days in so many languages that, without a known language, only
# these languages' letters count.
LETTER_LANGUAGES = LANGUAGES[:7]

# Printed forms that are neither CLDR names nor prefixes of the full name.
EXTRA_FORMS: dict[str, dict[str, Day]] = {
    "en": {"weds": "WED", "thur": "THU", "thurs": "THU", "tues": "TUE"},
    "de": {"sonnabend": "SAT"},
    "es": {"x": "WED"},
    "pt": {"2a": "MON", "3a": "TUE", "4a": "WED", "5a": "THU", "6a": "FRI"},
}
# CLDR numbers days from Monday = 0.
_CLDR_INDEX = dict(enumerate(DAYS))
# English display names ('Monday'), from CLDR: what the week view and review notices print.
DAY_NAMES: dict[str, str] = {
    day: Locale.parse("en").days["format"]["wide"][index] for index, day in _CLDR_INDEX.items()
}


@cache
def _locale_days(language: str) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """(full names, other CLDR forms) per day in DAYS order, folded; full names include hyphen variants."""
    locale = Locale.parse(language)
    full: list[set[str]] = [set() for _ in DAYS]
    other: list[set[str]] = [set() for _ in DAYS]
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated", "short", "narrow"):
            for index, name in locale.days[context][width].items():
                folded = fold(name).strip().rstrip(".")
                if not folded:
                    continue
                (full if width == "wide" else other)[index].add(folded)
    for names in full:
        for name in list(names):
            names.update({name.replace("-", " "), name.replace("-", "").replace(" ", ""), name.split("-")[0]})
    return tuple(tuple(sorted(n)) for n in full), tuple(tuple(sorted(n)) for n in other)


def full_names(language: str) -> tuple[tuple[str, ...], ...]:
    return _locale_days(language)[0]


def short_names(language: str) -> tuple[tuple[str, ...], ...]:
    """Each day's abbreviated and narrow forms in one language (folded, no dots)."""
    return _locale_days(language)[1]


@cache
def _month_words() -> frozenset[str]:
    """Month names and abbreviations in every language (folded): what a dated day label ends with."""
    out: set[str] = set()
    for language in LANGUAGES:
        locale = Locale.parse(language)
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                out.update(fold(m).strip().rstrip(".") for m in locale.months[context][width].values())
    return frozenset(m for m in out if len(m) >= 3)


# Words that betray a document's language beyond its day names (folded).
LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        ["break", "lunch", "period", "registration", "assembly", "timetable", "room", "tutor", "form", "week", "lesson", "maths", "english", "science", "history", "geography", "recess", "homeroom"]
    ),
    "de": frozenset(
        ["std", "stunde", "stunden", "pause", "mittagspause", "stundenplan", "klasse", "raum", "lehrer", "uhr", "mathe", "deutsch", "englisch", "kunst", "sport", "erdkunde", "religion", "physik", "chemie", "biologie", "musik", "klassenrat", "grosse", "kleine"]
    ),
    "fr": frozenset(
        ["periode", "recre", "recreation", "emploi", "temps", "salle", "heure", "cours", "dejeuner", "francais", "mathematiques", "anglais", "histoire", "professeur", "classe", "semaine"]
    ),
    "es": frozenset(
        ["recreo", "horario", "clase", "hora", "aula", "profesor", "almuerzo", "matematicas", "lengua", "ingles", "semana", "asignatura"]
    ),
    "it": frozenset(
        ["intervallo", "orario", "ricreazione", "classe", "ora", "aula", "docente", "pranzo", "matematica", "italiano", "inglese", "storia", "settimana"]
    ),
    "nl": frozenset(
        ["pauze", "rooster", "lesrooster", "lesuur", "uur", "lokaal", "klas", "docent", "wiskunde", "nederlands", "engels", "geschiedenis", "middagpauze", "week"]
    ),
    "pt": frozenset(["intervalo", "horario", "aula", "professor", "sala", "turma", "almoco", "matematica", "portugues"]),
}

_LANGUAGE_PRIORITY = {lang: i for i, lang in enumerate(LANGUAGES)}
_SPACED_LETTERS = re.compile(r"^\s*(?:[^\W\d_][ \t]+){1,}[^\W\d_]\s*$")
_VERTICAL_LETTERS = re.compile(r"^\s*(?:[^\W\d_]\s*\n\s*){1,}[^\W\d_]\s*$")


def join_spaced_letters(text: str) -> str:
    """'B R E A K' / 'B\\nR\\nE\\nA\\nK' -> 'BREAK'; normal text is returned unchanged.

    Spaced letters on one line need three letters or more ('A B' is more likely two labels);
    letters stacked one per line need two.
    """
    stripped = text.strip()
    if _VERTICAL_LETTERS.match(stripped) or (
        _SPACED_LETTERS.match(stripped) and len(stripped.split()) >= 3
    ):
        return "".join(stripped.split())
    if "\n" in stripped:
        # Stacked letters as OCR reads them: a capital doubled or tripled in two cases ('Ww', 'WwW',
        # 'oO') or with a speck of the rule beside it ('S)'), one letter per line all the same.
        letters = [_OCR_LETTER.fullmatch(line.strip()) for line in stripped.split("\n")]
        if all(letters) and any(len(line.strip()) == 1 for line in stripped.split("\n")):
            return "".join(m[1] for m in letters if m)
    return text


# One letter read from a stacked label: alone, repeated in the other case, or with a stray mark beside it.
_OCR_LETTER = re.compile(r"[|(\[]?([^\W\d_])(?:(?i:\1)){0,2}[|)\].,]?")


@cache
def _forms(language: str) -> dict[str, frozenset[Day]]:
    """Every printed form (folded, no dots) of each day in one language -> the days it may mean."""
    out: dict[str, set[Day]] = {}
    full, other = _locale_days(language)
    prefixes: dict[str, set[Day]] = {}
    for day, names, forms in zip(DAYS, full, other, strict=True):
        for name in (*names, *forms):
            out.setdefault(name, set()).add(day)
        for name in names:
            if not name.isalpha() or len(name) > 15 or any(ord(c) >= 0x2E80 for c in name):
                continue  # prefixes only of alphabetic single-word names
            for n in range(2, len(name)):
                prefixes.setdefault(name[:n], set()).add(day)
    for prefix, days in prefixes.items():
        out.setdefault(prefix, set()).update(days)
    for form, day in EXTRA_FORMS.get(language, {}).items():
        out.setdefault(form, set()).add(day)
    return {k: frozenset(v) for k, v in out.items()}


_DATE_JOINERS = frozenset({"de", "del", "of"})


def _key(text: str) -> str:
    """'Mon.' -> 'mon', 'M O N' -> 'mon', 'Montag, 12.11.' -> 'montag', 'Mié' -> 'mie'."""
    text = join_spaced_letters(text.replace("_", " "))  # OCR reads a wide space as an underscore
    key = fold(text).strip()
    # Drop a trailing date ('Tuesday 14th Oct', 'Mardi 3 septembre', 'Wed, Sep 4', 'Montag, 12.11.'):
    # the words after the first that are numbers, ordinals or month names, when one is a number.
    parts = key.split()
    if len(parts) >= 2 and any(re.search(r"\d", t) for t in parts[1:]):
        months = _month_words()

        def dateish(token: str) -> bool:
            token = token.strip(".,;:")
            # 'de' / 'del' / 'of' join day and month in Portuguese, Spanish and English dates ('10 de março').
            return (
                bool(re.fullmatch(r"[\d./\-]*\d[\d./\-]*(?:st|nd|rd|th|er|e|o|a|º|ª)?", token))
                or token in months
                or token in _DATE_JOINERS
            )

        tail = parts[1:]
        while tail and dateish(tail[-1]):
            tail.pop()
        key = " ".join([parts[0], *tail])
    # 'Mo 3.', 'Tag 2', 'Mo3'; a single letter with digits glued on is a code ('S127', 'M12' rooms), no day.
    key = re.sub(r"(?:(?<=[^\W\d_]{2})|[\s,;:]+)\d[\d./\- ]*$", "", key)
    key = key.replace(".", "").strip(" \t\n:;,()[]*")
    # A mark apart from the name ('Friday -', 'Friday |'): a box's outline or a rule's end read by OCR.
    key = re.sub(r"^(?:[^\w\s]+\s+)+|(?:\s+[^\w\s]+)+$", "", key)
    return re.sub(r"\s+", " ", key)


_LINE_BREAK_HYPHEN = re.compile(r"-[ \t]*\n\s*|-[ \t]+(?=\w)")


def day_candidates(text: str, language: str | None = None) -> dict[str, frozenset[Day]]:
    """Language -> the days ``text`` may name in that language (only languages where it names one).

    A name broken at a hyphen over two lines of a narrow cell reads with the hyphen kept
    ('Segunda-\nfeira') or, when that names no day, taken out ('Wednes-\nday')."""
    if _LINE_BREAK_HYPHEN.search(text):
        kept = day_candidates(_LINE_BREAK_HYPHEN.sub("-", text), language)
        return kept or day_candidates(_LINE_BREAK_HYPHEN.sub("", text), language)
    key = _key(text)
    if not key or len(key) > 20:
        return {}
    langs = (language,) if language in LANGUAGES else LANGUAGES
    out: dict[str, frozenset[Day]] = {}
    for lang in langs:
        if len(key) == 1 and language is None and lang not in LETTER_LANGUAGES:
            continue
        days = _forms(lang).get(key)
        if days:
            out[lang] = days
    return out


def parse_day(text: str, language: str | None = None) -> Day | None:
    """The day a label names ('Monday', 'Mon.', 'Tu', 'Montag', 'Mi', 'lundi', 'Mié', 'X', 'M O N').

    With ``language``, that language decides ambiguous forms ('Ma' is TUE in fr, MON in nl). Without
    it, a form is accepted when every language reading it agrees, else the first of
    en, de, fr, es, it, nl, pt that reads it decides, and None if it is ambiguous there ('T', 'S').
    """
    candidates = day_candidates(text, language)
    if not candidates and language is not None:
        candidates = day_candidates(text, None)
        if len(_key(text)) <= 2:
            # Two letters that are a day only in a less common language ('Re', Friday in Estonian) are more
            # likely a code of the document's own language ('RE', 'PE': subjects of English schools).
            candidates = {lang: days for lang, days in candidates.items() if lang in LETTER_LANGUAGES}
    if not candidates:
        return None
    every = set().union(*candidates.values())
    if len(every) == 1:
        return next(iter(every))
    if language in candidates:
        days = candidates[language]
        return next(iter(days)) if len(days) == 1 else None
    # The most common language reading the form decides; if it is ambiguous there, nothing does.
    first = min(candidates, key=_LANGUAGE_PRIORITY.__getitem__)
    days = candidates[first]
    return next(iter(days)) if len(days) == 1 else None


@cache
def _full_name_set(language: str) -> frozenset[str]:
    return frozenset(n for names in full_names(language) for n in names)


def is_full_day_name(text: str) -> bool:
    """Whether the text is a day's full name in a language of LANGUAGES ('Tuesday', 'Terça-feira';
    not 'Art' or 'Mar', which are a day's short form somewhere and a lesson's name elsewhere)."""
    key = _key(text)
    return any(key in _full_name_set(language) for language in LANGUAGES)


@cache
def _short_form_set(language: str) -> frozenset[str]:
    """CLDR's abbreviated and short day names of three letters or more ('mié', 'jue', 'ter', 'qua')."""
    return frozenset(n for names in _locale_days(language)[1] for n in names if len(n) >= 3)


def language_evidence(texts: Iterable[str], languages: Sequence[str] = LANGUAGES) -> Counter[str]:
    """Evidence per language that ``texts`` are in it: 3 for each full day name, 1 for each timetable
    word of the language, and 1 shared among the languages whose abbreviated day name a word is
    ('jue' is Spanish alone; 'mar' is French, Spanish and Italian), so that a week view headed
    'LUN MAR MIÉ JUE VIE' tells its language too."""
    scores: Counter[str] = Counter()
    for text in texts:
        for word in words(text):
            full = [lang for lang in languages if word in _full_name_set(lang)]
            for lang in full:
                scores[lang] += 3
            short = [] if full else [lang for lang in languages if word in _short_form_set(lang)]
            for lang in short:
                scores[lang] += 1 / len(short)
            for lang in languages:
                if word in LANGUAGE_WORDS.get(lang, ()):
                    scores[lang] += 1
    return scores


def detect_language(texts: Iterable[str]) -> str | None:
    """ISO 639-1 code of the document's language, from day names and timetable words; None if no evidence."""
    scores: Counter[str] = Counter()
    for text in texts:
        for word in words(text):
            for lang in LANGUAGES:
                if word in _full_name_set(lang):
                    scores[lang] += 3
                if word in LANGUAGE_WORDS.get(lang, ()):
                    scores[lang] += 1
    if not scores:
        return None
    best = max(scores.values())
    winners = [lang for lang, s in scores.items() if s == best]
    return min(winners, key=_LANGUAGE_PRIORITY.__getitem__)


def _options(label: str, language: str | None) -> frozenset[Day]:
    candidates = day_candidates(label, language)
    if not candidates and language is not None:
        candidates = day_candidates(label, None)
    if not candidates:
        return frozenset()
    return frozenset().union(*candidates.values())


def resolve_day_sequence(labels: Sequence[str], language: str | None = None) -> list[Day | None]:
    """Days for a header row or column read together.

    Each label may name several days ('T' is TUE or THU); the order settles them: the labels are
    read as days going forward through the week (M,T,W,T,F -> MON..FRI; ..., F, S, S -> SAT, SUN),
    preferring no skipped days and a Monday start. A second week may follow (wrap-around).
    Labels that name no day give None.
    """
    options = [_options(label, language) for label in labels]
    positions = [i for i, opts in enumerate(options) if opts]
    result: list[Day | None] = [None] * len(labels)
    if not positions:
        return result
    index = {d: i for i, d in enumerate(DAYS)}
    inf = float("inf")
    # cost[k][d]: cheapest way to give labels positions[0..k] days, the k-th being day d.
    cost: list[list[float]] = []
    back: list[list[int]] = []
    for k, pos in enumerate(positions):
        row = [inf] * 7
        brow = [-1] * 7
        for d in (index[x] for x in options[pos]):
            if k == 0:
                row[d] = d  # prefer starting on Monday
                continue
            for p in range(7):
                if cost[k - 1][p] == inf:
                    continue
                step = d - p - 1 if d > p else 3 + d  # skipped days, or a new week
                c = cost[k - 1][p] + step
                if c < row[d]:
                    row[d], brow[d] = c, p
        cost.append(row)
        back.append(brow)
    d = min(range(7), key=lambda x: cost[-1][x])
    for k in range(len(positions) - 1, -1, -1):
        result[positions[k]] = DAYS[d]
        d = back[k][d]
    return result
