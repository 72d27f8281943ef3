"""``timetable extract``: documents in, validated timetables out (any format of the export registry:
JSON, CSV, CSV for spreadsheets, iCalendar, FullCalendar events).

One file prints its timetable on stdout (or ``-o FILE``); several files or folders write one output per
input into ``--out-dir``, with a progress bar and a summary on stderr. A school-wide document (a page per
class, a sheet per teacher) prints schema version 2 as JSON, every owner's entries together in the other
formats; into ``--out-dir`` it writes one version 1 file per timetable, ``NAME.OWNER.EXT``. Exit 0 when every document
succeeded, 1 when any failed (the others are still written), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from timetable_platform.extraction.base import MODES, Interpreter, LayoutExtractor, Limits, Mode
from timetable_platform.extraction.errors import ExtractionError
from timetable_platform.extraction.sniff import DOCUMENT_SUFFIXES  # picked up when a folder is given

if TYPE_CHECKING:
    from rich.console import Console

    from timetable_platform.domain.exports import ExportOptions
    from timetable_platform.domain.model import Timetable
    from timetable_platform.settings import Settings


class _RegistryNames(Sequence[str]):
    """The export registry's format names (the API serves the same), read only when argparse needs them:
    importing the exports at start-up would slow down every ``timetable`` command."""

    def _names(self) -> list[str]:
        from timetable_platform.domain.exports import EXPORT_FORMATS

        return list(EXPORT_FORMATS)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


FORMATS = _RegistryNames()


class UsageError(Exception):
    """Bad arguments: exit code 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _zone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone: {text!r}") from None
    return text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract timetables from documents (PDF, images, DOCX, XLSX, CSV)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="documents or folders (searched recursively)"
    )
    parser.add_argument(
        "--mode", choices=MODES, help="extraction mode (default: TIMETABLE_MODE, else hybrid)"
    )
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the one timetable here, not stdout"
    )
    target.add_argument(
        "--out-dir", type=Path, metavar="DIR", help="one output per input, named after its stem"
    )
    parser.add_argument(
        "--max-pages", type=_positive_int, metavar="N", help="refuse documents with more pages"
    )
    parser.add_argument(
        "--max-bytes", type=_positive_int, metavar="N", help="refuse documents larger than this"
    )
    term = parser.add_argument_group(
        "term (ics, fullcalendar)",
        "Calendars repeat from the term start to its end, skip holidays and anchor Week A/B to the term "
        "start. Defaults: 1 September to 31 July of the current school year, no holidays.",
    )
    term.add_argument("--term-start", type=_iso_date, metavar="DATE", help="first day of term (YYYY-MM-DD)")
    term.add_argument(
        "--week-start", type=_iso_date, metavar="DATE", dest="week_start", help="same as --term-start"
    )
    term.add_argument("--term-end", type=_iso_date, metavar="DATE", help="last day of term (YYYY-MM-DD)")
    term.add_argument(
        "--holidays",
        type=Path,
        metavar="FILE",
        help="days without lessons: one YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD per line, # comments",
    )
    term.add_argument(
        "--first-week", metavar="LABEL", help="A/B timetables: the week label the term starts in (default: A)"
    )
    term.add_argument(
        "--bell-times",
        type=Path,
        metavar="FILE",
        help='JSON {"1": {"start": "08:50", "end": "09:40"}, "Break": {...}}: times for period-only documents',
    )
    term.add_argument(
        "--tz",
        type=_zone,
        default="Europe/London",
        help="time zone of the printed times (default: Europe/London)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings, no progress bar")
    parser.set_defaults(func=run)


# ----------------------------------------------------------------------------------------- inputs


@dataclass
class Job:
    source: Path
    output: Path | None  # None: stdout


def _collect(paths: list[Path], out_dir: Path | None) -> tuple[list[Path], bool]:
    """Expand folders; returns the documents and whether this is a batch (several, or from a folder)."""
    documents: list[Path] = []
    batch = len(paths) > 1
    skip_dir = out_dir.resolve() if out_dir else None
    for path in paths:
        if path.is_dir():
            batch = True
            for found in sorted(path.rglob("*")):
                if not found.is_file() or found.suffix.lower() not in DOCUMENT_SUFFIXES:
                    continue
                if any(part.startswith(".") for part in found.relative_to(path).parts):
                    continue
                if skip_dir and found.resolve().is_relative_to(skip_dir):
                    continue  # our own outputs from an earlier run
                documents.append(found)
        elif path.exists():
            documents.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return documents, batch


