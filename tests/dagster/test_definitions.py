"""The definitions load with everything the UI should show, and both instance configs are valid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from timetable_platform.assets.partitions import CLAUDE_POOL, DOCUMENTAI_POOL, EXTRACTOR_VERSION
from timetable_platform.definitions import defs

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_show_assets_checks_sensors_and_schedule() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    review = {"reviewed_timetable", "extraction_quality"}
    per_upload = {"raw_upload", "document_ai_extraction", "claude_extraction", "merged_timetable"}
    assert keys == {*per_upload, *review, "school_timetables"}
    assert {graph.get(dg.AssetKey(k)).group_name for k in review} == {"review"}
    school = graph.get(dg.AssetKey("school_timetables"))
    assert school.partitions_def is not None and school.partitions_def.name == "tenants"  # type: ignore[attr-defined]
    for key in graph.get_all_asset_keys():
        if key.to_user_string() not in per_upload:
            continue
        node = graph.get(key)
        assert node.group_name == "timetables"
        assert node.code_version == EXTRACTOR_VERSION
        assert node.partitions_def is not None and node.partitions_def.name == "uploads"  # type: ignore[attr-defined]
    checks = {c.name: c for c in graph.asset_check_keys}  # type: ignore[attr-defined]
    assert set(checks) == {
        "schema_valid",
        "has_entries",
        "start_before_end",
        "times_in_school_day",
        "no_overlaps",
        "every_day_read",
        "mean_confidence",
        "low_confidence_share",
        "newest_extractor_not_worse",
        "teacher_in_one_place",
        "room_booked_once",
        "class_one_lesson_per_slot",
    }
    repository = defs.get_repository_def()
    names = {s.name for s in repository.sensor_defs}
    assert {"upload_queue_sensor", "historical_upload_sensor", "callback_delivery_sensor"} <= names
    assert {"upload_run_started_sensor", "upload_run_succeeded_sensor", "upload_run_failed_sensor"} <= names
    assert {"review_events_sensor"} <= names
    assert [s.name for s in repository.schedule_defs] == ["extraction_quality_daily", "stale_and_failed_backfill"]
    queue_sensor = defs.resolve_sensor_def("upload_queue_sensor")
    assert queue_sensor.minimum_interval_seconds is not None and queue_sensor.minimum_interval_seconds <= 5
    job = defs.resolve_job_def("process_upload")
    assert job.executor_def.name == dg.in_process_executor.name
    pools = {n.name: n.definition.pool for n in job.graph.node_dict.values()}  # type: ignore[attr-defined]
    assert pools["document_ai_extraction"] == DOCUMENTAI_POOL and pools["claude_extraction"] == CLAUDE_POOL


def test_embedded_instance_config_is_valid(tmp_path: Path) -> None:
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(tmp_path))
        instance = dg.DagsterInstance.from_config(str(tmp_path))
        try:
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            assert instance.run_monitoring_enabled
            assert Path(instance.run_storage._conn_string.split("///", 1)[1]).is_relative_to(tmp_path)  # type: ignore[attr-defined]
        finally:
            instance.dispose()


@pytest.mark.postgres
def test_postgres_instance_config_is_valid(tmp_path: Path, postgres_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    shutil.copy(ROOT / "deploy" / "dagster-postgres.yaml", tmp_path / "dagster.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(tmp_path))
        mp.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
        mp.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
        mp.setenv("DAGSTER_PG_USER", url.username or "postgres")
        mp.setenv("DAGSTER_PG_PASSWORD", url.password or "")
        mp.setenv("DAGSTER_PG_DB", url.database or "")
        instance = dg.DagsterInstance.from_config(str(tmp_path))
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert instance.get_runs() == []
        finally:
            instance.dispose()


def test_loading_the_definitions_warns_about_nothing_known_and_harmless() -> None:
    """The code server imports these at start and every run process again: the beta/preview notices
    about backfill_policy and partitioned checks and the redundant job partitions_def stay quiet."""
    import subprocess
    import sys

    root = ROOT
    loaded = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import timetable_platform.definitions"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
    )
    for noise in ("BetaWarning", "PreviewWarning", "backfill_policy", "partitions_def"):
        assert noise not in loaded.stderr, loaded.stderr
