"""Delivers due completion callbacks outside any run, so a slow receiver never holds up extraction."""

import dagster as dg

from timetable_platform.resources import StoreResource


@dg.sensor(
    name="callback_delivery_sensor",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="POSTs signed completion callbacks that are due (retries with backoff live in the outbox).",
)
def callback_delivery_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SkipReason:
    from timetable_platform.store.callbacks import deliver_due_callbacks

    settings = store.settings()
    delivered = deliver_due_callbacks(
        store.store().session_factory, allow_private_networks=settings.callback_allow_private_networks
    )
    return dg.SkipReason(f"delivered {delivered} callbacks")
