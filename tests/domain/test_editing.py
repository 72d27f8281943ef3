"""Pure review logic: applying corrections with stable entry ids, what is refused, diffs, and the
quality summaries (regression rule, plot) over score.py results."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from timetable_platform.domain import editing, quality
from timetable_platform.domain.model import Entry, Timetable

SPLIT = Timetable(
    entries=[
        Entry(day="MON", start="09:00", end="10:00", subject="French", group="Set 1", confidence=0.3),
        Entry(day="MON", start="09:30", end="10:30", subject="Spanish", group="Set 1"),  # printed clash
        Entry(day="TUE", start="09:00", end="10:00", subject="Maths"),
    ]
)


def test_ids_survive_edits_additions_and_deletions() -> None:
    start = editing.from_extracted(SPLIT)
    assert start.entry_ids == ("e0", "e1", "e2")
    added = editing.add_entry(start, {"day": "wed", "start": "09:00", "end": "10:00", "subject": "Art"}, "n1")
    deleted = editing.delete_entry(added.result, "e1")
    changed = editing.update_entry(deleted.result, "n1", {"room": "A1"})
    assert changed.result.entry_ids == ("e0", "e2", "n1")
    assert changed.result.entry("n1").room == "A1" and changed.result.entry("n1").day == "WED"
    assert changed.after is not None and changed.after.confidence == editing.CONFIRMED
    assert start.timetable.entries[1].subject == "Spanish"  # the input is never changed
    with pytest.raises(editing.UnknownEntry):
        editing.delete_entry(changed.result, "e1")


def test_a_clash_the_document_printed_does_not_block_editing_its_blocks_but_a_new_one_is_refused() -> None:
    start = editing.from_extracted(SPLIT)
    edited = editing.update_entry(start, "e0", {"teacher": "Mme Roux", "notes": ""})
    assert edited.after is not None and edited.after.teacher == "Mme Roux" and edited.after.notes is None
    assert any("overlaps" in w for w in edited.warnings)
    with pytest.raises(editing.EditError) as refused:
        editing.update_entry(start, "e2", {"day": "MON", "group": "Set 1"})
    assert "overlaps" in refused.value.reasons[0]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"start": "9am"}, "does not match"),
        ({"end": "08:00"}, "start is after end"),
        ({"subject": "  "}, "needs a subject"),
        ({"kind": "lunch"}, "is not one of"),
        ({"confidence": 1}, "not a field a person can edit"),
    ],
)
def test_changes_that_break_the_contract_are_refused_with_reasons(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(editing.EditError) as refused:
        editing.update_entry(editing.from_extracted(SPLIT), "e2", fields)
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons


def test_entry_diff_lists_changed_fields_only() -> None:
    before = SPLIT.entries[2]
    after = before.model_copy(update={"room": "R1"})
    assert editing.entry_diff(before, after) == {"room": [None, "R1"]}
    assert editing.entry_diff(None, after)["subject"] == [None, "Maths"]


def _summarise(results: dict[str, dict[str, int]]) -> dict[str, float]:
    tp = sum(r["tp"] for r in results.values())
    truth = sum(r["truth"] for r in results.values())
    return {"entry_f1": tp / truth if truth else 1.0}  # a stand-in: recall as "F1" keeps the arithmetic visible


def test_the_newest_version_is_compared_on_the_cases_both_versions_scored() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)

    def case(upload: str, version: str, tp: int, day: int) -> quality.ScoredCase:
        return quality.ScoredCase(upload, 1, version, "pdf", "hybrid", t0 + timedelta(days=day), {"tp": tp, "truth": 10})

    scored = [case("a", "v1", 9, 0), case("b", "v1", 9, 0), case("a", "v2", 8, 1), case("c", "v2", 2, 1)]
    result = quality.compare_newest(scored, _summarise)
    assert result is not None and (result.newest, result.previous, result.cases) == ("v2", "v1", 1)
    assert result.worse and result.newest_f1 == 0.8 and result.previous_f1 == 0.9
    points = quality.f1_over_time(scored, _summarise)
    assert [p["extractor_version"] for p in points] == ["v1", "v2"]
    svg = ET.fromstring(quality.svg_plot(points))
    assert svg.tag.endswith("svg") and len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    assert quality.input_format("application/vnd.openxmlformats-officedocument.wordprocessingml.document") == "docx"
