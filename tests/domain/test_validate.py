from __future__ import annotations

from typing import Any

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.validate import schema_errors, semantic_issues


def _timetable(*entries: dict[str, Any]) -> Timetable:
    return Timetable(entries=[Entry(**e) for e in entries])


def test_schema_errors_empty_for_a_valid_timetable() -> None:
    timetable = _timetable({"day": "MON", "start": "08:30", "end": "09:20", "subject": "Maths"})
    assert schema_errors(timetable.to_json_dict()) == []


def test_schema_errors_name_the_place_and_the_problem() -> None:
    data = {
        "schema_version": "1",
        "entries": [
            {"day": "MON", "start": "8:30", "subject": "Maths"},
            {"day": "FUNDAY", "subject": "Art"},
            {"day": "TUE"},
        ],
    }
    errors = schema_errors(data)
    assert any(e.startswith("entries/0/start:") and "8:30" in e for e in errors)
    assert any(e.startswith("entries/1/day:") for e in errors)
    assert any(e.startswith("entries/2:") and "subject" in e for e in errors)
    assert schema_errors({"entries": []}) == ["(root): 'schema_version' is a required property"]


def test_start_after_end_is_an_error_and_equal_times_a_warning() -> None:
    issues = semantic_issues(
        _timetable(
            {"day": "MON", "start": "10:00", "end": "09:00", "subject": "Maths"},
            {"day": "MON", "start": "11:00", "end": "11:00", "subject": "Bell"},
        )
    )
    codes = {(i.code, i.entries, i.severity) for i in issues}
    assert ("start_after_end", (0,), "error") in codes
    assert ("zero_length", (1,), "warning") in codes


def test_times_outside_the_school_day_and_malformed_times() -> None:
    timetable = Timetable(
        entries=[
            Entry(day="MON", start="04:30", end="05:10", subject="Swim"),
            Entry(day="MON", start="22:30", end="23:30", subject="Late"),
            Entry(day="TUE", start="9.30", end="10:00", subject="Odd"),
        ]
    )
    issues = semantic_issues(timetable)
    out_of_range = [i for i in issues if i.code == "time_out_of_range"]
    assert {i.entries for i in out_of_range} == {(0,), (1,)}
    assert any(i.code == "bad_time" and i.entries == (2,) and i.severity == "error" for i in issues)


def test_overlaps_only_within_the_same_day_week_and_group() -> None:
    timetable = _timetable(
        {"day": "MON", "start": "09:00", "end": "10:00", "subject": "Maths"},
        {"day": "MON", "start": "09:30", "end": "10:30", "subject": "Art"},  # overlaps 0
        {"day": "MON", "start": "10:00", "end": "11:00", "subject": "PE"},  # touches 0, overlaps 1
        {"day": "TUE", "start": "09:30", "end": "10:30", "subject": "Art"},  # other day
        {"day": "MON", "start": "09:30", "end": "10:30", "subject": "Art", "week": "B"},  # other week
        {"day": "MON", "start": "09:30", "end": "10:30", "subject": "Art", "group": "7C"},  # other group
    )
    overlaps = {i.entries for i in semantic_issues(timetable) if i.code == "overlap"}
    assert overlaps == {(0, 1), (1, 2)}


def test_same_slot_is_information_and_the_printed_flag_comes_from_the_caller() -> None:
    timetable = _timetable(
        {"day": "WED", "start": "13:00", "end": "14:00", "subject": "French"},
        {"day": "WED", "start": "13:00", "end": "14:00", "subject": "Spanish"},
        {"day": "WED", "start": "13:30", "end": "14:30", "subject": "Drama"},
    )
    unknown = semantic_issues(timetable)
    assert {(i.code, i.entries, i.severity) for i in unknown} == {
        ("shared_slot", (0, 1), "info"),
        ("overlap", (0, 2), "warning"),
        ("overlap", (1, 2), "warning"),
    }
    assert all(i.printed_in_document is None for i in unknown)

    seen: list[tuple[str, str]] = []

    def printed(a: Entry, b: Entry) -> bool:
        seen.append((a.subject, b.subject))
        return b.subject == "Drama"

    flagged = {i.entries: i.printed_in_document for i in semantic_issues(timetable, printed_overlap=printed)}
    assert flagged == {(0, 1): False, (0, 2): True, (1, 2): True}
    assert len(seen) == 3


def test_untimed_entries_raise_nothing() -> None:
    timetable = _timetable(
        {"day": "MON", "period": "1", "subject": "Maths"},
        {"day": "MON", "period": "1", "subject": "Art"},
        {"day": "MON", "start": "09:00", "subject": "Start only"},
    )
    assert semantic_issues(timetable) == []
