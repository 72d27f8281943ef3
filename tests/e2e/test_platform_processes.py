"""``timetable up/down/backfill`` without the whole platform: process-group stopping, refusals, selection."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from timetable_platform.cli import main
from timetable_platform.cli.platform import (
    Service,
    free_port,
    select_backfill_uploads,
    start_service,
    stop_services,
)
from timetable_platform.settings import Settings

# A child that ignores SIGTERM and SIGINT itself and leaves a grandchild that does too.
STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
    "print('OUT', p.pid, flush=True); time.sleep(120)\n"
)
REPORT_HANDLER = (
    "import signal, time; print('OUT', int(signal.getsignal(signal.SIGTERM)), flush=True); time.sleep(120)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _wait_for_output(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in path.read_text().splitlines() if line.startswith("OUT ")]
        if lines:
            return lines[-1].removeprefix("OUT ")
        time.sleep(0.1)
    raise AssertionError(f"no output in {path}")


def test_stop_kills_a_group_that_ignores_sigterm_grandchildren_included(tmp_path: Path) -> None:
    service = Service("stubborn", [sys.executable, "-c", STUBBORN], tmp_path / "stubborn.log", lambda: True)
    start_service(service, dict(os.environ))
    grandchild = int(_wait_for_output(service.log_path))
    assert service.process is not None and _alive(service.process.pid) and _alive(grandchild)

    started = time.monotonic()
    stop_services([service], grace=1.0)
    assert time.monotonic() - started < 10
    assert service.process.poll() is not None
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild)


def test_children_start_with_default_signal_handlers_even_if_the_parent_ignores_them(tmp_path: Path) -> None:
    service = Service("report", [sys.executable, "-c", REPORT_HANDLER], tmp_path / "report.log", lambda: True)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as a sandbox or nohup would leave it
    try:
        start_service(service, dict(os.environ))
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        assert _wait_for_output(service.log_path) == str(int(signal.SIG_DFL))
        assert service.process is not None
        os.killpg(service.process.pid, signal.SIGTERM)
        assert service.process.wait(timeout=10) == -signal.SIGTERM
    finally:
        stop_services([service], grace=0.5)


def test_up_refuses_a_port_in_use_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["up", "--api-port", str(port), "--ui-port", str(free_port()), "--no-examples"]) == 2
    assert f"port {port} is in use" in capsys.readouterr().err
    assert not (tmp_path / "data" / "dagster_home").exists()


def test_up_refuses_when_already_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path))
    (tmp_path / "platform.pid").write_text(f'{{"pid": {os.getpid()}, "children": {{}}}}')
    assert main(["up", "--no-examples"]) == 2
    assert "already running" in capsys.readouterr().err


def test_down_without_a_running_platform_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path))
    assert main(["down"]) == 0
    assert "not running" in capsys.readouterr().out


def test_down_stops_the_foreground_process_and_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path))
    child = Service("stubborn", [sys.executable, "-c", STUBBORN], tmp_path / "child.log", lambda: True)
    start_service(child, dict(os.environ))
    # Stands in for `timetable up`: default SIGTERM handling from exec on, even where this test process
    # was started with SIGTERM ignored (an ignored signal stays ignored across exec).
    foreground = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    assert child.process is not None
    (tmp_path / "platform.pid").write_text(
        f'{{"pid": {foreground.pid}, "children": {{"stubborn": {child.process.pid}}}}}'
    )
    try:
        # A generous timeout costs nothing: down returns as soon as the process has ended (a zombie
        # of this test counts as ended), so a loaded machine cannot turn its SIGTERM into a SIGKILL.
        started = time.monotonic()
        assert main(["down", "--timeout", "60"]) == 0
        assert foreground.wait(timeout=60) == -signal.SIGTERM
        assert time.monotonic() - started < 30
        assert child.process.wait(timeout=10) == -signal.SIGKILL
        assert not (tmp_path / "platform.pid").exists()
    finally:
        foreground.kill()
        stop_services([child], grace=0.1)


def _uploads_in_states(settings: Settings) -> dict[str, str]:
    from timetable_platform.assets.partitions import EXTRACTOR_VERSION
    from timetable_platform.store import repository
    from timetable_platform.store.factory import build_store
    from timetable_platform.store.intake import submit_document
    from timetable_platform.store.models import UploadStatus

    store = build_store(settings, migrate=True)
    ids = {}
    try:
        for name in ("stale", "failed", "current", "queued"):
            submission = submit_document(
                store, content=f"day,start,end,subject\nMonday,09:00,10:00,{name}\n".encode(),
                filename=f"{name}.csv", media_type="text/csv", tenant="t", mode="hybrid",
            )  # fmt: skip
            ids[name] = submission.upload.id
        with store.session_factory.begin() as session:
            for name, status, version in (
                ("stale", UploadStatus.SUCCEEDED, "0.0"),
                ("failed", UploadStatus.FAILED, EXTRACTOR_VERSION),
                ("current", UploadStatus.SUCCEEDED, EXTRACTOR_VERSION),
            ):
                upload = repository.get_upload(session, ids[name])
                assert upload is not None
                upload.status, upload.extractor_version, upload.attempts = status, version, 1
    finally:
        store.dispose()
    return ids


def test_backfill_selects_stale_and_failed_uploads_separately(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ids = _uploads_in_states(settings)
    assert select_backfill_uploads(settings, stale=True, failed=False, limit=10) == [ids["stale"]]
    assert select_backfill_uploads(settings, stale=False, failed=True, limit=10) == [ids["failed"]]
    assert sorted(select_backfill_uploads(settings, stale=True, failed=True, limit=10)) == sorted(
        [ids["stale"], ids["failed"]]
    )


def test_backfill_cli_dry_run_and_unreachable_webserver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path))
    assert main(["backfill"]) == 0  # an empty store
    assert "nothing to backfill" in capsys.readouterr().out
    ids = _uploads_in_states(Settings(data_dir=tmp_path))
    assert main(["backfill", "--failed", "--dry-run"]) == 0
    assert capsys.readouterr().out.split() == [ids["failed"]]
    assert main(["backfill", "--dagster-url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "Dagster webserver not reachable" in capsys.readouterr().err
    assert main(["backfill", "--limit", "0"]) == 2
