"""The one ``dg.Definitions`` of the platform: `dagster dev -m timetable_platform.definitions`."""

from __future__ import annotations

import dagster as dg

from timetable_platform.assets import SCHOOL_ASSETS, TIMETABLE_ASSETS, upload_job
from timetable_platform.assets.review import REVIEW_ASSETS, REVIEW_JOBS, REVIEW_SCHEDULES, REVIEW_SENSORS
from timetable_platform.resources import InterpretationResource, LayoutExtractionResource, StoreResource
from timetable_platform.schedules import ALL_SCHEDULES
from timetable_platform.sensors import ALL_SENSORS
from timetable_platform.settings import get_settings, load_env_file


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from settings (``TIMETABLE_*`` / ``.env``): the only place backends are chosen."""
    load_env_file()  # AWS_* from .env for the store's boto3 clients in the code server and run workers
    settings = get_settings()
    return {
        "store": StoreResource(),
        "layout": LayoutExtractionResource.from_settings(settings),
        "interpretation": InterpretationResource.from_settings(settings),
    }


defs = dg.Definitions(
    assets=[*TIMETABLE_ASSETS, *REVIEW_ASSETS, *SCHOOL_ASSETS],
    jobs=[upload_job, *REVIEW_JOBS],
    sensors=[*ALL_SENSORS, *REVIEW_SENSORS],
    schedules=[*ALL_SCHEDULES, *REVIEW_SCHEDULES],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
