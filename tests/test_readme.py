"""The README and .env.example stay honest: every setting is documented, every command is in the reference,
the quickstart is exactly the two make targets, and those targets exist."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from timetable_platform.cli import build_parser
from timetable_platform.settings import Settings

README = (ROOT / "README.md").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
SETTING_VARIABLES = [f"TIMETABLE_{name.upper()}" for name in Settings.model_fields]


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("variable", SETTING_VARIABLES)
def test_every_setting_is_in_the_configuration_table_and_env_example(variable: str) -> None:
    assert re.search(rf"^\| `{variable}` \|", _section("Configuration"), re.M), variable
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.M), variable


def test_configuration_table_lists_no_setting_that_does_not_exist() -> None:
    listed = re.findall(r"^\| `(TIMETABLE_[A-Z0-9_]+)` \|", _section("Configuration"), re.M)
    assert sorted(listed) == sorted(SETTING_VARIABLES)


def test_quickstart_is_exactly_two_commands_that_the_makefile_defines() -> None:
    block = re.search(r"```bash\n(.*?)```", _section("Quickstart"), re.S)
    assert block
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make up", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("up", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_subcommand_is_in_the_command_reference() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    reference = README.split("## Command reference", 1)[1]
    for command in subparsers.choices:
        assert f"timetable {command}" in reference, command


def test_operations_guide_quotes_measurements_as_bench_readme_states_them() -> None:
    """docs/operations.md must not drift from bench/README.md: a figure it marks *measured* is there too."""
    guide = (ROOT / "docs" / "operations.md").read_text()
    bench = (ROOT / "bench" / "README.md").read_text()
    quoted = re.findall(r"\*measured\*\s+(?:at\s+)?([0-9][0-9.,]*)", guide, re.IGNORECASE)
    assert quoted, "no *measured* figure found: the pattern no longer matches the guide"
    for figure in quoted:
        assert re.search(rf"(?<![0-9.]){re.escape(figure)}(?![0-9])", bench), f"{figure} is not in bench/README.md"
