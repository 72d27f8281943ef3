"""``reviewed_timetable`` (via the review sensor) and ``extraction_quality`` on reviewed fixture uploads:
the F1 it reports is score.py's, and its check warns when a new extractor version reads worse."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from tests.dagster.conftest import CORPUS, Platform
from timetable_platform.assets.review import (
    QUALITY_CHECK,
    extraction_quality,
    load_scorer,
    review_events_sensor,
    reviewed_key,
    reviewed_timetable,
)
from timetable_platform.domain.editing import from_extracted
from timetable_platform.domain.model import Timetable
from timetable_platform.store import audit, repository, review

FIXTURES = ("l1_pdf_001.json", "l1_docx_001.json", "l1_pdf_002.json")


def truth_of(name: str) -> Timetable:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} is not present")
    return Timetable.model_validate(json.loads(path.read_text()))


def worse(timetable: Timetable, keep_every: int) -> Timetable:
    """A reading that lost entries: every ``keep_every``-th entry dropped."""
    return timetable.model_copy(
        update={"entries": [e for i, e in enumerate(timetable.entries) if i % keep_every != keep_every - 1]}
    )


def extract(platform: Platform, upload_id: str, timetable: Timetable, version: str) -> None:
    """What merged_timetable stores for an upload, under ``version``."""
    with platform.store.session() as session:
        repository.mark_running(session, upload_id, run_id=f"run-{version}")
        repository.replace_entries(session, upload_id, timetable)
        repository.mark_succeeded(session, upload_id, run_id=f"run-{version}", extractor_version=version)


def reviewed_fixture(platform: Platform, name: str, extracted: Timetable) -> str:
    """An upload extracted as ``extracted`` that a person corrected into the corpus truth and marked reviewed."""
    suffix = ".docx" if "docx" in name else ".pdf"
    upload_id = platform.register(name.encode(), filename=name.replace(".json", suffix))
    extract(platform, upload_id, extracted, "v1")
    truth = truth_of(name)
    with platform.store.session() as session:
        upload = repository.get_upload(session, upload_id)
        assert upload is not None
        base = review.extracted_version(session, upload)
        saved = review.save(session, upload, base, from_extracted(truth), actor="test", change="review", reviewed=True)
        review.record_change(
            session, upload=upload, action=review.REVIEWED_ACTION, version=saved, actor="test", entry_id=None,
            before=None, after=None, api_key_id=None, request_id=None,
        )
    return upload_id


def test_review_events_sensor_materialises_reviewed_timetable(platform: Platform) -> None:
    truth = truth_of(FIXTURES[0])
    upload_id = reviewed_fixture(platform, FIXTURES[0], worse(truth, 4))
    context = dg.build_sensor_context(instance=platform.instance, resources={"store": platform.store})
    result = review_events_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests or []] == [upload_id]
    again = review_events_sensor(dg.build_sensor_context(
        instance=platform.instance, resources={"store": platform.store}, cursor=result.cursor
    ))  # fmt: skip
    assert isinstance(again, dg.SensorResult) and not again.run_requests  # each event once
    # an upload erased after its review gets no run (and no partition back)
    gone = reviewed_fixture(platform, FIXTURES[0], truth)
    from timetable_platform.store.retention import erase_upload

    erase_upload(platform.store.store(), gone)
    after_erasure = review_events_sensor(dg.build_sensor_context(
        instance=platform.instance, resources={"store": platform.store}, cursor=result.cursor
    ))  # fmt: skip
    assert isinstance(after_erasure, dg.SensorResult) and not after_erasure.run_requests
    assert after_erasure.cursor is not None and int(after_erasure.cursor) > int(result.cursor or 0)

    run = platform.materialize(upload_id, assets=[reviewed_timetable])
    assert run.success
    metadata = run.asset_materializations_for_node("reviewed_timetable")[0].metadata
    assert metadata["reviewed"].value is True and metadata["entries"].value == len(truth.entries)
    scorer = load_scorer()
    expected = scorer.score_doc(truth.to_json_dict(), worse(truth, 4).to_json_dict())
    assert metadata["extraction_entry_f1"].value == pytest.approx(
        scorer.f1(expected["tp"], expected["pred"], expected["truth"])[2]
    )
    stored = json.loads(platform.store.blobs.get(reviewed_key(upload_id)))
    assert stored == truth.to_json_dict()


def test_extraction_quality_reports_score_py_f1_and_warns_on_a_worse_version(platform: Platform) -> None:
    scorer = load_scorer()
    truths = {name: truth_of(name) for name in FIXTURES}
    v1_readings = {name: worse(t, 7) for name, t in truths.items()}
    uploads = {name: reviewed_fixture(platform, name, v1_readings[name]) for name in FIXTURES}
    # a tenant that turned contribution off is not scored
    hidden = platform.register(b"hidden", filename="hidden.pdf", tenant="private-school")
    extract(platform, hidden, worse(truths[FIXTURES[0]], 2), "v1")
    with platform.store.session() as session:
        review.set_contribution(session, "private-school", False)

    first = platform.materialize(assets=[extraction_quality])
    assert first.success
    metadata = first.asset_materializations_for_node("extraction_quality")[0].metadata
    expected = scorer.summarise(
        {n: scorer.score_doc(truths[n].to_json_dict(), v1_readings[n].to_json_dict()) for n in FIXTURES}
    )
    assert metadata["entry_f1"].value == pytest.approx(expected["entry_f1"])
    assert metadata["cases_scored_now"].value == len(FIXTURES)
    assert metadata["by_version"].value["v1"]["field_accuracy"] == expected["field_accuracy"]
    summary = metadata["summary"].value
    assert "| v1 | pdf |" in summary and "| v1 | docx |" in summary and "| v1 | document_ai |" in summary
    assert metadata["f1_over_time"].value.startswith("![entry F1 over time](data:image/svg+xml;base64,")
    check = first.get_asset_check_evaluations()[0]
    assert check.check_name == QUALITY_CHECK and check.passed

    # v2, deliberately worse (drops every other entry), re-extracts the same reviewed uploads
    for name, upload_id in uploads.items():
        extract(platform, upload_id, worse(truths[name], 2), "v2")
    second = platform.materialize(assets=[extraction_quality])
    assert second.success
    check = second.get_asset_check_evaluations()[0]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["newest"].value == "v2" and check.metadata["previous"].value == "v1"
    assert check.metadata["cases"].value == len(FIXTURES)
    metadata = second.asset_materializations_for_node("extraction_quality")[0].metadata
    assert metadata["newest_extractor_version"].value == "v2"
    points = metadata["f1_over_time_vega_lite"].value["data"]["values"]
    assert [p["extractor_version"] for p in points] == ["v1", "v2"]
    assert f"| v2 | {len(FIXTURES)} | {points[1]['entry_f1']:.3f} |" in metadata["f1_over_time"].value
    assert points[1]["entry_f1"] < points[0]["entry_f1"]

    # v3 reads as well as the truth: the check passes again
    for name, upload_id in uploads.items():
        extract(platform, upload_id, truths[name], "v3")
    third = platform.materialize(assets=[extraction_quality])
    assert third.get_asset_check_evaluations()[0].passed


def test_erasing_an_upload_removes_its_case_and_scores(platform: Platform, tmp_path: Path) -> None:
    from timetable_platform.store.retention import erase_upload

    upload_id = reviewed_fixture(platform, FIXTURES[0], worse(truth_of(FIXTURES[0]), 3))
    assert platform.materialize(assets=[extraction_quality]).success
    erase_upload(platform.store.store(), upload_id)
    with platform.store.session() as session:
        assert review.reviewed_cases(session) == []
        assert audit.events(session, upload_id=upload_id)[0].action == audit.UPLOAD_DELETED
    metadata = platform.materialize(assets=[extraction_quality]).asset_materializations_for_node(
        "extraction_quality"
    )[0].metadata
    assert metadata["cases_scored_now"].value == 0 and "newest_extractor_version" in metadata
    assert metadata["newest_extractor_version"].value == ""
