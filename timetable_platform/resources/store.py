"""The store (database, blob store, queue) as one Dagster resource, built from settings in one place."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field
from sqlalchemy.orm import Session

from timetable_platform.settings import Settings

if TYPE_CHECKING:
    from timetable_platform.store.blobs import BlobStore
    from timetable_platform.store.factory import Store
    from timetable_platform.store.queue import UploadQueue

# One store (engine pool, boto3 clients) per configuration per process: sensors tick every few
# seconds and a ranged run touches many uploads; rebuilding engines each time would dominate.
_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()
# Reading the environment and .env costs ~50 ms; a ranged run asks hundreds of times.
_SETTINGS: dict[tuple[tuple[str, str], ...], Settings] = {}


class StoreResource(dg.ConfigurableResource):
    """Database, blob store and queue chosen by settings (``TIMETABLE_*``); ``overrides`` win over the environment.

    Backend choice lives in ``store.factory.build_store``; this resource only decides *which*
    settings to pass, so local and cloud deployments differ only in environment variables.
    """

    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Settings fields to override, e.g. {'database_url': 'postgresql+psycopg://...'}.",
    )

    def settings(self) -> Settings:
        key = tuple(sorted(self.overrides.items()))
        found = _SETTINGS.get(key)
        if found is None:
            found = _SETTINGS[key] = Settings(**self.overrides)  # type: ignore[arg-type]  # coerced by pydantic
        return found

    def store(self) -> Store:
        from timetable_platform.store.factory import build_store

        settings = self.settings()
        key = settings.model_dump_json()
        with _STORES_LOCK:
            built = _STORES.get(key)
            if built is None:
                built = build_store(settings, migrate=False)
                _STORES[key] = built
            return built

    @property
    def blobs(self) -> BlobStore:
        return self.store().blobs

    @property
    def queue(self) -> UploadQueue:
        return self.store().queue

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.store().session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def forget_cached_stores() -> None:
    """Dispose every cached engine and settings (tests that drop their databases call this first)."""
    with _STORES_LOCK:
        for built in _STORES.values():
            built.engine.dispose()
        _STORES.clear()
        _SETTINGS.clear()
