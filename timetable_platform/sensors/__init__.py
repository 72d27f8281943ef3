"""Sensors: the upload queue, run status bookkeeping, historical documents, callback delivery."""

from timetable_platform.sensors.callbacks import callback_delivery_sensor
from timetable_platform.sensors.deleted_uploads import deleted_uploads_sensor
from timetable_platform.sensors.historical import historical_upload_sensor
from timetable_platform.sensors.reconcile import reconcile_sensor
from timetable_platform.sensors.run_status import (
    upload_run_canceled_sensor,
    upload_run_failed_sensor,
    upload_run_started_sensor,
    upload_run_succeeded_sensor,
)
from timetable_platform.sensors.upload_queue import upload_queue_sensor

ALL_SENSORS = [
    upload_queue_sensor,
    upload_run_started_sensor,
    upload_run_succeeded_sensor,
    upload_run_failed_sensor,
    upload_run_canceled_sensor,
    historical_upload_sensor,
    callback_delivery_sensor,
    deleted_uploads_sensor,
    reconcile_sensor,
]

__all__ = ["ALL_SENSORS"]