def _plan(args: argparse.Namespace) -> list[Job]:
    documents, batch = _collect(args.paths, args.out_dir)
    if not documents:
        raise UsageError("no supported documents found in " + ", ".join(str(p) for p in args.paths))
    if batch and args.out_dir is None:
        raise UsageError("several documents need --out-dir DIR (one output file per document)")
    if args.out_dir is None:
        return [Job(documents[0], args.output)]
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UsageError(f"--out-dir {args.out_dir}: exists and is not a folder")
    jobs: list[Job] = []
    taken: set[Path] = set()
    from timetable_platform.domain.exports import EXPORT_FORMATS

    extension = EXPORT_FORMATS[args.format].extension
    for document in documents:
        target = args.out_dir / f"{document.stem}.{extension}"
        if target in taken:  # same stem twice (week.pdf and week.docx): keep the source extension too
            target = args.out_dir / f"{document.name}.{extension}"
        n = 2
        while target in taken:
            target = args.out_dir / f"{document.stem}_{n}.{extension}"
            n += 1
        taken.add(target)
        jobs.append(Job(document, target))
    return jobs


# ----------------------------------------------------------------------------------------- work


@dataclass
class Outcome:
    job: Job
    entries: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    # A school-wide document: (owner token, rendered timetable) per timetable, for ``--out-dir``.
    parts: list[tuple[str, bytes]] = field(default_factory=list)


def _render(timetable: Timetable, fmt: str, options: ExportOptions) -> bytes:
    from timetable_platform.domain.exports import EXPORT_FORMATS

    return EXPORT_FORMATS[fmt].render(timetable, options)


