"""Schedules: the nightly re-materialisation of stale and failed uploads."""

from timetable_platform.schedules.backfill import stale_and_failed_backfill_schedule

ALL_SCHEDULES = [stale_and_failed_backfill_schedule]

__all__ = ["ALL_SCHEDULES", "stale_and_failed_backfill_schedule"]
