"""The FastAPI front door: submit, track and fetch timetables (never imports Dagster)."""

from timetable_platform.api.app import create_app

__all__ = ["create_app"]
