"""/ready says whether a submission can succeed: the blob store takes a write, the database's schema
is current and its tables readable and writable. A store that merely answers is not ready."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.api.conftest import PDF_BYTES, PREFIX, Api
from timetable_platform.store.db import downgrade


def _ready(api: Api) -> tuple[int, dict[str, object]]:
    response = api.client.get("/ready")
    return response.status_code, response.json()["checks"]


def test_unwritable_blob_store_is_not_ready(api: Api) -> None:
    key = api.new_key("school-a")
    assert _ready(api)[0] == 200
    # The blob root still exists and is writable, but nothing can be stored under uploads/.
    uploads_dir = api.settings.resolved_blob_dir / "uploads"
    if uploads_dir.exists():
        uploads_dir.rmdir()
    uploads_dir.write_bytes(b"not a directory")
    assert api.submit(key).status_code == 503
    status, checks = _ready(api)
    assert status == 503 and checks["blob_store"] == {"ok": False, "detail": "BackendUnavailable"}
    assert checks["database"] == {"ok": True}


def test_corrupt_database_is_not_ready(api: Api) -> None:
    key = api.new_key("school-a")
    for n in range(20):
        assert api.submit(key, content=PDF_BYTES + str(n).encode()).status_code == 202
    assert _ready(api)[0] == 200
    api.store.dispose()
    path = Path(api.settings.resolved_database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'uploads'").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    with path.open("r+b") as file:  # garbage over the uploads table's root page
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)
    assert api.client.get(f"{PREFIX}/uploads", headers=key).status_code == 500
    status, checks = _ready(api)
    assert status == 503 and checks["database"]["ok"] is False  # type: ignore[index]


def test_database_behind_the_code_migration_is_not_ready(make_api: Callable[..., Api]) -> None:
    api = make_api()
    assert _ready(api)[0] == 200
    downgrade(api.settings.resolved_database_url, "0002")
    status, checks = _ready(api)
    assert status == 503 and checks["database"]["ok"] is False  # type: ignore[index]
    assert "schema" in api.client.app.state.timetable.store.ping()["database"]  # type: ignore[attr-defined]
