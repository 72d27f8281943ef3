"""``timetable fakes``: both fake servers in the foreground, driven by the backends' real SDK clients with
exactly the settings the command prints, stopped by their process group."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cloud.conftest import Generated
from tests.conftest import ROOT
from timetable_platform.cli import main
from timetable_platform.cli.platform import free_port
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.claude import ClaudeInterpreter
from timetable_platform.extraction.documentai import DocumentAILayoutExtractor
from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor
from timetable_platform.settings import Settings

TIMETABLE = str(Path(sys.executable).parent / "timetable")
CSV = b"day,start,end,subject,teacher,room\nMonday,09:00,09:45,Maths,JB,R12\nTuesday,10:00,10:45,Art,KL,A1\n"


def _keys(entries: list) -> set[tuple]:
    return {(e.day, e.start, e.end, e.week, e.subject, e.teacher, e.room, e.group) for e in entries}


class _Output:
    """The command's output, collected by a thread so the test never blocks on a pipe."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.text = ""
        assert process.stdout is not None
        self._stream = process.stdout
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self._stream:
            self.text += line

    def wait_for(self, marker: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            assert time.monotonic() < deadline, f"no {marker!r} after {timeout} s:\n{self.text}"
            time.sleep(0.1)
        return self.text


def test_fakes_serve_the_backends_with_the_printed_settings_until_sigterm(grid_pdf: Generated) -> None:
    claude_port, documentai_port = free_port(), free_port()
    process = subprocess.Popen(
        [TIMETABLE, "fakes", "--claude", str(claude_port), "--documentai", str(documentai_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    output = _Output(process)
    try:
        text = output.wait_for("running;")
        assert f"fake Claude       http://127.0.0.1:{claude_port}" in text
        assert f"fake Document AI  http://127.0.0.1:{documentai_port}" in text
        printed = dict(re.findall(r"^  TIMETABLE_([A-Z_]+)=(\S+)$", text, re.M))
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in printed.items()})  # type: ignore[arg-type]
        assert (settings.layout_backend, settings.interpreter_backend) == ("documentai", "claude")

        pdf = Document(grid_pdf.path.read_bytes(), "application/pdf", grid_pdf.path.name)
        embedded = EmbeddedLayoutExtractor().extract(pdf, Limits())
        layout = DocumentAILayoutExtractor.from_settings(settings).extract(pdf, Limits())
        assert layout.backend == "documentai" and layout.pages == 1
        assert _keys(layout.timetable.entries) == _keys(embedded.timetable.entries)

        # The fake Claude reads the PDF the request carries with the project's reader.
        claude = ClaudeInterpreter.from_settings(settings).extract(pdf, Limits())
        assert claude.backend.startswith("claude") and claude.cost_usd and claude.cost_usd > 0
        assert _keys(claude.timetable.entries) == _keys(embedded.timetable.entries)

        # A CSV travels as text: the fake answers with the layout stage's candidate reading it quotes.
        csv = Document(CSV, "text/csv", "week.csv")
        context = EmbeddedLayoutExtractor().extract(csv, Limits())
        answered = ClaudeInterpreter.from_settings(settings).extract(csv, Limits(), context)
        assert {(e.day, e.subject, e.room) for e in answered.timetable.entries} == {
            ("MON", "Maths", "R12"),
            ("TUE", "Art", "A1"),
        }
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=15)
    assert code == 0
    assert output.wait_for("stopped", timeout=5)


def test_fakes_refuse_a_taken_port_and_no_server(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["fakes", "--documentai", str(free_port()), "--claude", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("timetable: cannot listen") and len(err.splitlines()) == 1
    assert main(["fakes"]) == 2
    assert "--claude PORT" in capsys.readouterr().err
