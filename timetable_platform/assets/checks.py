"""Asset checks on ``merged_timetable``, evaluated per upload inside the asset's step.

They run in the asset's own step (``check_specs``) rather than as separate steps: that is what
makes them per-upload in a ranged backfill run and keeps a one-upload run to four steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.validate import EARLIEST, LATEST, schema_errors, semantic_issues

MIN_MEAN_CONFIDENCE = 0.7
LOW_CONFIDENCE = 0.6
MAX_LOW_CONFIDENCE_SHARE = 0.2

SCHEMA_VALID = "schema_valid"
START_BEFORE_END = "start_before_end"
TIMES_IN_SCHOOL_DAY = "times_in_school_day"
NO_UNPRINTED_OVERLAPS = "no_unprinted_overlaps"
MEAN_CONFIDENCE = "mean_confidence"
LOW_CONFIDENCE_SHARE = "low_confidence_share"

BLOCKING_CHECKS = (SCHEMA_VALID, START_BEFORE_END, TIMES_IN_SCHOOL_DAY, NO_UNPRINTED_OVERLAPS)


def check_specs(asset_key: str) -> list[dg.AssetCheckSpec]:
    descriptions = {
        SCHEMA_VALID: "The timetable validates against timetable.schema.json.",
        START_BEFORE_END: "Every timed entry starts before it ends.",
        TIMES_IN_SCHOOL_DAY: f"Every time lies inside {EARLIEST}-{LATEST}.",
        NO_UNPRINTED_OVERLAPS: "No two entries overlap on one day, week and group unless the document prints them so.",
        MEAN_CONFIDENCE: f"Mean entry confidence is at least {MIN_MEAN_CONFIDENCE}.",
        LOW_CONFIDENCE_SHARE: f"At most {MAX_LOW_CONFIDENCE_SHARE:.0%} of entries are under {LOW_CONFIDENCE} confidence.",
    }
    return [
        dg.AssetCheckSpec(name, asset=asset_key, blocking=name in BLOCKING_CHECKS, description=text)
        for name, text in descriptions.items()
    ]


@dataclass
class CheckOutcome:
    """One check on one timetable: ``passed`` False with ``severity`` ERROR rejects the upload."""

    name: str
    passed: bool
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    problems: list[str] = field(default_factory=list)
    value: float | None = None

    @property
    def rejects(self) -> bool:
        return not self.passed and self.severity == dg.AssetCheckSeverity.ERROR


def evaluate(
    timetable: Timetable, *, printed_overlap: Callable[[Entry, Entry], bool | None] | None = None
) -> list[CheckOutcome]:
    """All six checks on one timetable."""
    outcomes: list[CheckOutcome] = []
    errors = schema_errors(timetable.to_json_dict())
    outcomes.append(CheckOutcome(SCHEMA_VALID, not errors, problems=errors))

    issues = semantic_issues(timetable, printed_overlap=printed_overlap)
    order = [i.message for i in issues if i.code in ("start_after_end", "bad_time")]
    zero = [i.message for i in issues if i.code == "zero_length"]
    if order:
        outcomes.append(CheckOutcome(START_BEFORE_END, False, problems=order + zero))
    else:
        # Start-only lists may print two items at one time: worth a warning, not a rejection.
        outcomes.append(CheckOutcome(START_BEFORE_END, not zero, dg.AssetCheckSeverity.WARN, zero))
    outside = [i.message for i in issues if i.code == "time_out_of_range"]
    outcomes.append(CheckOutcome(TIMES_IN_SCHOOL_DAY, not outside, problems=outside))

    unprinted = [i.message for i in issues if i.code == "overlap" and i.printed_in_document is not True]
    printed = [
        i.message
        for i in issues
        if (i.code == "overlap" and i.printed_in_document is True) or i.code == "shared_slot"
    ]
    if unprinted:
        outcomes.append(CheckOutcome(NO_UNPRINTED_OVERLAPS, False, problems=unprinted + printed))
    else:
        outcomes.append(CheckOutcome(NO_UNPRINTED_OVERLAPS, not printed, dg.AssetCheckSeverity.WARN, printed))

    confidences = [e.confidence for e in timetable.entries if e.confidence is not None]
    mean = sum(confidences) / len(confidences) if confidences else None
    outcomes.append(
        CheckOutcome(
            MEAN_CONFIDENCE,
            mean is None or mean >= MIN_MEAN_CONFIDENCE,
            dg.AssetCheckSeverity.WARN,
            [] if mean is None or mean >= MIN_MEAN_CONFIDENCE else [f"mean confidence {mean:.2f}"],
            mean,
        )
    )
    share = sum(1 for c in confidences if c < LOW_CONFIDENCE) / len(confidences) if confidences else 0.0
    outcomes.append(
        CheckOutcome(
            LOW_CONFIDENCE_SHARE,
            share <= MAX_LOW_CONFIDENCE_SHARE,
            dg.AssetCheckSeverity.WARN,
            [] if share <= MAX_LOW_CONFIDENCE_SHARE else [f"{share:.0%} of entries under {LOW_CONFIDENCE}"],
            share,
        )
    )
    return outcomes


def rejection_reason(outcomes: list[CheckOutcome]) -> str | None:
    """Why a timetable must not be stored (a failed blocking check), or None."""
    failed = [o for o in outcomes if o.rejects]
    if not failed:
        return None
    return "; ".join(f"check {o.name} failed: {', '.join(o.problems[:3]) or 'failed'}" for o in failed)


def check_results(per_upload: dict[str, list[CheckOutcome]]) -> list[dg.AssetCheckResult]:
    """One result per check for the run's uploads (one upload, or a backfill range)."""
    results: list[dg.AssetCheckResult] = []
    if not per_upload:
        return results
    names = [o.name for o in next(iter(per_upload.values()))]
    for name in names:
        outcomes = {uid: next(o for o in found if o.name == name) for uid, found in per_upload.items()}
        failing = {uid: o for uid, o in outcomes.items() if not o.passed}
        severity = (
            dg.AssetCheckSeverity.ERROR
            if any(o.severity == dg.AssetCheckSeverity.ERROR for o in failing.values())
            else dg.AssetCheckSeverity.WARN
        )
        metadata: dict[str, dg.RawMetadataValue] = {
            "uploads_checked": len(outcomes),
            "uploads_failing": len(failing),
        }
        if failing:
            metadata["problems"] = dg.MetadataValue.json(
                {uid: o.problems[:10] for uid, o in list(failing.items())[:20]}
            )
        values = [o.value for o in outcomes.values() if o.value is not None]
        if values:
            metadata["value"] = float(min(values) if name == MEAN_CONFIDENCE else max(values))
        results.append(
            dg.AssetCheckResult(check_name=name, passed=not failing, severity=severity, metadata=metadata)
        )
    return results
