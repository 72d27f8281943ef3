"""Every mode end to end with Document AI and Claude on the fakes: Dagster assets, store, API.

Assertions are on what the platform stored (entries rows, the result JSON, the uploads row with its
tokens and cost, materialisation metadata), not on the calls alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.cloud.conftest import Generated
from tests.dagster.conftest import Platform
from timetable_platform.domain.model import Timetable
from timetable_platform.extraction.pricing import claude_cost, documentai_cost
from timetable_platform.fakes.anthropic_server import FakeAnthropic
from timetable_platform.fakes.documentai_server import FakeDocumentAI
from timetable_platform.store import repository
from timetable_platform.store.blobs import result_key


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in materialization.metadata.items()}


def _stored(platform: Platform, upload_id: str) -> Timetable:
    from_blob = Timetable.model_validate(json.loads(platform.store.blobs.get(result_key(upload_id))))
    with platform.store.session() as session:
        from_rows = repository.get_timetable(session, upload_id)
    assert from_rows is not None
    assert [e.model_dump() for e in from_rows.entries] == [e.model_dump() for e in from_blob.entries]
    return from_rows


def _keys(timetable: Timetable) -> set[tuple]:
    return {(e.day, e.start, e.end, e.week, e.subject) for e in timetable.entries}


def _claude_cost(fake: FakeAnthropic) -> float:
    usages = [r["usage"] for r in fake.responses]
    return claude_cost(
        "claude-sonnet-4-5",
        input_tokens=sum(u["input_tokens"] for u in usages),
        output_tokens=sum(u["output_tokens"] for u in usages),
        cache_creation_input_tokens=sum(u["cache_creation_input_tokens"] for u in usages),
        cache_read_input_tokens=sum(u["cache_read_input_tokens"] for u in usages),
    )


def test_hybrid_mode_stores_the_merged_reading_with_tokens_and_cost(
    cloud_platform: Platform,
    fake_documentai: FakeDocumentAI,
    fake_anthropic: FakeAnthropic,
    grid_pdf: Generated,
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    upload_id = cloud_platform.submit(grid_pdf.path, mode="hybrid")

    result = cloud_platform.materialize(upload_id)

    assert result.success
    assert len(fake_documentai.requests) == 1 and len(fake_anthropic.requests) == 1
    upload = cloud_platform.upload(upload_id)
    assert str(upload.status) == "succeeded", upload.error
    stored = _stored(cloud_platform, upload_id)
    assert _keys(stored) == _keys(grid_pdf.truth)  # both readings agree with the document
    assert upload.backends == {"layout": "documentai", "interpreter": "claude:claude-sonnet-4-5"}

    tokens = [r["usage"] for r in fake_anthropic.responses]
    input_tokens = sum(
        u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"] for u in tokens
    )
    cost = round(documentai_cost(1) + _claude_cost(fake_anthropic), 6)
    assert (upload.input_tokens, upload.output_tokens) == (input_tokens, tokens[0]["output_tokens"])
    assert upload.cost_usd == pytest.approx(cost)

    layout = _metadata(result, "document_ai_extraction")
    assert layout["backend"] == "documentai" and layout["cost_usd"] == pytest.approx(documentai_cost(1))
    assert layout["input_tokens"] == 0
    claude = _metadata(result, "claude_extraction")
    assert claude["input_tokens"] == input_tokens and claude["output_tokens"] == upload.output_tokens
    assert claude["cost_usd"] == pytest.approx(_claude_cost(fake_anthropic))
    merged = _metadata(result, "merged_timetable")
    assert merged["input_tokens"] == upload.input_tokens and merged["cost_usd"] == pytest.approx(cost)


def test_document_ai_mode_never_calls_claude(
    cloud_platform: Platform,
    fake_documentai: FakeDocumentAI,
    fake_anthropic: FakeAnthropic,
    grid_pdf: Generated,
) -> None:
    upload_id = cloud_platform.submit(grid_pdf.path, mode="document_ai")
    result = cloud_platform.materialize(upload_id)

    assert result.success and fake_anthropic.requests == []
    assert _metadata(result, "claude_extraction")["skipped"] is True
    upload = cloud_platform.upload(upload_id)
    assert str(upload.status) == "succeeded"
    assert upload.input_tokens == 0 and upload.cost_usd == pytest.approx(documentai_cost(1))
    truth = _keys(grid_pdf.truth)
    assert len(_keys(_stored(cloud_platform, upload_id)) & truth) >= 0.9 * len(truth)


@pytest.mark.parametrize(("documentai_confidence", "claude_runs"), [(0.99, False), (0.3, True)])
def test_fallback_mode_calls_claude_only_when_document_ai_is_unsure(
    cloud_platform: Platform,
    fake_documentai: FakeDocumentAI,
    fake_anthropic: FakeAnthropic,
    grid_pdf: Generated,
    documentai_confidence: float,
    claude_runs: bool,
) -> None:
    fake_documentai.confidence = documentai_confidence
    fake_anthropic.truth = grid_pdf.truth
    upload_id = cloud_platform.submit(grid_pdf.path, mode="fallback")
    result = cloud_platform.materialize(upload_id)

    assert result.success
    assert bool(fake_anthropic.requests) is claude_runs
    upload = cloud_platform.upload(upload_id)
    assert str(upload.status) == "succeeded"
    assert (upload.output_tokens > 0) is claude_runs
    assert (upload.backends["interpreter"] is not None) is claude_runs
    if claude_runs:  # weighed by confidence, the surer reading carries the merge
        assert _keys(_stored(cloud_platform, upload_id)) == _keys(grid_pdf.truth)


def test_persistent_document_ai_outage_fails_the_upload_with_a_clear_error(
    cloud_platform: Platform, fake_documentai: FakeDocumentAI, grid_pdf: Generated
) -> None:
    fake_documentai.fail_next(503, times=100)
    upload_id = cloud_platform.submit(grid_pdf.path, mode="hybrid")
    result = cloud_platform.materialize(upload_id)

    assert not result.success
    # Bounded: (1 + 2 client retries) per attempt, two step attempts (one Dagster retry with backoff).
    assert len(fake_documentai.requests) == 6
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1

    upload = cloud_platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert upload.error.startswith(
        "document_ai_extraction: backend_error: Document AI is unavailable after 3 attempts"
    )
    assert "503" in upload.error
    assert not cloud_platform.store.blobs.exists(result_key(upload_id))


def test_claude_still_malformed_after_repair_keeps_the_layout_reading_with_a_warning(
    cloud_platform: Platform, fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["malformed", "malformed"]
    upload_id = cloud_platform.submit(grid_pdf.path, mode="hybrid")
    result = cloud_platform.materialize(upload_id)

    assert result.success and len(fake_anthropic.requests) == 2
    upload = cloud_platform.upload(upload_id)
    # One reading alone is served, and flagged for review: nobody confirmed it.
    assert str(upload.status) == "needs_review", upload.review_reasons
    assert any("confidence" in r for r in upload.review_reasons)
    assert any("invalid timetable entries twice" in w for w in upload.warnings)
    assert upload.backends["interpreter"] is None
    assert _stored(cloud_platform, upload_id).entries


def test_api_submission_runs_through_both_services_and_reports_usage(
    cloud_platform: Platform, fake_anthropic: FakeAnthropic, grid_pdf: Generated, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from timetable_platform.api import create_app
    from timetable_platform.settings import Settings
    from timetable_platform.store import apikeys
    from timetable_platform.store.factory import build_store

    fake_anthropic.truth = grid_pdf.truth
    settings = Settings(_env_file=None, api_key_cache_seconds=0, **cloud_platform.store.overrides)  # type: ignore[call-arg, arg-type]
    store = build_store(settings)
    try:
        with store.session_factory.begin() as session:
            key = {"X-API-Key": apikeys.create_api_key(session, "school-1").key}
        with TestClient(create_app(settings, store)) as client:
            submitted = client.post(
                "/api/v2/timetable/uploads",
                headers=key,
                files={"file": (grid_pdf.path.name, grid_pdf.path.read_bytes())},
                data={"mode": "hybrid"},
            )
            assert submitted.status_code == 202, submitted.text
            links = submitted.json()["links"]
            upload_id = submitted.json()["upload_id"]

            assert cloud_platform.materialize(upload_id).success

            status = client.get(links["self"], headers=key).json()
            assert status["status"] == "succeeded"
            assert status["backends"]["interpreter"] == "claude:claude-sonnet-4-5"
            usage = status["usage"]
            assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
            assert usage["cost_usd"] == pytest.approx(documentai_cost(1) + _claude_cost(fake_anthropic))
            timetable = client.get(links["timetable"], headers=key).json()
            assert {(e["day"], e["start"], e["subject"]) for e in timetable["entries"]} == {
                (e.day, e.start, e.subject) for e in grid_pdf.truth.entries
            }
    finally:
        store.dispose()
