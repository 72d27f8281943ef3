"""Run requests that cover many uploads with few runs (partition ranges), for backfills.

Shared by the historical sensor and the stale/failed schedule. A range is a contiguous slice of
the ``uploads`` partitions, so the uploads are split wherever other partitions lie between them.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from timetable_platform.assets.partitions import (
    BACKFILL_LANE,
    BACKFILL_REASON_TAG,
    BACKFILL_RUNS_AT_ONCE,
    LANE_TAG,
    MAX_PARTITIONS_PER_RUN,
    MIN_PARTITIONS_PER_RUN,
    UPLOADS_PARTITIONS,
)


def run_size(count: int, max_per_run: int = MAX_PARTITIONS_PER_RUN) -> int:
    """Uploads per ranged run for a backfill of ``count``: enough runs to keep ``BACKFILL_RUNS_AT_ONCE``
    busy, none smaller than ``MIN_PARTITIONS_PER_RUN`` (each run pays a process start), none above
    ``max_per_run``."""
    spread = -(-count // BACKFILL_RUNS_AT_ONCE)  # ceil
    return max(1, min(max_per_run, max(spread, MIN_PARTITIONS_PER_RUN)))


def contiguous_chunks(
    upload_ids: Sequence[str], partition_order: Sequence[str], max_per_run: int = MAX_PARTITIONS_PER_RUN
) -> list[list[str]]:
    """Split ``upload_ids`` into runs of neighbouring partitions, at most ``max_per_run`` each."""
    index = {key: i for i, key in enumerate(partition_order)}
    ordered = sorted({u for u in upload_ids if u in index}, key=index.__getitem__)
    chunks: list[list[str]] = []
    for upload_id in ordered:
        last = chunks[-1] if chunks else None
        if last is not None and len(last) < max_per_run and index[upload_id] == index[last[-1]] + 1:
            last.append(upload_id)
        else:
            chunks.append([upload_id])
    return chunks


def backfill_run_requests(
    instance: dg.DagsterInstance,
    upload_ids: Sequence[str],
    *,
    reason: str,
    run_key_prefix: str,
    max_per_run: int = MAX_PARTITIONS_PER_RUN,
) -> list[dg.RunRequest]:
    """Ranged run requests for ``upload_ids`` (partitions added first when missing), tagged as backfill lane."""
    name = UPLOADS_PARTITIONS.name
    assert name is not None
    existing = set(instance.get_dynamic_partitions(name))
    missing = [u for u in dict.fromkeys(upload_ids) if u not in existing]
    if missing:
        # Written now, not via SensorResult: the ranges below need the partitions' final order.
        instance.add_dynamic_partitions(name, missing)
    order = instance.get_dynamic_partitions(name)
    requests = []
    for chunk in contiguous_chunks(upload_ids, order, run_size(len(set(upload_ids)), max_per_run)):
        tags = {LANE_TAG: BACKFILL_LANE, BACKFILL_REASON_TAG: reason}
        if len(chunk) == 1:
            requests.append(
                dg.RunRequest(run_key=f"{run_key_prefix}:{chunk[0]}", partition_key=chunk[0], tags=tags)
            )
        else:
            tags |= {ASSET_PARTITION_RANGE_START_TAG: chunk[0], ASSET_PARTITION_RANGE_END_TAG: chunk[-1]}
            requests.append(dg.RunRequest(run_key=f"{run_key_prefix}:{chunk[0]}..{chunk[-1]}", tags=tags))
    return requests
