"""Owners of the parts of a school-wide document: labelled, bare, and headings that name no one."""

from __future__ import annotations

import pytest

from timetable_platform.domain.model import Entry, Owner, Timetable
from timetable_platform.reading.owners import is_part_heading, kind_of_name, labelled_owner, owner_of


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("Class 7B", "class", "7B"),
        ("Stundenplan Klasse 7b", "class", "7b"),
        ("Teacher: Smith", "teacher", "Smith"),
        ("Salle 12", "room", "12"),
        ("Profesora: Ruiz", "teacher", "Ruiz"),
        ("Room 12", "room", "12"),
    ],
)
def test_labelled_owners_in_several_languages(text: str, kind: str, name: str) -> None:
    assert labelled_owner(text) == Owner(kind=kind, name=name)  # type: ignore[arg-type]


def _lessons(**fields: str) -> Timetable:
    return Timetable(entries=[Entry(day="MON", start="08:00", end="08:45", subject="Maths", **fields)])  # type: ignore[arg-type]


def test_a_bare_name_gets_its_kind_from_its_form_or_its_lessons() -> None:
    assert kind_of_name("10E", Timetable()) == "class"
    assert kind_of_name("Anna Berg", _lessons(group="7A", room="R1")) == "teacher"
    assert kind_of_name("Gym", _lessons(group="7A", teacher="Ms Lee")) == "room"
    assert kind_of_name("Blue group", _lessons(teacher="Ms Lee", room="R1")) == "class"


def test_a_heading_repeated_on_every_page_or_dividing_one_timetable_names_no_one() -> None:
    assert is_part_heading("Week A") and is_part_heading("Semaine 2") and not is_part_heading("Class 7B")
    timetable = _lessons(group="7A", room="R1")
    headings = ["Riverside Academy", "Anna Berg"]
    assert owner_of(timetable, headings, repeated={"Riverside Academy"}) == Owner(
        kind="teacher", name="Anna Berg"
    )
    assert owner_of(timetable, ["Riverside Academy", "Week A"], repeated={"Riverside Academy"}) is None
