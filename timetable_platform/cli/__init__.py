"""``timetable``: one entry point. Each area registers its subcommands from its own module.

Exit codes: 0 success, 1 a document or operation failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# Modules that define ``register(subparsers)``; each subcommand sets ``func`` (args -> exit code).
COMMAND_MODULES = (
    "timetable_platform.cli.extract",
    "timetable_platform.cli.store",
    "timetable_platform.cli.keys",
    "timetable_platform.cli.platform",
    "timetable_platform.cli.fakes",
    "timetable_platform.cli.corpus",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timetable", description="Timetable documents in, structured timetables out.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        register: Callable[[argparse._SubParsersAction], None] = module.register
        register(sub)
    return parser


AWS_CREDENTIALS_HINT = (
    "AWS credentials not found (the S3 blob store and the SQS queue need them): set AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, in the environment or .env (see .env.example)"
)
AWS_REGION_HINT = (
    "no AWS region: set TIMETABLE_S3_REGION / TIMETABLE_SQS_REGION or AWS_DEFAULT_REGION in the environment "
    "or .env (see .env.example)"
)


def main(argv: Sequence[str] | None = None) -> int:
    from timetable_platform.settings import load_env_file

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    load_env_file()  # every command sees .env's AWS_*, DAGSTER_HOME, DAGSTER_PG_* as exported variables
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = configuration_problem(exc)
        if message is None:
            raise
        print(f"timetable: {message}", file=sys.stderr)
        return 2


def configuration_problem(exc: BaseException) -> str | None:
    """One line saying what is missing and where to set it, for the configuration errors any command
    may meet deep inside a library; None for anything else (a bug keeps its traceback)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        first = exc.errors()[0]
        name = "TIMETABLE_" + "_".join(str(part) for part in first["loc"]).upper()
        return f"{name}: {first['msg']} (set it in the environment or .env; see .env.example)"
    try:
        from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AWS_CREDENTIALS_HINT
    if isinstance(exc, NoRegionError):
        return AWS_REGION_HINT
    return None


if __name__ == "__main__":
    sys.exit(main())
