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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
