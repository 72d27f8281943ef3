"""The per-upload asset graph, its checks and the job that runs it in one process."""

from __future__ import annotations

import dagster as dg

from timetable_platform.assets.partitions import GROUP_NAME, LANE_TAG, LIVE_LANE
from timetable_platform.assets.school import school_timetables
from timetable_platform.assets.timetables import (
    claude_extraction,
    document_ai_extraction,
    merged_timetable,
    raw_upload,
)

TIMETABLE_ASSETS = [raw_upload, document_ai_extraction, claude_extraction, merged_timetable]
# The school-wide view, partitioned by tenant (materialised on its own, not in the per-upload job).
SCHOOL_ASSETS = [school_timetables]

# One run = one process: the 2-7 s start-up of a run is paid once, not once per step.
upload_job = dg.define_asset_job(
    name="process_upload",
    selection=dg.AssetSelection.groups(GROUP_NAME),
    executor_def=dg.in_process_executor,
    tags={LANE_TAG: LIVE_LANE},
    description="Extract one upload (or a range of uploads in a backfill) end to end.",
)

__all__ = [
    "SCHOOL_ASSETS",
    "TIMETABLE_ASSETS",
    "claude_extraction",
    "document_ai_extraction",
    "merged_timetable",
    "raw_upload",
    "school_timetables",
    "upload_job",
]
