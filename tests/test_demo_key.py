"""``timetable up`` keeps one demo API key under data/ instead of minting one per start."""

from __future__ import annotations

import stat
from pathlib import Path

from timetable_platform.cli.platform import DEMO_KEY_LABEL, DEMO_TENANT, demo_key, demo_key_file
from timetable_platform.settings import Settings
from timetable_platform.store import apikeys
from timetable_platform.store.factory import build_store


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 't.db'}")  # type: ignore[call-arg]


def _active_demo_keys(settings: Settings) -> list[str]:
    store = build_store(settings, migrate=True)
    try:
        with store.session_factory() as session:
            return [k.prefix for k in apikeys.list_api_keys(session, tenant=DEMO_TENANT) if k.revoked_at is None]
    finally:
        store.dispose()


def test_every_start_prints_the_same_demo_key_and_leaves_one_active(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = build_store(settings, migrate=True)
    with store.session_factory.begin() as session:  # a key an older version minted on an earlier start
        apikeys.create_api_key(session, DEMO_TENANT, label=DEMO_KEY_LABEL)
    store.dispose()

    first = demo_key(settings)
    assert demo_key(settings) == first == demo_key(settings)
    assert demo_key_file(settings).read_text().strip() == first
    assert stat.S_IMODE(demo_key_file(settings).stat().st_mode) == 0o600
    [active] = _active_demo_keys(settings)  # the earlier start's key was revoked
    assert first.startswith(active)


def test_a_revoked_or_lost_demo_key_is_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = demo_key(settings)
    store = build_store(settings, migrate=True)
    with store.session_factory.begin() as session:
        key_id = next(k.id for k in apikeys.list_api_keys(session, tenant=DEMO_TENANT))
        apikeys.revoke_api_key(session, key_id)
    store.dispose()
    second = demo_key(settings)
    assert second != first and len(_active_demo_keys(settings)) == 1
    demo_key_file(settings).unlink()
    third = demo_key(settings)
    assert third != second and len(_active_demo_keys(settings)) == 1
