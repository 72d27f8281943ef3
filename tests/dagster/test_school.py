"""School-wide uploads through the asset graph: a version 2 result with its owners, then the tenant's
``school_timetables`` index and its clash checks over two uploads (class pages and teacher pages)."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from tests.corpusgen.school import make_school, render_fet_html
from tests.dagster.conftest import Platform
from timetable_platform.assets import SCHOOL_ASSETS
from timetable_platform.domain.school import schema_errors_v2
from timetable_platform.store import repository
from timetable_platform.store.blobs import result_key
from timetable_platform.store.school_index import school_index_key


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in materialization.metadata.items()}


def test_school_pages_are_stored_as_v2_and_indexed_with_their_clashes(platform: Platform) -> None:
    school = make_school(seed=11, n_classes=5)
    # Hybrid: the second reader reads each class's table (not the whole page) in the merge step.
    classes = platform.register(
        render_fet_html(school, teachers=False), filename="classes.html", mode="hybrid"
    )
    teachers = platform.register(render_fet_html(school, teachers=True), filename="teachers.html")

    first = platform.materialize(classes)
    assert first.success
    metadata = _metadata(first, "merged_timetable")
    assert metadata["timetable_count"] == 5
    assert [(o["kind"], o["name"]) for o in metadata["owners"]] == [
        ("class", name) for name in school.classes
    ]
    assert all(o["entry_count"] == 30 for o in metadata["owners"])
    assert metadata["backends"]["interpreter"].startswith("textstream")
    assert _metadata(first, "claude_extraction")["entry_count"] == 0  # left to the merge, part by part
    stored = json.loads(platform.store.blobs.get(result_key(classes)))
    assert stored["schema_version"] == "2" and schema_errors_v2(stored) == []
    with platform.store.session() as session:  # the entry rows hold every class's lessons
        rows = repository.get_timetable(session, classes)
    assert rows is not None and len(rows.entries) == 5 * 30
    assert platform.materialize(teachers).success
    assert platform.instance.get_dynamic_partitions("tenants") == ["school-1"]

    result = dg.materialize(
        SCHOOL_ASSETS, partition_key="school-1", instance=platform.instance, resources=platform.resources()
    )
    assert result.success
    metadata = _metadata(result, "school_timetables")
    assert metadata["owner_count"] == len(school.classes) + len(school.teacher_truth())
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {name: e.passed for name, e in checks.items()} == {
        "teacher_in_one_place": False,
        "room_booked_once": False,
        "class_one_lesson_per_slot": False,
    }
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in checks.values())
    planted = {(c.kind, c.name) for c in school.conflicts}
    index = json.loads(platform.store.blobs.get(school_index_key("school-1")))
    assert {(c["kind"], c["name"]) for c in index["conflicts"]} == planted
    teacher_check = checks["teacher_in_one_place"].metadata
    assert teacher_check["conflict_count"].value == 1
    (message,) = teacher_check["conflicts"].value
    teacher = next(c.name for c in school.conflicts if c.kind == "teacher")
    assert teacher in message and "class " in message  # the clashing entries are named
