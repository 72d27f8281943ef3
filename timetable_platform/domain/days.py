"""Day names in en, de, fr, es, it, nl and pt: full names, abbreviations, single letters, spaced letters.

An abbreviation is any prefix (two letters or more) of a day's full name that no other day of the
same language shares, plus a few printed forms that are not prefixes ('Weds', 'X' for miércoles).
Single letters and cross-language clashes ('Ma', 'Do', 'Di', 'M', 'T', 'S') are settled by the
document's language or, for a header row, by the order of the labels (``resolve_day_sequence``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

from timetable_platform.domain.model import DAYS, Day
from timetable_platform.domain.text import fold, words

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl", "pt")

# Full names in DAYS order (MON..SUN), folded (lower case, no accents).
FULL_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (("monday",), ("tuesday",), ("wednesday",), ("thursday",), ("friday",), ("saturday",), ("sunday",)),
    "de": (("montag",), ("dienstag",), ("mittwoch",), ("donnerstag",), ("freitag",), ("samstag",), ("sonntag",)),
    "fr": (("lundi",), ("mardi",), ("mercredi",), ("jeudi",), ("vendredi",), ("samedi",), ("dimanche",)),
    "es": (("lunes",), ("martes",), ("miercoles",), ("jueves",), ("viernes",), ("sabado",), ("domingo",)),
    "it": (("lunedi",), ("martedi",), ("mercoledi",), ("giovedi",), ("venerdi",), ("sabato",), ("domenica",)),
    "nl": (("maandag",), ("dinsdag",), ("woensdag",), ("donderdag",), ("vrijdag",), ("zaterdag",), ("zondag",)),
    "pt": (
        ("segunda", "segunda-feira", "segunda feira"),
        ("terca", "terca-feira", "terca feira"),
        ("quarta", "quarta-feira", "quarta feira"),
        ("quinta", "quinta-feira", "quinta feira"),
        ("sexta", "sexta-feira", "sexta feira"),
        ("sabado",),
        ("domingo",),
    ),
}

# Printed forms that are not prefixes of the full name.
EXTRA_FORMS: dict[str, dict[str, Day]] = {
    "en": {"weds": "WED", "thur": "THU", "thurs": "THU", "tues": "TUE"},
    "de": {"sonnabend": "SAT"},
    "es": {"x": "WED"},
    "pt": {"2a": "MON", "3a": "TUE", "4a": "WED", "5a": "THU", "6a": "FRI"},
}

# Single-letter day columns per language (M T W T F S S ...), DAYS order.
LETTERS: dict[str, tuple[str, ...]] = {
    "en": ("m", "t", "w", "t", "f", "s", "s"),
    "de": ("m", "d", "m", "d", "f", "s", "s"),
    "fr": ("l", "m", "m", "j", "v", "s", "d"),
    "es": ("l", "m", "x", "j", "v", "s", "d"),
    "it": ("l", "m", "m", "g", "v", "s", "d"),
    "nl": ("m", "d", "w", "d", "v", "z", "z"),
    "pt": ("s", "t", "q", "q", "s", "s", "d"),
}

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
    return text


@cache
def _forms(language: str) -> dict[str, frozenset[Day]]:
    """Every printed form (folded, no dots) of each day in one language -> the days it may mean."""
    out: dict[str, set[Day]] = {}
    names = FULL_NAMES[language]
    prefixes: dict[str, set[Day]] = {}
    for day, variants in zip(DAYS, names, strict=True):
        for name in variants:
            out.setdefault(name, set()).add(day)
            compact = name.replace("-", "").replace(" ", "")
            out.setdefault(compact, set()).add(day)
            for n in range(2, len(name)):
                prefixes.setdefault(name[:n], set()).add(day)
    for prefix, days in prefixes.items():
        # A prefix two days share within the language ('qu' in pt) means nothing on its own.
        if len(days) == 1 and prefix not in out:
            out[prefix] = set(days)
    for form, day in EXTRA_FORMS.get(language, {}).items():
        out.setdefault(form, set()).add(day)
    for day, letter in zip(DAYS, LETTERS[language], strict=True):
        out.setdefault(letter, set()).add(day)
    return {k: frozenset(v) for k, v in out.items()}


def _key(text: str) -> str:
    """'Mon.' -> 'mon', 'M O N' -> 'mon', 'Montag, 12.11.' -> 'montag', 'Mié' -> 'mie'."""
    text = join_spaced_letters(text)
    key = fold(text).strip()
    # Drop a trailing date or number and punctuation ('Monday 12/11', 'Mo 3.', 'Mon:').
    key = re.sub(r"[\s,;:]*\d[\d./\- ]*$", "", key)
    key = key.replace(".", "").strip(" \t\n:;,()[]*")
    return re.sub(r"\s+", " ", key)


def day_candidates(text: str, language: str | None = None) -> dict[str, frozenset[Day]]:
    """Language -> the days ``text`` may name in that language (only languages where it names one)."""
    key = _key(text)
    if not key or len(key) > 20:
        return {}
    langs = (language,) if language in FULL_NAMES else LANGUAGES
    out: dict[str, frozenset[Day]] = {}
    for lang in langs:
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


def detect_language(texts: Iterable[str]) -> str | None:
    """ISO 639-1 code of the document's language, from day names and timetable words; None if no evidence."""
    scores: Counter[str] = Counter()
    for text in texts:
        for word in words(text):
            for lang in LANGUAGES:
                names = FULL_NAMES[lang]
                if any(word == v or word == v.replace("-", "") for variants in names for v in variants):
                    scores[lang] += 3
                if word in LANGUAGE_WORDS[lang]:
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
