"""The asset graph materialised for real: store backends, embedded extraction, checks, failures and retries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from tests.dagster.conftest import Platform, corpus_file
from timetable_platform.assets.partitions import EXTRACTOR_VERSION
from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.errors import BackendError
from timetable_platform.resources import LayoutExtractionResource
from timetable_platform.store import repository
from timetable_platform.store.blobs import BlobNotFound, result_key


def _materializations(result: dg.ExecuteInProcessResult, asset: str) -> list[dict[str, Any]]:
    return [
        {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(asset)
    ]


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _assert_stored(platform: Platform, upload_id: str) -> Timetable:
    """Entries in the database and JSON in the blob store, equal to each other."""
    stored = json.loads(platform.store.blobs.get(result_key(upload_id)))
    with platform.store.session() as session:
        from_rows = repository.get_timetable(session, upload_id)
    assert from_rows is not None
    from_blob = Timetable.model_validate(stored)
    assert [e.model_dump() for e in from_rows.entries] == [e.model_dump() for e in from_blob.entries]
    return from_blob


def test_document_ai_mode_stores_entries_json_and_metadata(platform: Platform) -> None:
    path = corpus_file("l1_pdf_001.pdf")
    truth = json.loads(path.with_suffix(".json").read_text())
    upload_id = platform.submit(path, mode="document_ai")

    result = platform.materialize(upload_id)

    assert result.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "succeeded"
    assert upload.dagster_run_id == result.run_id
    assert upload.extractor_version == EXTRACTOR_VERSION
    assert upload.attempts == 1
    timetable = _assert_stored(platform, upload_id)
    # The extraction is real: the reading is close to the document's ground truth.
    assert abs(len(timetable.entries) - len(truth["entries"])) <= 2
    assert upload.entry_count == len(timetable.entries)
    assert timetable.source is not None and timetable.source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    raw = _materializations(result, "raw_upload")[0]
    assert raw["media_type"] == "application/pdf" and raw["pages"] == 1 and raw["media_type_matches_row"]
    assert _materializations(result, "claude_extraction")[0]["skipped"] is True
    merged = _materializations(result, "merged_timetable")[0]
    assert merged["entry_count"] == len(timetable.entries)
    assert merged["backends"]["interpreter"] is None
    # A pointer to the timetable, not its text: Dagster's storage outlives an erasure (docs/security.md).
    assert "preview" not in merged and merged["timetable"].startswith(result_key(upload_id))
    assert merged["warning_count"] == len(timetable.warnings) and "filename" not in raw
    assert set(merged["durations"]) >= {"document_ai_extraction", "merge"}
    checks = _checks(result)
    assert set(checks) == {
        "schema_valid",
        "has_entries",
        "start_before_end",
        "times_in_school_day",
        "no_overlaps",
        "every_day_read",
        "mean_confidence",
        "low_confidence_share",
    }
    assert checks["schema_valid"].passed and checks["times_in_school_day"].passed
    # Each upload's check results are its own: they carry its partition.
    assert {e.partition for e in checks.values()} == {upload_id}
    # The metadata says which backend really read the document.
    layout = _materializations(result, "document_ai_extraction")[0]
    assert layout["backend"].startswith("embedded:")
    assert layout["backend_ran"] == f"{layout['backend']} (embedded stand-in for Google Document AI)"


def test_rerun_of_an_upload_replaces_its_entries(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    first = platform.materialize(upload_id)
    second = platform.materialize(upload_id)
    assert first.success and second.success
    upload = platform.upload(upload_id)
    with platform.store.session() as session:
        timetable = repository.get_timetable(session, upload_id)
    assert timetable is not None and len(timetable.entries) == upload.entry_count  # replaced, not doubled
    assert upload.attempts == 2 and upload.dagster_run_id == second.run_id


def test_hybrid_mode_runs_both_stages(platform: Platform) -> None:
    pytest.importorskip("timetable_platform.extraction.textstream")
    pytest.importorskip("timetable_platform.domain.merge")
    upload_id = platform.submit(corpus_file("l1_docx_001.docx"), mode="hybrid")
    result = platform.materialize(upload_id)
    assert result.success
    claude = _materializations(result, "claude_extraction")[0]
    assert claude["skipped"] is False and claude["entry_count"] > 0
    merged = _materializations(result, "merged_timetable")[0]
    assert merged["backends"]["interpreter"] == claude["backend"]
    assert "claude_extraction" in merged["durations"]
    _assert_stored(platform, upload_id)


def test_fallback_mode_skips_the_interpreter_when_the_layout_is_confident(
    platform: Platform, small_timetable: Path
) -> None:
    upload_id = platform.submit(small_timetable, mode="fallback")
    result = platform.materialize(upload_id)
    assert result.success
    doc_ai = _materializations(result, "document_ai_extraction")[0]
    claude = _materializations(result, "claude_extraction")[0]
    assert doc_ai["confidence_mean"] >= platform.interpretation.fallback_threshold
    assert claude["skipped"] is True and "fallback" in claude["skip_reason"]


def test_checksum_mismatch_fails_the_upload_with_the_reason(platform: Platform, small_timetable: Path) -> None:
    path = small_timetable
    upload_id = platform.register(path.read_bytes(), filename=path.name, sha256="0" * 64)
    result = platform.materialize(upload_id)
    assert not result.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert "corrupt_document" in upload.error and "checksum" in upload.error
    assert upload.dagster_run_id == result.run_id
    with pytest.raises(BlobNotFound):
        platform.store.blobs.get(result_key(upload_id))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels (a decompression bomb's header) with a tiny IDAT."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [30_000, 9_000])  # Pillow's own bomb error; over our pixel limit only
def test_decompression_bomb_image_fails_as_too_large(platform: Platform, side: int) -> None:
    upload_id = platform.register(_png_header_only(side, side), filename="week.png")
    assert not platform.materialize(upload_id).success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert upload.error.startswith("raw_upload: too_large"), upload.error


class _ScriptedLayout:
    """A layout extractor that replays scripted outcomes (exceptions or timetables)."""

    name = "test:scripted"
    calls = 0

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes

    def extract(self, document: Document, limits: Limits) -> StageResult:
        outcome = self.outcomes[min(type(self).calls, len(self.outcomes) - 1)]
        type(self).calls += 1
        if isinstance(outcome, Exception):
            raise outcome
        return StageResult(timetable=outcome, backend=self.name, seconds=0.01, pages=1)


def _scripted_resource(outcomes: list[Any]) -> LayoutExtractionResource:
    _ScriptedLayout.calls = 0

    class Scripted(LayoutExtractionResource):
        def layout_extractor(self) -> _ScriptedLayout:  # type: ignore[override]
            return _ScriptedLayout(outcomes)

    return Scripted(retry_base_seconds=0.05, max_retries=3)


GOOD = Timetable(
    entries=[
        Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.95),
        Entry(day="MON", start="10:00", end="11:00", subject="Art", confidence=0.9),
    ]
)


def test_transient_backend_error_is_retried_with_backoff(platform: Platform, small_timetable: Path) -> None:
    platform.layout = _scripted_resource(
        [BackendError("busy", transient=True), BackendError("busy", transient=True), GOOD]
    )
    upload_id = platform.submit(small_timetable)
    result = platform.materialize(upload_id)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2
    assert _ScriptedLayout.calls == 3
    upload = platform.upload(upload_id)
    assert str(upload.status) == "succeeded" and upload.entry_count == 2


def test_infrastructure_errors_are_retried_then_dead_lettered_with_their_reason(
    platform: Platform, small_timetable: Path
) -> None:
    """The database or blob store failing under a step is not the document's fault: retried with
    backoff; once the retries are used up the upload fails as an infrastructure failure."""
    from sqlalchemy.exc import OperationalError

    platform.layout = _scripted_resource([OperationalError("SELECT 1", {}, Exception("server closed the connection")), GOOD])
    upload_id = platform.submit(small_timetable)
    assert platform.materialize(upload_id).success and _ScriptedLayout.calls == 2
    assert str(platform.upload(upload_id).status) == "succeeded"

    platform.layout = _scripted_resource([ConnectionResetError("blob store reset the connection")])
    upload_id = platform.submit(small_timetable, tenant="school-2")
    assert not platform.materialize(upload_id).success
    assert _ScriptedLayout.calls == 4  # max_retries=3: the first try and three retries
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert upload.error.startswith("document_ai_extraction: infrastructure_failure: ConnectionResetError")
    assert upload.error.endswith("(gave up after 4 attempts)")


def test_permanent_backend_error_is_not_retried(platform: Platform, small_timetable: Path) -> None:
    platform.layout = _scripted_resource([BackendError("quota exhausted", transient=False), GOOD])
    upload_id = platform.submit(small_timetable)
    result = platform.materialize(upload_id)
    assert not result.success
    assert _ScriptedLayout.calls == 1
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed" and "quota exhausted" in upload.error


# ly_1_2.png prints these: a lesson that runs into story time.
OVERLAPPING = Timetable(
    entries=[
        Entry(day="MON", start="14:15", end="15:10", subject="Maths", confidence=0.9),
        Entry(day="MON", start="15:00", end="15:15", subject="Storytime", confidence=0.9),
        Entry(day="TUE", start="11:00", end="10:00", subject="History", confidence=0.9),
    ]
)


def test_a_doubtful_timetable_is_served_as_needs_review_with_reasons_for_a_teacher(
    platform: Platform, small_timetable: Path
) -> None:
    platform.layout = _scripted_resource([OVERLAPPING])
    upload_id = platform.submit(small_timetable)
    result = platform.materialize(upload_id)

    assert result.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "needs_review" and upload.error is None
    assert "Two lessons overlap on Monday, 14:15-15:10 (Maths) and 15:00-15:15 (Storytime): check the printed times." in (
        upload.review_reasons
    )
    assert any("History on Tuesday ends before it starts" in r for r in upload.review_reasons)
    assert len(_assert_stored(platform, upload_id).entries) == 3  # stored and served
    checks = _checks(result)
    # Doubts are warnings, distinct from failures; the usable-output checks pass.
    for name in ("no_overlaps", "start_before_end"):
        assert not checks[name].passed and checks[name].severity == dg.AssetCheckSeverity.WARN
        assert checks[name].description and "check" in checks[name].description
    assert checks["schema_valid"].passed and checks["has_entries"].passed
    merged = _materializations(result, "merged_timetable")[0]
    assert merged["status"] == "needs_review" and merged["review_reason_count"] == len(upload.review_reasons)
    # Dagster gets counts and fixed sentences: the lessons the reasons name stay in the store.
    dagster_text = json.dumps(merged, default=str) + " ".join(str(c.description) for c in checks.values())
    assert "Maths" not in dagster_text and "Storytime" not in dagster_text and "History" not in dagster_text


def test_an_empty_timetable_fails_the_upload_as_a_failed_check_with_its_reason(
    platform: Platform, small_timetable: Path
) -> None:
    platform.layout = _scripted_resource([Timetable(entries=[])])
    upload_id = platform.submit(small_timetable)
    result = platform.materialize(upload_id)

    assert not result.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert "No lessons could be read from the document." in upload.error
    assert not platform.store.blobs.exists(result_key(upload_id))
    assert result.asset_materializations_for_node("merged_timetable") == []
    # The rejection is a failed check with its reason on this upload's partition, not EXECUTION_FAILED.
    key = dg.AssetCheckKey(dg.AssetKey("merged_timetable"), "has_entries")
    [record] = platform.instance.event_log_storage.get_asset_check_execution_history(key, limit=5)
    assert record.status.value == "FAILED" and record.partition == upload_id
    assert record.evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert record.evaluation.description == "No lessons could be read from the document."
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "No lessons could be read" in failure.step_failure_data.user_failure_data.description


def test_each_upload_keeps_its_own_check_results(platform: Platform, small_timetable: Path) -> None:
    """The check status of one upload's partition is not overwritten by the next upload's run."""
    platform.layout = _scripted_resource([OVERLAPPING])
    doubtful = platform.submit(small_timetable)
    platform.materialize(doubtful)
    platform.layout = _scripted_resource([GOOD])
    clean = platform.register(b"Day,Start,End,Subject\nMonday,09:00,10:00,Art\n", filename="other.csv")
    platform.materialize(clean)

    key = dg.AssetCheckKey(dg.AssetKey("merged_timetable"), "no_overlaps")
    latest = {
        r.partition: r for r in platform.instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    }
    assert set(latest) == {doubtful, clean}
    assert latest[doubtful].evaluation.passed is False
    assert latest[doubtful].evaluation.severity == dg.AssetCheckSeverity.WARN
    assert latest[clean].evaluation.passed is True


def test_ranged_run_fails_only_the_failing_document(platform: Platform) -> None:
    good_a = platform.register(corpus_file("l1_pdf_001.pdf").read_bytes(), filename="a.pdf")
    corrupt = platform.register(corpus_file("l2_pdf_001.pdf").read_bytes(), filename="b.pdf", sha256="f" * 64)
    good_b = platform.register(corpus_file("l1_docx_001.docx").read_bytes(), filename="c.docx")
    platform.instance.add_dynamic_partitions("uploads", [good_a, corrupt, good_b])

    result = platform.materialize(
        tags={ASSET_PARTITION_RANGE_START_TAG: good_a, ASSET_PARTITION_RANGE_END_TAG: good_b}
    )

    assert result.success
    assert str(platform.upload(corrupt).status) == "failed"
    assert "checksum" in platform.upload(corrupt).error
    for upload_id in (good_a, good_b):
        assert str(platform.upload(upload_id).status) == "succeeded"
        assert platform.upload(upload_id).dagster_run_id == result.run_id
        _assert_stored(platform, upload_id)
    merged = _materializations(result, "merged_timetable")[0]
    assert merged["uploads_succeeded"] == 2 and merged["uploads_failed"] == 1
    # One set of check results per stored upload, each on its own partition.
    evaluations = result.get_asset_check_evaluations()
    assert {e.partition for e in evaluations} == {good_a, good_b}
    assert len(evaluations) == 2 * len({e.check_name for e in evaluations})
