"""Clashes only a school-wide view can see: a teacher in two places at once, a room booked twice, a
class with two lessons in one slot.

Pure. The input is every owner's timetable (class pages, teacher sheets, room pages, from one
document or many); one lesson usually appears on several of them (7B's page and Ms Ruiz's sheet
both print 7B's Maths with Ms Ruiz in R12), so the lessons are first matched across timetables,
then compared. A lesson is known by the class, teacher and room it names, its owner filling the
field its page leaves out (a class page's lessons are that class's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.text import fold

ConflictKind = Literal["teacher", "room", "class"]
ROLES: tuple[ConflictKind, ...] = ("class", "teacher", "room")
_OWNER_ROLE = {"class": "class", "teacher": "teacher", "room": "room"}


def _fold(value: str | None) -> str | None:
    return fold(" ".join(value.split())) if value and value.strip() else None


@dataclass
class Lesson:
    """One lesson as seen by one or more timetables (``sources`` names each entry that printed it).

    ``owned`` holds the roles an owner fills (a teacher's sheet is sure who teaches); ``seen`` the
    names each page printed per role, which a reader may have put in the wrong field.
    """

    day: str
    start: str | None
    end: str | None
    period: str | None
    week: str | None
    subject: str
    owned: dict[str, str] = field(default_factory=dict)
    seen: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    extra: set[str] = field(default_factory=set)  # other printed text (notes): evidence of identity only
    sources: list[str] = field(default_factory=list)

    def name(self, role: str) -> str | None:
        """The role's name: the owner's, else the name printed most often that no owner gave another role."""
        if role in self.owned:
            return self.owned[role]
        taken = {_fold(v) for r, v in self.owned.items() if r != role}
        votes = Counter(v for v in self.seen.get(role, []) if _fold(v) not in taken)
        return votes.most_common(1)[0][0] if votes else None

    def key(self, role: str) -> str | None:
        return _fold(self.name(role))

    def names(self) -> set[str]:
        """Every folded name printed for the lesson except its class: who teaches it and where."""
        out = {
            _fold(v)
            for r in ("teacher", "room")
            for v in [*self.seen.get(r, []), *([self.owned[r]] if r in self.owned else [])]
        }
        return {n for n in (out | self.extra) if n}


@dataclass(frozen=True)
class Conflict:
    """A clash: ``kind`` names the role ('teacher' Smith is in two places), ``entries`` the entries that clash."""

    kind: ConflictKind
    name: str
    day: str
    start: str | None
    end: str | None
    week: str | None
    entries: tuple[str, ...]

    @property
    def message(self) -> str:
        what = {
            "teacher": f"teacher {self.name} is in two places at once",
            "room": f"room {self.name} is booked twice",
            "class": f"class {self.name} has two lessons in one slot",
        }[self.kind]
        week = f" (week {self.week})" if self.week else ""
        when = f"{self.day} {self.start or '?'}-{self.end or '?'}{week}"
        return f"{what} on {when}: " + "; ".join(self.entries)


def _owner_name(timetable: Timetable) -> str:
    owner = timetable.owner
    if owner is None:
        return timetable.title or "timetable"
    return owner.name if owner.kind == "unknown" else f"{owner.kind} {owner.name}"


def _describe(source: str, entry: Entry) -> str:
    details = ", ".join(x for x in (entry.group, entry.teacher, entry.room) if x)
    return f"{source}: {entry.day} {entry.start or '?'}-{entry.end or '?'} {entry.subject}" + (
        f" ({details})" if details else ""
    )


def lessons_of(timetables: Iterable[Timetable]) -> list[Lesson]:
    """Every lesson entry, with the owner in the role its page leaves out."""
    out: list[Lesson] = []
    for timetable in timetables:
        source = _owner_name(timetable)
        role = _OWNER_ROLE.get(timetable.owner.kind) if timetable.owner else None
        for entry in timetable.entries:
            if entry.kind != "lesson" or not ((entry.start and entry.end) or entry.period):
                continue
            lesson = Lesson(entry.day, entry.start, entry.end, entry.period, entry.week, entry.subject)
            for name, value in (("class", entry.group), ("teacher", entry.teacher), ("room", entry.room)):
                if value and value.strip():
                    lesson.seen[name].append(value.strip())
            if role is not None and timetable.owner is not None:
                lesson.owned[role] = timetable.owner.name
            lesson.extra = {n for n in (_fold(entry.notes),) if n}
            lesson.sources.append(_describe(source, entry))
            out.append(lesson)
    return out


def _same_slot(a: Lesson, b: Lesson) -> bool:
    if a.day != b.day or (a.week and b.week and a.week != b.week):
        return False
    if a.start and a.end and b.start and b.end:
        return a.start < b.end and b.start < a.end
    return bool(a.period) and a.period == b.period and not (a.start and b.start and a.start != b.start)


def _agree(a: Lesson, b: Lesson) -> bool:
    """The same lesson seen twice: the same class (where both name one), and a teacher or room in
    common (in whichever field each page's reading put it), or the same subject when one names none."""
    class_a, class_b = a.key("class"), b.key("class")
    if class_a and class_b and class_a != class_b:
        return False
    names_a, names_b = a.names(), b.names()
    if names_a & names_b:
        return True
    return (not names_a or not names_b) and fold(a.subject) == fold(b.subject) and bool(class_a and class_b)


def _merge(lessons: Sequence[Lesson]) -> list[Lesson]:
    """One lesson per lesson taught: the same lesson printed on several owners' pages counted once."""
    merged: list[Lesson] = []
    by_day: dict[str, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        for other in by_day[lesson.day]:
            if (other.start, other.end, other.period, other.week) == (
                lesson.start, lesson.end, lesson.period, lesson.week
            ) and _agree(other, lesson):  # fmt: skip
                for role, value in lesson.owned.items():
                    other.owned.setdefault(role, value)
                for role, values in lesson.seen.items():
                    other.seen[role].extend(values)
                other.extra |= lesson.extra
                other.sources.extend(lesson.sources)
                break
        else:
            by_day[lesson.day].append(lesson)
            merged.append(lesson)
    return merged


def _differ(a: Lesson, b: Lesson, role: str) -> bool:
    x, y = a.key(role), b.key(role)
    return bool(x and y and x != y)


def _clash(kind: ConflictKind, a: Lesson, b: Lesson) -> bool:
    """Whether two lessons in one slot sharing the ``kind`` role are a clash, not one lesson of two
    classes taught together (same teacher, same room)."""
    if kind == "teacher":
        return _differ(a, b, "room") or (not (a.key("room") and b.key("room")) and _differ(a, b, "class"))
    if kind == "room":
        return _differ(a, b, "teacher") or (
            not (a.key("teacher") and b.key("teacher")) and _differ(a, b, "class")
        )
    return _differ(a, b, "teacher") or _differ(a, b, "room")


def find_conflicts(timetables: Sequence[Timetable]) -> list[Conflict]:
    """Every clash across ``timetables``, one per role, name and slot, with the clashing entries named."""
    lessons = _merge(lessons_of(timetables))
    found: dict[tuple[str, str, str, str | None, str | None, str | None], list[str]] = {}
    names: dict[tuple[str, str, str, str | None, str | None, str | None], str] = {}
    by_day: dict[str, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_day[lesson.day].append(lesson)
    for day_lessons in by_day.values():
        for i, a in enumerate(day_lessons):
            for b in day_lessons[i + 1 :]:
                if not _same_slot(a, b):
                    continue
                for kind in ("teacher", "room", "class"):
                    key_a, key_b = a.key(kind), b.key(kind)
                    if not key_a or key_a != key_b or not _clash(kind, a, b):  # type: ignore[arg-type]
                        continue
                    start = min(x for x in (a.start, b.start) if x) if a.start or b.start else None
                    end = max(x for x in (a.end, b.end) if x) if a.end or b.end else None
                    key = (kind, key_a, a.day, start, end, a.week or b.week)
                    entries = found.setdefault(key, [])
                    entries.extend(s for s in [*a.sources, *b.sources] if s not in entries)
                    names[key] = a.name(kind) or key_a
    return [
        Conflict(
            kind=key[0], name=names[key], day=key[2], start=key[3], end=key[4], week=key[5], entries=tuple(e)
        )  # type: ignore[arg-type]
        for key, e in sorted(
            found.items(), key=lambda item: (item[0][2], item[0][3] or "", item[0][0], item[0][1])
        )
    ]
