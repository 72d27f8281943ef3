"""Whose timetable a page, sheet or table is, when a document holds one per class, teacher or room.

``reading.interpret`` already finds labelled owners ("Class 7B", "Teacher: Smith", "Room 12", in
several languages). School-wide prints often name the owner bare ("7B", "Smith John", "Lab 2"), the
way timetabling software heads each page; ``owner_of`` then reads the heading that changes from
page to page (a heading repeated on every page names the school, not the owner) and tells its kind
from the name's form and from what the cells hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.model import Owner, OwnerKind, Timetable
from timetable_platform.domain.text import fold
from timetable_platform.domain.times import find_times
from timetable_platform.reading.interpret import find_owner

# Kind words (folded) printed before an owner's name, beyond those ``interpret`` knows.
KIND_WORDS: dict[OwnerKind, tuple[str, ...]] = {
    "class": ("class", "form", "klasse", "classe", "clase", "curso", "klas", "groep", "grupo", "gruppo", "sezione", "turma"),
    "teacher": ("teacher", "staff", "lehrer", "lehrerin", "lehrkraft", "enseignant", "enseignante", "professeur",
                "profesor", "profesora", "docente", "insegnante", "docent", "leraar", "lerares", "professor"),
    "room": ("room", "raum", "salle", "aula", "sala", "lokaal", "classroom", "lab", "labor"),
    "student": ("student", "pupil", "schuler", "schulerin", "eleve", "alumno", "alumna", "alunno", "leerling", "aluno"),
}  # fmt: skip
_KIND_OF_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}
_LABELLED = re.compile(r"^\s*(?P<word>[^\W\d_]+)\s*[:\-–]?\s+(?P<name>\S.{0,40}?)\s*$")
_CLASS_CODE = re.compile(r"^\d{1,2}\s?[A-Za-z]{0,3}\d?$|^[A-Za-z]{1,3}\s?\d{1,2}[A-Za-z]?$")
_PERSON_TITLE = re.compile(r"^(mr|mrs|ms|miss|mx|dr|herr|frau|mme|mlle|m|prof|sr|sra|sig|dhr|mevr)\.?$", re.I)
_ROOM_FORM = re.compile(r"^(r|rm|lab|s|b|a)[\s\-.]?\d{1,3}[a-z]?$", re.I)
MAX_NAME_WORDS = 4
# Headings that divide ONE timetable (weeks of a rotation, terms, halves of the day), never owners.
PART_WORDS = frozenset(
    {"week", "woche", "semaine", "semana", "settimana", "term", "semester", "halbjahr", "trimestre", "trimester",
     "quadrimestre", "rotation", "cycle", "morning", "afternoon", "vormittag", "nachmittag", "matin", "apres-midi",
     "manana", "tarde", "mattina", "pomeriggio", "ochtend", "middag", "page", "seite"}
)  # fmt: skip


def is_part_heading(text: str) -> bool:
    """'Week A', 'Semaine 2', 'Term 1', 'Afternoon': a heading of part of one timetable."""
    words = fold(text).replace(":", " ").split()
    return bool(words) and words[0].strip(".,-–") in PART_WORDS


def labelled_owner(text: str) -> Owner | None:
    """An owner named with a kind word ('Class 7B', 'Salle 12', 'Profesora: Ruiz'), else None."""
    owner = find_owner(text)
    if owner is not None:
        return owner
    m = _LABELLED.match(text)
    if m:
        kind = _KIND_OF_WORD.get(fold(m.group("word")))
        if kind is not None:
            return Owner(kind=kind, name=m.group("name").strip(" -–:,"))
    return None


def _is_name(text: str) -> bool:
    words = text.split()
    if not words or len(words) > MAX_NAME_WORDS or len(text) > 48:
        return False
    if find_times(text) or any(parse_day(w) for w in words if len(w) > 2):
        return False
    return any(ch.isalnum() for ch in text)


def kind_of_name(name: str, timetable: Timetable) -> OwnerKind:
    """The kind of a bare owner name, from its form first, then from what its lessons name.

    A class's lessons name teachers and rooms; a teacher's name classes and rooms; a room's name
    classes and teachers (the owner's own field is the one left empty).
    """
    words = name.split()
    if _CLASS_CODE.match(name):
        return "class"
    if _ROOM_FORM.match(name):
        return "room"
    if _PERSON_TITLE.match(words[0]) and len(words) > 1:
        return "teacher"
    lessons = [e for e in timetable.entries if e.kind == "lesson"] or timetable.entries
    if lessons:
        share = {
            field: sum(1 for e in lessons if getattr(e, field)) / len(lessons)
            for field in ("teacher", "room", "group")
        }
        if share["group"] >= 0.5 and share["teacher"] >= 0.5:
            return "room"
        if share["group"] >= 0.5:
            return "teacher"
        if share["teacher"] >= 0.5:
            return "class"
    if 2 <= len(words) <= 3 and all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words):
        return "teacher"  # 'Smith John', 'Anna de Vries' read as a person
    return "unknown"


def is_own_heading(text: str, repeated: set[str]) -> bool:
    """A heading that may name a part's owner: printed on that part only, not dividing a timetable."""
    text = text.strip()
    return bool(text) and text not in repeated and not is_part_heading(text)


def owner_of(timetable: Timetable, headings: Sequence[str], repeated: set[str]) -> Owner | None:
    """The owner of one page/sheet/table of a school-wide document.

    ``headings`` are its heading texts in reading order; ``repeated`` the headings printed on more
    than one part (the school's name, a footer), which never name an owner. None when no heading of
    its own names anyone.
    """
    own = [h.strip() for h in headings if h and is_own_heading(h, repeated)]
    if not own:
        return None  # no heading of its own: a continuation, or weeks of one timetable
    if timetable.owner is not None and any(timetable.owner.name in h for h in own):
        return timetable.owner
    for text in own:
        owner = labelled_owner(text)
        if owner is not None:
            return owner
    for text in own:
        if _is_name(text):
            return Owner(kind=kind_of_name(text, timetable), name=text)
    return None
