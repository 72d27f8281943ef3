"""``timetable code-server``: the Dagster code server for a supervisor. It refuses a port another code
server holds (gRPC binds with SO_REUSEPORT, so a second ``dagster code-server`` would silently share it)
and stops on SIGTERM even when started with SIGTERM ignored (a script's background job)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from timetable_platform.cli.platform import free_port, port_in_use

TIMETABLE = str(Path(sys.executable).parent / "timetable")
LOAD_TIMEOUT = 180.0  # loading the definitions takes ~30 s on a busy 2-core machine


def test_port_in_use_sees_a_reuseport_listener_as_grpc_makes_it() -> None:
    with socket.socket() as grpc_like:
        grpc_like.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        grpc_like.bind(("127.0.0.1", 0))
        grpc_like.listen()
        assert port_in_use("127.0.0.1", grpc_like.getsockname()[1])
    assert not port_in_use("127.0.0.1", free_port())


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@pytest.mark.slow
def test_code_server_refuses_a_taken_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    from dagster._grpc.client import DagsterGrpcClient

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    log = tmp_path / "code-server.log"
    with log.open("wb") as sink:
        first = subprocess.Popen(
            [TIMETABLE, "code-server", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_ignore_sigterm,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + LOAD_TIMEOUT
        while True:
            assert first.poll() is None, log.read_text()
            try:
                if "error" not in DagsterGrpcClient(port=port, host="127.0.0.1").list_repositories().lower():
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1.0)

        second = subprocess.run(
            [TIMETABLE, "code-server", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert f"port {port} on 127.0.0.1 is in use" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1

        os.kill(first.pid, signal.SIGTERM)  # the pid the supervisor knows: exec kept it
        assert first.wait(timeout=30) is not None
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
