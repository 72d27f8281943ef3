"""Headless Chromium for tests: a page's DOM after its scripts ran, and screenshots, with no network.

Debian's ``chromium`` package (installed by ``scripts/system-deps.sh``). Without it the tests skip,
except under ``CI=true``, where a missing browser fails the run instead of hiding the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# Every host name but the loopback fails to resolve: the page gets no CDN, as on an offline machine.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
TIMEOUT_SECONDS = 90


def chromium() -> str:
    """The browser's path; skips the test when absent (fails it under CI=true)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium is not installed (Debian package chromium; scripts/system-deps.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run(url: str, *extra: str, width: int, height: int) -> subprocess.CompletedProcess[str]:
    # A profile of its own per call: parallel test workers must not share one.
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            OFFLINE,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *extra,
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def dump_dom(url: str, *, width: int = 1280, height: int = 1000, wait_ms: int = 5000) -> str:
    """The page's DOM once loaded and its scripts had ``wait_ms`` of (virtual) time to run."""
    return _run(url, "--dump-dom", f"--virtual-time-budget={wait_ms}", width=width, height=height).stdout


def screenshot(url: str, path: Path, *, width: int, height: int) -> Path:
    _run(url, f"--screenshot={path}", "--virtual-time-budget=2000", width=width, height=height)
    assert path.is_file(), f"chromium wrote no screenshot to {path}"
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
