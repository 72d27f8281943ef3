"""Checks on an extracted timetable: the schema contract, then what a school day makes plausible.

Pure: used by the CLI before printing, and by Dagster asset checks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from jsonschema import Draft202012Validator

from timetable_platform.domain.model import Entry, Timetable, timetable_schema

Severity = Literal["error", "warning", "info"]

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
EARLIEST = "05:00"
LATEST = "23:00"


@dataclass(frozen=True)
class Issue:
    """One semantic problem; ``entries`` are indices into ``timetable.entries``."""

    code: str
    message: str
    entries: tuple[int, ...]
    severity: Severity = "warning"
    # For overlaps: True when the document itself printed the overlapping times (a real clash in the
    # source, not an extraction error); None when nobody could tell.
    printed_in_document: bool | None = None


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(timetable_schema())


def schema_errors(data: dict[str, Any]) -> list[str]:
    """Every way ``data`` breaks ``timetable.schema.json``, as ``path: message`` lines (empty when valid)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for err in errors:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _describe(entry: Entry) -> str:
    times = f"{entry.start or '?'}-{entry.end or '?'}"
    week = f" week {entry.week}" if entry.week else ""
    return f"{entry.day}{week} {times} {entry.subject!r}"


def semantic_issues(
    timetable: Timetable,
    *,
    printed_overlap: Callable[[Entry, Entry], bool | None] | None = None,
) -> list[Issue]:
    """Bad or implausible times and overlapping entries.

    ``printed_overlap(a, b)`` may tell whether the document itself printed both clashing times
    (the layout stage knows; the timetable alone does not); its answer fills ``printed_in_document``.
    """
    issues: list[Issue] = []
    timed: list[tuple[int, Entry]] = []
    for index, entry in enumerate(timetable.entries):
        bad = False
        for name in ("start", "end"):
            value = getattr(entry, name)
            if value is None:
                continue
            if not _HHMM.match(value):
                issues.append(
                    Issue("bad_time", f"{_describe(entry)}: {name} {value!r} is not HH:MM", (index,), "error")
                )
                bad = True
            elif not EARLIEST <= value <= LATEST:
                issues.append(
                    Issue(
                        "time_out_of_range",
                        f"{_describe(entry)}: {name} {value} is outside {EARLIEST}-{LATEST}",
                        (index,),
                    )
                )
        if bad:
            continue
        if entry.start and entry.end:
            if entry.start > entry.end:
                issues.append(
                    Issue("start_after_end", f"{_describe(entry)}: start is after end", (index,), "error")
                )
            elif entry.start == entry.end:
                # A start-only list can print two items at one time; the first then lasts no time.
                issues.append(Issue("zero_length", f"{_describe(entry)}: start equals end", (index,)))
            else:
                timed.append((index, entry))
    issues.extend(_overlaps(timed, printed_overlap))
    return issues


def _overlaps(
    timed: Iterable[tuple[int, Entry]], printed_overlap: Callable[[Entry, Entry], bool | None] | None
) -> list[Issue]:
    buckets: dict[tuple[str, str | None, str | None], list[tuple[int, Entry]]] = defaultdict(list)
    for index, entry in timed:
        buckets[(entry.day, entry.week, entry.group)].append((index, entry))
    issues: list[Issue] = []
    for members in buckets.values():
        members.sort(key=lambda item: (item[1].start, item[1].end))
        for pos, (i, a) in enumerate(members):
            for j, b in members[pos + 1 :]:
                assert a.end is not None and b.start is not None
                if b.start >= a.end:
                    break  # sorted by start: nothing later overlaps ``a``
                printed = printed_overlap(a, b) if printed_overlap else None
                if (a.start, a.end) == (b.start, b.end):
                    # Two lessons in one slot is how split groups print; worth knowing, not wrong.
                    issues.append(
                        Issue(
                            "shared_slot",
                            f"{_describe(a)} and {b.subject!r} share the same slot",
                            (i, j),
                            "info",
                            printed,
                        )
                    )
                else:
                    issues.append(
                        Issue(
                            "overlap", f"{_describe(a)} overlaps {_describe(b)}", (i, j), "warning", printed
                        )
                    )
    return issues
