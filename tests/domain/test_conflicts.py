"""Clashes across timetables (domain.conflicts): what is one, what only looks like one."""

from __future__ import annotations

from timetable_platform.domain.conflicts import find_conflicts
from timetable_platform.domain.model import Entry, Owner, Timetable


def _class(name: str, *entries: Entry) -> Timetable:
    return Timetable(owner=Owner(kind="class", name=name), entries=list(entries))


def _teacher(name: str, *entries: Entry) -> Timetable:
    return Timetable(owner=Owner(kind="teacher", name=name), entries=list(entries))


def _lesson(
    subject: str, *, day: str = "MON", start: str = "09:00", end: str = "09:45", **fields: str
) -> Entry:
    return Entry(day=day, start=start, end=end, subject=subject, **fields)  # type: ignore[arg-type]


def test_a_teacher_in_two_rooms_at_once_is_named_with_both_entries() -> None:
    found = find_conflicts([
        _class("7A", _lesson("Maths", teacher="Ms Ruiz", room="R1")),
        _class("7B", _lesson("Maths", teacher="Ms Ruiz", room="R2", start="09:30", end="10:15")),
    ])  # fmt: skip
    assert [(c.kind, c.name, c.day, c.start, c.end) for c in found] == [
        ("teacher", "Ms Ruiz", "MON", "09:00", "10:15")
    ]
    assert len(found[0].entries) == 2
    assert "class 7A" in found[0].message and "class 7B" in found[0].message


def test_the_same_lesson_on_a_class_page_and_a_teacher_sheet_is_one_lesson() -> None:
    found = find_conflicts([
        _class("7A", _lesson("Maths", teacher="Ms Ruiz", room="R1")),
        _teacher("Ms Ruiz", _lesson("Maths", group="7A", room="R1")),
        # A reading that put the teacher in the room field still matches the teacher's sheet.
        _class("7B", _lesson("Art", room="Mr Ode", notes="R2")),
        _teacher("Mr Ode", _lesson("Art", group="7B", room="R2")),
    ])  # fmt: skip
    assert found == []


def test_classes_taught_together_weeks_and_breaks_are_not_clashes() -> None:
    found = find_conflicts([
        # One teacher, one room, two classes: a combined lesson.
        _class("7A", _lesson("PE", teacher="Mr Ode", room="Gym")),
        _class("7B", _lesson("PE", teacher="Mr Ode", room="Gym")),
        # Week A and week B of a rotation.
        _class("8A", _lesson("Art", teacher="Ms Kim", room="R5", week="A")),
        _class("8B", _lesson("Art", teacher="Ms Kim", room="R6", week="B")),
        # Breaks are not lessons; back-to-back lessons do not overlap.
        _class("9A", Entry(day="MON", start="10:00", end="10:20", kind="break", subject="Break", room="Hall")),
        _class("9B", Entry(day="MON", start="10:00", end="10:20", kind="break", subject="Break", room="Hall")),
        _class("9C", _lesson("Music", teacher="Ms Lee", room="M1", start="11:00", end="11:45")),
        _class("9D", _lesson("Music", teacher="Ms Lee", room="M2", start="11:45", end="12:30")),
    ])  # fmt: skip
    assert found == []


def test_a_room_booked_twice_and_a_class_with_two_lessons() -> None:
    found = find_conflicts([
        _class("7A", _lesson("Maths", teacher="Ms Ruiz", room="R1", day="TUE")),
        _class("7B", _lesson("History", teacher="Mr Ode", room="R1", day="TUE")),
        _teacher("Ms Kim", _lesson("Drama", group="7A", room="Studio", day="TUE")),
    ])  # fmt: skip
    assert sorted((c.kind, c.name) for c in found) == [("class", "7A"), ("room", "R1")]
    assert all(c.day == "TUE" for c in found)
