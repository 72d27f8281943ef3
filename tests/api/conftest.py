"""An API over a real store (SQLite file or a throwaway PostgreSQL database), and API keys for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from timetable_platform.api import create_app
from timetable_platform.domain.model import Entry, Owner, Timetable
from timetable_platform.settings import Settings
from timetable_platform.store import apikeys, repository
from timetable_platform.store.factory import Store, build_store

PREFIX = "/api/v2/timetable"
# Smallest bytes the sniffer accepts as a PDF; extraction never runs in API tests.
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Api:
    client: TestClient
    store: Store
    settings: Settings

    def new_key(self, tenant: str) -> dict[str, str]:
        with self.store.session_factory.begin() as session:
            key = apikeys.create_api_key(session, tenant).key
        return {"X-API-Key": key}

    def submit(
        self, headers: dict[str, str], content: bytes = PDF_BYTES, filename: str = "t.pdf", **form: Any
    ) -> Any:
        data = {k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}
        return self.client.post(
            f"{PREFIX}/uploads", headers=headers, files={"file": (filename, content)}, data=data
        )

    def finish(self, upload_id: str, timetable: Timetable | None = None) -> Timetable:
        """Do what the pipeline does when an upload succeeds."""
        timetable = timetable or sample_timetable()
        with self.store.session_factory.begin() as session:
            repository.mark_running(session, upload_id, run_id="run-1")
            repository.replace_entries(session, upload_id, timetable)
            repository.mark_succeeded(session, upload_id, run_id="run-1")
        return timetable


def sample_timetable() -> Timetable:
    return Timetable(
        title="Class 7A",
        owner=Owner(kind="class", name="7A"),
        entries=[
            Entry(
                day="MON",
                start="08:45",
                end="09:40",
                period="1",
                subject="Maths",
                teacher="Mr Okafor",
                room="R101",
                confidence=0.95,
            ),
            Entry(
                day="MON",
                start="09:40",
                end="10:35",
                period="2",
                subject="Physik",
                room="Lab 2",
                confidence=0.4,
            ),
            Entry(day="TUE", start="08:45", end="09:40", period="1", subject="History", confidence=0.9),
        ],
    )


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "api_key_cache_seconds": 0,
        "rate_limit_per_minute": 100_000,
        "redis_url": None,
        "log_json": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Build an API over SQLite (default) or a given database URL, with settings overrides."""
    stores: list[Store] = []
    clients: list[TestClient] = []

    def build(database_url: str | None = None, **overrides: Any) -> Api:
        url = database_url or f"sqlite:///{tmp_path / 'api.db'}"
        settings = make_settings(tmp_path, url, **overrides)
        store = build_store(settings, migrate=True)
        stores.append(store)
        client = TestClient(create_app(settings, store), raise_server_exceptions=False)
        clients.append(client)
        return Api(client=client, store=store, settings=settings)

    yield build
    for client in clients:
        client.close()
    for store in stores:
        store.dispose()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        return make_api(request.getfixturevalue("postgres_url"))
    return make_api()
