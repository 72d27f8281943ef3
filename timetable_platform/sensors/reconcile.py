"""``reconcile_sensor``: the reconciler, run by the daemon instead of waiting for an operator.

An upload can be ``queued`` with no message in the queue: a process died between committing the
row and sending (an SQS queue, or a run-failure tick re-queueing an upload). ``retention.reconcile_orphans``
purges and re-sends one message for every upload queued and untouched for ``ORPHAN_MINUTES``; the
queue sensor's run key (upload id + generation) makes a redundant message harmless.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from timetable_platform.resources import StoreResource

ORPHAN_MINUTES = 10
TICK_SECONDS = 120


@dg.sensor(
    name="reconcile_sensor",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Re-sends the queue message of uploads left queued for {ORPHAN_MINUTES} minutes (timetable reconcile).",
)
def reconcile_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SkipReason:
    from timetable_platform.store.retention import reconcile_orphans

    resent = reconcile_orphans(store.store(), older_than=timedelta(minutes=ORPHAN_MINUTES))
    if resent:
        context.log.warning(f"re-sent the queue message of {resent} uploads left queued without one")
    return dg.SkipReason(f"re-sent {resent} messages")
