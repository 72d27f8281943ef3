"""A deleted upload stays deleted: a DELETE landing while its run extracts leaves no result behind,
retention sweeps orphaned blobs, and the upload's Dagster partition goes too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.dagster.conftest import Platform
from timetable_platform.assets import steps
from timetable_platform.definitions import defs
from timetable_platform.resources import LayoutExtractionResource
from timetable_platform.sensors import deleted_uploads
from timetable_platform.store import repository
from timetable_platform.store.blobs import result_key, upload_key
from timetable_platform.store.retention import erase_upload, sweep_orphaned_blobs


def _blobs(platform: Platform) -> list[str]:
    return list(platform.store.blobs.list(""))


def _erase(platform: Platform, upload_id: str) -> None:
    assert erase_upload(platform.store.store(), upload_id)


def test_delete_while_the_layout_stage_extracts_leaves_nothing(
    platform: Platform, small_timetable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = platform.register(small_timetable.read_bytes(), filename="week.csv")
    build = LayoutExtractionResource.layout_extractor

    def extractor_erased_midway(resource: LayoutExtractionResource) -> Any:
        inner = build(resource)

        class Erasing:
            name = getattr(inner, "name", "layout")

            def extract(self, document: Any, limits: Any) -> Any:
                result = inner.extract(document, limits)
                _erase(platform, upload_id)  # the DELETE arrives while the document is being read
                return result

        return Erasing()

    monkeypatch.setattr(LayoutExtractionResource, "layout_extractor", extractor_erased_midway)
    result = platform.materialize(upload_id)
    assert not result.success
    assert _blobs(platform) == []
    assert "upload_deleted" in str(result.get_step_failure_events()[0].step_failure_data.user_failure_data)


def test_a_result_written_as_the_erasure_runs_is_taken_back(
    platform: Platform, small_timetable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst interleaving: the step's check passed, then the whole erasure ran, then the write."""
    upload_id = platform.register(small_timetable.read_bytes(), filename="week.csv")
    put = steps._put_json

    def erase_then_put(store: Any, key: str, data: dict[str, Any]) -> None:
        if key.endswith("document_ai.json"):
            _erase(platform, upload_id)
        put(store, key, data)

    monkeypatch.setattr(steps, "_put_json", erase_then_put)
    assert not platform.materialize(upload_id).success
    assert _blobs(platform) == []


def test_erasure_clears_results_written_between_its_blob_and_row_deletes(
    platform: Platform, small_timetable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = platform.register(small_timetable.read_bytes(), filename="week.csv")
    delete_row = repository.delete_upload

    def late_write_then_delete(session: Any, key: str) -> bool:
        platform.store.blobs.put(result_key(upload_id), b"{}")  # a step that checked just before
        return delete_row(session, key)

    monkeypatch.setattr(repository, "delete_upload", late_write_then_delete)
    _erase(platform, upload_id)
    assert _blobs(platform) == []


def test_retention_sweeps_orphaned_blobs_but_not_a_submission_in_flight(
    platform: Platform, small_timetable: Path
) -> None:
    kept = platform.register(small_timetable.read_bytes(), filename="week.csv")
    blobs = platform.store.blobs
    blobs.put(result_key(kept), b"{}")
    blobs.put(result_key("0" * 32), b"{}")  # orphan result: swept at once
    blobs.put("results/" + "0" * 32 + "/document_ai.json", b"{}")
    blobs.put(upload_key("school-1", "1" * 32), b"%PDF")  # document whose row is not committed yet
    store = platform.store.store()

    assert sweep_orphaned_blobs(store) == 2
    assert upload_key("school-1", "1" * 32) in _blobs(platform)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert sweep_orphaned_blobs(store, now=later) == 1  # an hour old and still no row: orphaned
    assert _blobs(platform) == [result_key(kept), upload_key("school-1", kept)]


def _tick(platform: Platform, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=platform.instance, cursor=cursor, resources={"store": platform.store}, definitions=defs
    )
    result = deleted_uploads.deleted_uploads_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_partition_of_an_erased_upload_is_deleted(platform: Platform, small_timetable: Path) -> None:
    first = platform.register(small_timetable.read_bytes(), filename="week.csv")
    second = platform.register(small_timetable.read_bytes() + b"\n", filename="week.csv")
    platform.instance.add_dynamic_partitions("uploads", [first, second])
    _erase(platform, first)

    result = _tick(platform, None)
    [request] = result.dynamic_partitions_requests or []
    assert isinstance(request, dg.DeleteDynamicPartitionsRequest) and list(request.partition_keys) == [first]
    platform.instance.delete_dynamic_partition("uploads", first)  # what the daemon does with it
    assert _tick(platform, result.cursor).dynamic_partitions_requests == []  # the cursor moved on
    assert platform.instance.get_dynamic_partitions("uploads") == [second]
