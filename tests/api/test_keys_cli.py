"""``timetable keys`` and ``timetable retention`` from the shell's point of view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from timetable_platform.cli import main
from timetable_platform.store import apikeys
from timetable_platform.store.db import make_engine, make_session_factory


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TIMETABLE_DATABASE_URL", url)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path))
    return url


def test_create_list_revoke(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--tenant", "school-a", "--label", "SIS"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("tt_") and len(key) > 40
    assert "not shown again" in out.err and "secret" in out.err

    assert main(["keys", "create", "--tenant", "school-a", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["callback_secret"] is None  # only a new tenant gets one

    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(k["tenant"], k["label"], k["revoked_at"]) for k in listed] == [
        ("school-a", "SIS", None),
        ("school-a", None, None),
    ]
    assert key not in json.dumps(listed)

    sessions = make_session_factory(make_engine(database))
    with sessions() as session:
        assert apikeys.authenticate(session, key) is not None
    assert main(["keys", "revoke", str(listed[0]["id"])]) == 0
    with sessions() as session:
        assert apikeys.authenticate(session, key) is None
        assert apikeys.authenticate(session, second["key"]) is not None
    assert main(["keys", "revoke", "999"]) == 1
    assert "no API key" in capsys.readouterr().err


def test_bad_tenant_and_missing_arguments_are_usage_errors(database: str) -> None:
    for argv in (["keys", "create", "--tenant", "../etc"], ["keys", "create"], ["keys", "revoke", "abc"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_retention_and_reconcile_commands(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--days", "30"]) == 0
    assert "erased 0 uploads older than 30 days" in capsys.readouterr().out
    assert main(["retention", "--days", "0"]) == 2
    assert main(["reconcile"]) == 0
    assert "re-enqueued 0" in capsys.readouterr().out
