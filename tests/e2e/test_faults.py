"""A fault test over real processes (a code server and the Dagster daemon): the code server's
process group, one run worker and the daemon are each killed with SIGKILL while uploads are in
flight, and every accepted upload still ends ``succeeded`` exactly once. The full plan (every
target at every step) is ``bench/fault_injection.py``; this runs one fault per target."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


def _bench() -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("fault_injection", ROOT / "bench" / "fault_injection.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fault_injection"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_killed_daemon_run_worker_and_code_server_lose_fail_and_duplicate_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not any(CORPUS.glob("*.pdf")):
        pytest.skip(f"no corpus under {CORPUS}")
    bench = _bench()
    # The stack points this process's environment at itself; give every variable it sets back afterwards.
    for name in ("DAGSTER_HOME", "TIMETABLE_DATA_DIR", "TIMETABLE_DATABASE_URL", "TIMETABLE_BLOB_BACKEND",
                 "TIMETABLE_BLOB_DIR", "TIMETABLE_QUEUE_BACKEND", "TIMETABLE_MODE"):  # fmt: skip
        monkeypatch.setenv(name, "")
    faults = [
        bench.Fault("code_server", "raw_upload"),
        bench.Fault("run_worker", "document_ai_extraction"),
        bench.Fault("daemon", "merged_timetable"),
    ]
    outcome = bench.run(tmp_path, faults)
    assert [f.landed for f in faults if "killed" not in f.landed] == []
    assert "no run worker alive" not in faults[1].landed
    assert (outcome.lost, outcome.wrongly_failed, outcome.duplicated) == ([], [], [])
    assert outcome.succeeded == outcome.uploads == 3
    assert outcome.retried_runs >= 2  # the runs whose workers were killed were re-executed, not failed