def _export_options(args: argparse.Namespace) -> ExportOptions:
    """The term from the flags (usage errors for unreadable files or inconsistent dates)."""
    from pydantic import ValidationError

    from timetable_platform.domain.exports import ExportOptions
    from timetable_platform.domain.term import TermSettings, TermSettingsError, parse_holidays_file, resolve

    holidays = None
    if args.holidays is not None:
        try:
            holidays = parse_holidays_file(args.holidays.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"--holidays {args.holidays}: cannot read: {exc.strerror or exc}") from None
        except (TermSettingsError, UnicodeDecodeError) as exc:
            raise UsageError(f"--holidays {args.holidays}: {exc}") from None
    bells = None
    if args.bell_times is not None:
        try:
            bells = json.loads(args.bell_times.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"--bell-times {args.bell_times}: cannot read: {exc.strerror or exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"--bell-times {args.bell_times}: not JSON: {exc}") from None
    if args.term_start and args.week_start and args.term_start != args.week_start:
        raise UsageError("--week-start and --term-start disagree (they are the same setting)")
    try:
        settings = TermSettings(
            term_start=args.term_start or args.week_start,
            term_end=args.term_end,
            holidays=holidays,
            first_week=args.first_week,
            timezone=args.tz,
            bell_times=bells,
        )
        return ExportOptions(term=resolve(settings, date.today()))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "term"
        raise UsageError(f"{where}: {first.get('msg')}") from None
    except TermSettingsError as exc:
        raise UsageError(str(exc)) from None


@dataclass(frozen=True)
class Plan:
    """What every document of one run is extracted with (built once per run, not per document)."""

    mode: Mode
    limits: Limits
    layout_extractor: LayoutExtractor
    interpreter: Interpreter | None
    export_options: ExportOptions


def _stages(settings: Settings, mode: Mode) -> tuple[LayoutExtractor, Interpreter | None]:
    """The extraction stages TIMETABLE_LAYOUT_BACKEND / TIMETABLE_INTERPRETER_BACKEND choose."""
    from timetable_platform.extraction.backends import (
        interpreter_from_settings,
        layout_extractor_from_settings,
    )

    interpreter = None if mode == "document_ai" else interpreter_from_settings(settings)
    return layout_extractor_from_settings(settings), interpreter


def _process(job: Job, plan: Plan, args: argparse.Namespace) -> tuple[Outcome, bytes | None]:
    from timetable_platform.domain.validate import schema_errors, semantic_issues
    from timetable_platform.extraction.pipeline import extract, load_document

    outcome = Outcome(job)
    try:
        document = load_document(job.source, filename=job.source.name, limits=plan.limits)
        result = extract(
            document,
            mode=plan.mode,
            limits=plan.limits,
            layout_extractor=plan.layout_extractor,
            interpreter=plan.interpreter,
        )
        timetable = result.timetable
        for part in result.parts():
            problems = schema_errors(part.to_json_dict())
            if problems:
                shown = "; ".join(problems[:3]) + (
                    f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
                )
                outcome.error = f"the extracted timetable breaks the schema: {shown}"
                return outcome, None
        outcome.warnings.extend(timetable.warnings)
        outcome.entries = len(timetable.entries)
        if result.many:
            from timetable_platform.domain.school import owner_label, owner_slug

            for n, part in enumerate(result.timetables, start=1):
                label = owner_label(part.owner)
                outcome.warnings.extend(
                    f"{label}: {i.message}" for i in semantic_issues(part) if i.severity != "info"
                )
                token = owner_slug(part.owner, f"part{n}")
                outcome.parts.append((token, _render(part, args.format, plan.export_options)))
            if args.format == "json":
                text = json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
                return outcome, text.encode()
            return outcome, _render(timetable, args.format, plan.export_options)
        outcome.warnings.extend(i.message for i in semantic_issues(timetable) if i.severity != "info")
        return outcome, _render(timetable, args.format, plan.export_options)
    except ExtractionError as exc:
        outcome.error = exc.message
    except (MemoryError, RecursionError) as exc:
        outcome.error = f"unexpected error: {type(exc).__name__}"
    except Exception as exc:  # one bad document must not stop the batch, nor print a traceback
        text = str(exc).splitlines()[0] if str(exc) else ""
        outcome.error = f"unexpected error: {type(exc).__name__}" + (f": {text}" if text else "")
    return outcome, None


def _write_outputs(job: Job, outcome: Outcome, payload: bytes) -> None:
    """Into ``--out-dir``: one file per timetable of a school-wide document (``NAME.OWNER.EXT``), else one."""
    if not outcome.parts or job.output is None:
        _write(job, payload)
        return
    stem, _, extension = job.output.name.rpartition(".")
    taken: set[str] = set()
    for token, part in outcome.parts:
        name = token
        n = 2
        while name in taken:  # two owners with the same file-name token
            name = f"{token}_{n}"
            n += 1
        taken.add(name)
        _write(Job(job.source, job.output.with_name(f"{stem}.{name}.{extension}")), part)


def _write(job: Job, payload: bytes) -> None:
    if job.output is None:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
        return
    job.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.output.with_name(job.output.name + ".part")
    tmp.write_bytes(payload)
    tmp.replace(job.output)  # never leave a half-written output behind


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


class _OncePerMessage(logging.Filter):
    """A backend warning repeated for every document of a batch is shown once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


class _ConsoleLogHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        _say(self.console, f"{record.levelname.lower()}: {record.getMessage()}")


def _route_logs(console: Console, quiet: bool) -> None:
    """Library warnings go to stderr as one line each, through the same console as the progress bar."""
    root = logging.getLogger()
    if root.handlers:
        return  # the caller (a test, an embedding program) already decided
    handler = _ConsoleLogHandler(console)
    handler.setLevel(logging.ERROR if quiet else logging.WARNING)
    handler.addFilter(_OncePerMessage())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    _route_logs(console, args.quiet)
    try:
        jobs = _plan(args)
        plan = _plan_run(args)
    except UsageError as exc:
        _say(console, f"timetable extract: error: {exc}")
        return 2

    if len(jobs) == 1 and args.out_dir is None:
        outcome, payload = _process(jobs[0], plan, args)
        _report(console, outcome, args.quiet)
        if payload is None:
            return 1
        try:
            _write(outcome.job, payload)
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, as other command-line tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except OSError as exc:
            _say(console, f"{outcome.job.output}: cannot write: {exc.strerror or exc}")
            return 1
        return 0
    return _run_batch(console, jobs, plan, args)


def _plan_run(args: argparse.Namespace) -> Plan:
    from pydantic import ValidationError

    from timetable_platform.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UsageError(f"bad setting TIMETABLE_{where.upper()}: {first.get('msg')}") from None
    mode: Mode = args.mode or settings.mode
    limits = Limits(
        max_bytes=args.max_bytes or settings.max_upload_bytes,
        max_pages=args.max_pages or settings.max_pages,
        max_pixels=settings.max_pixels,
    )
    try:
        layout_extractor, interpreter = _stages(settings, mode)
    except (ValueError, ImportError) as exc:  # a backend named in settings that cannot be built here
        raise UsageError(f"cannot set up the extraction backends: {exc}") from None
    return Plan(mode, limits, layout_extractor, interpreter, _export_options(args))


def _report(console: Console, outcome: Outcome, quiet: bool) -> None:
    if outcome.error:
        _say(console, f"{outcome.job.source}: {outcome.error}")
    elif not quiet:
        for warning in outcome.warnings:
            _say(console, f"{outcome.job.source}: warning: {warning}")


def _run_batch(console: Console, jobs: list[Job], plan: Plan, args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    failed = 0
    entries = 0
    progress = Progress(
        TextColumn("extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=console,
        disable=args.quiet or not console.is_terminal,
    )
    with progress:
        task = progress.add_task("extract", total=len(jobs), current="")
        for job in jobs:
            progress.update(task, current=job.source.name)
            outcome, payload = _process(job, plan, args)
            if payload is not None:
                try:
                    _write_outputs(job, outcome, payload)
                except OSError as exc:
                    outcome.error = f"cannot write {job.output}: {exc.strerror or exc}"
            if outcome.error:
                failed += 1
            else:
                entries += outcome.entries
            _report(progress.console, outcome, args.quiet)
            progress.advance(task)
    seconds = time.perf_counter() - started
    succeeded = len(jobs) - failed
    _say(
        console,
        f"{len(jobs)} documents: {succeeded} succeeded, {failed} failed; {entries} entries "
        f"written to {args.out_dir} in {seconds:.1f} s",
    )
    return 1 if failed else 0
