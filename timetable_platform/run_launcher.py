"""``MonitoredRunLauncher``: Dagster's default run launcher, plus the run-worker health check that
lets run monitoring notice a run whose worker is gone.

The default launcher starts each run as a subprocess of the code server and cannot say whether
that process still lives, so a run whose worker died with its code server (kill -9 of the group,
an out-of-memory kill, a reboot) stayed ``STARTED`` forever and its upload ``running``. The code
server knows the runs it executes (``CanCancelExecution`` answers whether it holds a live worker for
the run; ``GetCurrentRuns`` is not implemented by this server): a run it does not hold is failed by run
monitoring with no step failure, and ``upload_run_failed_sensor`` queues its uploads for a new
run. A code server that does not answer is being restarted: its runs count as running until it
answers again. The K8s and ECS launchers have their own health checks; this one is for
``timetable up`` and single-host deployments, where workers die with their code server's group.
"""

from __future__ import annotations

import json

from dagster import _check as check
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.launcher.default_run_launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import CanCancelExecutionRequest, CanCancelExecutionResult
from dagster._serdes import deserialize_value


class MonitoredRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        check.inst_param(run, "run", DagsterRun)
        info = run.tags.get(GRPC_INFO_TAG)
        if not info:  # launched some other way (e.g. in process): nothing to ask
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no code server recorded for the run")
        grpc_info = json.loads(info)
        client = DagsterGrpcClient(
            port=grpc_info.get("port"),
            socket=grpc_info.get("socket"),
            host=grpc_info.get("host"),
            use_ssl=bool(grpc_info.get("use_ssl", False)),
        )
        try:
            answer = deserialize_value(
                client.can_cancel_execution(CanCancelExecutionRequest(run_id=run.run_id), timeout=10),
                CanCancelExecutionResult,
            )
        except Exception as exc:  # grpc errors: the server is down or restarting
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, f"code server not answering ({type(exc).__name__}); assuming the run lives"
            )
        if answer.can_cancel:  # the server holds a live worker for the run
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the run's worker is gone: its code server does not run it (it was restarted, or the worker was killed)",
        )
