"""/docs and /redoc render in headless Chromium on a machine without internet.

The API is served by uvicorn on the loopback; every other host name fails to resolve in the
browser (``support.browser.OFFLINE``), so a page that needs a CDN stays blank and fails here.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.api.conftest import make_settings
from tests.support.browser import dump_dom
from timetable_platform.api import create_app
from timetable_platform.store.factory import build_store


@pytest.fixture
def served_api(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'api.db'}")
    store = build_store(settings, migrate=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        raise AssertionError("the API did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


def test_swagger_ui_renders_the_operations_offline(served_api: str) -> None:
    page = httpx.get(f"{served_api}/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(url.startswith("/") for url in assets), assets  # served by the API itself
    dom = dump_dom(f"{served_api}/docs", wait_ms=8000)
    # Swagger UI drew the operations from /openapi.json: each is an "opblock" with its path.
    assert dom.count('class="opblock opblock-') >= 8, dom[:2000]
    assert "/api/v2/timetable/uploads/{upload_id}/timetable" in dom
    assert "Timetable platform API" in dom


def test_redoc_renders_offline(served_api: str) -> None:
    dom = dump_dom(f"{served_api}/redoc", wait_ms=8000)
    assert "Submit a document" in dom and "Status of one upload" in dom
