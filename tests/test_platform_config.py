"""``timetable up`` chooses the Dagster instance the operator configured and says what it runs on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from timetable_platform.cli import main
from timetable_platform.cli.platform import (
    ConfigurationError,
    configuration_summary,
    free_port,
    prepare_dagster_home,
)
from timetable_platform.settings import Settings

PG_ENV = {
    "DAGSTER_PG_HOST": "db.internal",
    "DAGSTER_PG_PORT": "5433",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "pg-secret",
    "DAGSTER_PG_DB": "dagster_prod",
}


def _settings(tmp_path: Path, **more: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **more)  # type: ignore[call-arg]


def test_default_copies_the_repo_dagster_yaml_and_reports_sqlite(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    instance = prepare_dagster_home(settings, 4266, environ={})
    assert instance.home == (tmp_path / "data" / "dagster_home").resolve()
    assert (instance.home / "dagster.yaml").read_text() == (ROOT / "dagster.yaml").read_text()
    assert "port: 4266" in instance.workspace.read_text()
    lines = configuration_summary(settings, instance, environ={})
    assert f"DAGSTER_HOME={instance.home}" in lines[0]
    assert f"storage: sqlite ({instance.home / 'storage'})" in lines[0]
    assert lines[1].strip() == f"database      sqlite:///{(tmp_path / 'data' / 'timetable.db').resolve()}"
    assert lines[2].strip() == f"blob store    local {(tmp_path / 'data' / 'blobs').resolve()}"
    assert lines[3].strip() == "queue         database (table queue_messages)"


def test_dagster_config_is_copied_and_its_postgres_storage_reported(tmp_path: Path) -> None:
    config = ROOT / "deploy" / "dagster-postgres.yaml"
    settings = _settings(
        tmp_path,
        database_url="postgresql+psycopg://app:app-secret@db.internal:5432/timetables",
        blob_backend="s3", s3_bucket="timetables", s3_prefix="prod", s3_endpoint_url="http://127.0.0.1:5000",
        queue_backend="sqs", sqs_queue_url="http://127.0.0.1:5000/123456789012/uploads",
    )  # fmt: skip
    instance = prepare_dagster_home(settings, 4266, config=config, environ=PG_ENV)
    assert (instance.home / "dagster.yaml").read_text() == config.read_text()
    text = "\n".join(configuration_summary(settings, instance, environ=PG_ENV))
    assert "storage: postgres dagster@db.internal:5433/dagster_prod" in text
    assert "postgresql+psycopg://app:***@db.internal:5432/timetables" in text
    assert "s3://timetables/prod (endpoint http://127.0.0.1:5000)" in text
    assert "sqs http://127.0.0.1:5000/123456789012/uploads" in text
    assert "secret" not in text


def test_an_exported_dagster_home_is_used_as_it_is(tmp_path: Path) -> None:
    home = tmp_path / "ops-dagster"
    home.mkdir()
    own = "storage:\n  postgres:\n    postgres_url: postgresql://ops:hunter2@pg.ops:5432/dagster\n"
    (home / "dagster.yaml").write_text(own)
    settings = _settings(tmp_path)
    instance = prepare_dagster_home(settings, 4266, environ={"DAGSTER_HOME": str(home)})
    assert instance.home == home.resolve()
    assert (home / "dagster.yaml").read_text() == own
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml"]  # nothing written into it
    assert not (tmp_path / "data" / "dagster_home").exists()
    summary = configuration_summary(settings, instance, environ={"DAGSTER_HOME": str(home)})[0]
    assert "exported DAGSTER_HOME" in summary
    assert "storage: postgres postgresql://ops:***@pg.ops:5432/dagster" in summary


def test_contradictory_or_incomplete_instance_configuration_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    config = ROOT / "deploy" / "dagster-postgres.yaml"
    with pytest.raises(ConfigurationError, match="use one of them"):
        prepare_dagster_home(settings, 1, config=config, environ={"DAGSTER_HOME": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="is not a directory"):
        prepare_dagster_home(settings, 1, environ={"DAGSTER_HOME": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigurationError, match="DAGSTER_PG_PASSWORD"):
        environ = {k: v for k, v in PG_ENV.items() if k != "DAGSTER_PG_PASSWORD"}
        prepare_dagster_home(settings, 1, config=config, environ=environ)


def test_up_exits_2_with_one_line_when_the_postgres_instance_lacks_its_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for name in PG_ENV:
        monkeypatch.delenv(name, raising=False)
    argv = ["up", "--api-port", str(free_port()), "--ui-port", str(free_port()), "--no-examples"]
    assert main([*argv, "--dagster-config", str(ROOT / "deploy" / "dagster-postgres.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "DAGSTER_PG_HOST" in err and ".env" in err
    assert not (tmp_path / "data" / "timetable.db").exists()  # refused before migrating anything


def test_every_up_option_is_in_the_readme_command_reference() -> None:
    from timetable_platform.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    row = next(
        line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `timetable up ")
    )
    for action in subparsers.choices["up"]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in row, option
