"""``timetable corpus export|contribution``: reviewed timetables as an evaluation corpus.

Exit codes: 0 success, 1 the store failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from timetable_platform.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    corpus = subparsers.add_parser("corpus", help="reviewed timetables as evaluation cases (score.py)")
    sub = corpus.add_subparsers(dest="corpus_command", metavar="ACTION")
    export = sub.add_parser(
        "export",
        help="write NAME.ext + NAME.json pairs of every reviewed timetable (score.py --truth-dir DIR)",
    )
    export.add_argument("--out", required=True, type=Path, help="directory to write the cases into")
    export.add_argument("--tenant", help="only this tenant's cases")
    export.add_argument("--since", help="only timetables reviewed on or after this date (YYYY-MM-DD)")
    export.set_defaults(func=run_export)
    contribution = sub.add_parser(
        "contribution", help="whether a tenant's reviewed timetables become evaluation cases (default on)"
    )
    contribution.add_argument("--tenant", required=True)
    contribution.add_argument("state", choices=["on", "off", "show"], nargs="?", default="show")
    contribution.set_defaults(func=run_contribution)
    corpus.set_defaults(func=lambda _args: (corpus.print_help(sys.stderr), 2)[1])


def _fail(message: str, code: int = 1) -> int:
    print(f"timetable: {message}", file=sys.stderr)
    return code


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def run_export(args: argparse.Namespace) -> int:
    from timetable_platform.store.factory import build_store
    from timetable_platform.store.ground_truth import export_cases

    try:
        since = _since(args.since)
    except ValueError:
        return _fail(f"--since {args.since!r} is not a date (YYYY-MM-DD)", 2)
    if args.out.exists() and not args.out.is_dir():
        return _fail(f"--out {args.out} is not a directory", 2)
    store = build_store(Settings())
    try:
        cases, removed = export_cases(store, args.out, tenant=args.tenant, since=since)
    except (SQLAlchemyError, OSError) as exc:
        return _fail(f"export failed: {exc}")
    finally:
        store.dispose()
    for case in cases:
        print(f"{case.document.name}\t{case.truth.name}\treviewed {case.reviewed_at:%Y-%m-%d}" if case.reviewed_at else case.truth.name)
    for name in removed:
        print(f"removed {name} (its upload was erased, or its tenant stopped contributing)", file=sys.stderr)
    print(f"{len(cases)} cases in {args.out}", file=sys.stderr)
    return 0


def run_contribution(args: argparse.Namespace) -> int:
    from timetable_platform.store import review
    from timetable_platform.store.factory import build_store

    store = build_store(Settings())
    try:
        with store.session_factory.begin() as session:
            if args.state != "show":
                review.set_contribution(session, args.tenant, args.state == "on")
            on = review.contributes(session, args.tenant)
    except SQLAlchemyError as exc:
        return _fail(f"the store failed: {exc}")
    finally:
        store.dispose()
    print(f"tenant {args.tenant}: reviewed timetables {'are' if on else 'are not'} evaluation cases")
    return 0
