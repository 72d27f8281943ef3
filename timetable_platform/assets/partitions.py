"""Names shared by assets, sensors and schedules: the partitions, pools, tags and extractor version."""

from __future__ import annotations

import dagster as dg

# Defined once, beside the package version: the nightly backfill re-materialises every upload
# whose stored ``extractor_version`` differs from it.
from timetable_platform import EXTRACTOR_VERSION as EXTRACTOR_VERSION

UPLOADS_PARTITIONS = dg.DynamicPartitionsDefinition(name="uploads")
GROUP_NAME = "timetables"

# Concurrency pools (limits set in dagster.yaml / `dagster instance concurrency set`): one per paid API,
# so each service's rate limit is respected on its own.
DOCUMENTAI_POOL = "documentai"
CLAUDE_POOL = "claude"
# Backfills are limited per run, not per step: runs tagged with the backfill lane share the
# run-level limit in dagster.yaml (`concurrency.runs.tag_concurrency_limits`).

# Run tags.
UPLOAD_ID_TAG = "timetable/upload_id"
# Which enqueueing of the upload a live run serves: a reprocessed upload gets a new generation, so
# its new run is not mistaken for (or deduplicated against) the run of an earlier enqueueing.
GENERATION_TAG = "timetable/generation"
LANE_TAG = "timetable/lane"  # "live" or "backfill"; dagster.yaml limits concurrent backfill runs
LIVE_LANE = "live"
BACKFILL_LANE = "backfill"
BACKFILL_REASON_TAG = "timetable/backfill_reason"  # historical | stale | failed

# Ranged runs process this many uploads per run (amortises the 2-7 s run start-up).
MAX_PARTITIONS_PER_RUN = 100
# A run is one process doing one upload at a time: a backfill uses both cores of a small machine only
# with two runs at once (dagster.yaml's backfill-lane limit), so a backfill of fewer than
# 2 x MAX_PARTITIONS_PER_RUN uploads is split in two runs, each of at least MIN_PARTITIONS_PER_RUN.
# Not smaller: each run costs ~3-6 CPU s of its own (process, imports, run events; measured: 10 DOCX as
# 2 runs of 5 took 16.4 CPU s against 8.7-10.2 as one run, bench/README.md).
BACKFILL_RUNS_AT_ONCE = 2
MIN_PARTITIONS_PER_RUN = 25

# One partition per tenant (school or district) for the school-wide view; added when an upload of
# the tenant is stored.
TENANTS_PARTITIONS = dg.DynamicPartitionsDefinition(name="tenants")
SCHOOL_GROUP_NAME = "schools"
