"""Asset checks on ``merged_timetable``, evaluated per upload inside the asset's step.

Only output that cannot be used fails an upload: a timetable that breaks the schema, or one with
no entries (``ERROR`` checks, ``REJECTING_CHECKS``). Every other check is a doubt (``WARN``): the
timetable is stored and served, and the upload's status is ``needs_review`` with the reasons
written for a teacher (``domain.review``).

The checks are partitioned like the asset (``partitions_def`` on each spec), so every upload keeps
its own results in Dagster: a single-upload run reports them as ``AssetCheckResult`` (Dagster
stamps the run's partition), a ranged backfill run as one ``AssetCheckEvaluation`` per upload with
its partition. They run in the asset's own step rather than as separate steps, which keeps a
one-upload run to four steps.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

from timetable_platform.assets.partitions import UPLOADS_PARTITIONS
from timetable_platform.domain import review
from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.validate import EARLIEST, LATEST, schema_errors, semantic_issues

MIN_MEAN_CONFIDENCE = 0.7
LOW_CONFIDENCE = 0.6
MAX_LOW_CONFIDENCE_SHARE = 0.2

SCHEMA_VALID = "schema_valid"
HAS_ENTRIES = "has_entries"
START_BEFORE_END = "start_before_end"
TIMES_IN_SCHOOL_DAY = "times_in_school_day"
NO_OVERLAPS = "no_overlaps"
EVERY_DAY_READ = "every_day_read"
MEAN_CONFIDENCE = "mean_confidence"
LOW_CONFIDENCE_SHARE = "low_confidence_share"

# A failure of one of these rejects the timetable: nothing is stored and the upload fails.
REJECTING_CHECKS = (SCHEMA_VALID, HAS_ENTRIES)

DESCRIPTIONS = {
    SCHEMA_VALID: "The timetable validates against timetable.schema.json. Failing it fails the upload.",
    HAS_ENTRIES: "At least one entry was read. Failing it fails the upload.",
    START_BEFORE_END: "Every timed entry starts before it ends (warning: the upload needs review).",
    TIMES_IN_SCHOOL_DAY: f"Every time lies inside {EARLIEST}-{LATEST} (warning: the upload needs review).",
    NO_OVERLAPS: "No two entries overlap on one day, week and group (warning: the upload needs review).",
    EVERY_DAY_READ: "No day between two days with entries is empty (warning: the upload needs review).",
    MEAN_CONFIDENCE: f"Mean entry confidence is at least {MIN_MEAN_CONFIDENCE} (warning: the upload needs review).",
    LOW_CONFIDENCE_SHARE: (
        f"At most {MAX_LOW_CONFIDENCE_SHARE:.0%} of entries are under {LOW_CONFIDENCE} confidence "
        "(warning: the upload needs review)."
    ),
}


def check_specs(asset_key: str) -> list[dg.AssetCheckSpec]:
    """Partitioned, non-blocking specs: the asset enforces rejection itself (it does not store a
    rejected timetable), and a blocking ERROR would fail a whole backfill run for one document."""
    with warnings.catch_warnings():
        # Known and harmless: partitioned asset checks are a preview feature of Dagster 1.13.
        warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*partitions_def.*AssetCheckSpec")
        return [
            dg.AssetCheckSpec(name, asset=asset_key, description=text, partitions_def=UPLOADS_PARTITIONS)
            for name, text in DESCRIPTIONS.items()
        ]


@dataclass
class CheckOutcome:
    """One check on one timetable. ``problems`` are for engineers, ``reasons`` for a teacher."""

    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    value: float | None = None

    @property
    def rejects(self) -> bool:
        return not self.passed and self.name in REJECTING_CHECKS

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.ERROR if self.name in REJECTING_CHECKS else dg.AssetCheckSeverity.WARN


def evaluate(
    timetable: Timetable,
    *,
    printed_overlap: Callable[[Entry, Entry], bool | None] | None = None,
    why_empty: str | None = None,
) -> list[CheckOutcome]:
    """Every check on one timetable; ``why_empty`` is the extractor's reason when it read no entry."""
    outcomes: list[CheckOutcome] = []
    errors = schema_errors(timetable.to_json_dict())
    outcomes.append(
        CheckOutcome(
            SCHEMA_VALID,
            not errors,
            errors,
            ["The timetable read from the document does not have the expected form."] if errors else [],
        )
    )
    empty = not timetable.entries
    outcomes.append(
        CheckOutcome(
            HAS_ENTRIES,
            not empty,
            [why_empty or "no entries"] if empty else [],
            ["No lessons could be read from the document."] if empty else [],
            float(len(timetable.entries)),
        )
    )

    issues = semantic_issues(timetable, printed_overlap=printed_overlap)
    order = [i for i in issues if i.code in ("start_after_end", "bad_time", "zero_length")]
    outcomes.append(
        CheckOutcome(
            START_BEFORE_END, not order, [i.message for i in order], review.time_order_reasons(timetable, order)
        )
    )
    outside = [i for i in issues if i.code == "time_out_of_range"]
    outcomes.append(
        CheckOutcome(
            TIMES_IN_SCHOOL_DAY,
            not outside,
            [i.message for i in outside],
            review.time_range_reasons(timetable, outside),
        )
    )
    # Split groups print two lessons in one slot ("shared_slot"): that is how the document reads, not a doubt.
    overlaps = [i for i in issues if i.code == "overlap"]
    outcomes.append(
        CheckOutcome(
            NO_OVERLAPS,
            not overlaps,
            [f"{i.message}{' (printed)' if i.printed_in_document else ''}" for i in overlaps],
            review.overlap_reasons(timetable, overlaps),
            float(len(overlaps)),
        )
    )
    missing = review.empty_days(timetable)
    outcomes.append(
        CheckOutcome(
            EVERY_DAY_READ,
            not missing,
            [f"no entries on {day}" for day in missing],
            review.empty_day_reasons(missing),
            float(len(missing)),
        )
    )

    confidences = [e.confidence for e in timetable.entries if e.confidence is not None]
    mean = sum(confidences) / len(confidences) if confidences else None
    low_mean = mean is not None and mean < MIN_MEAN_CONFIDENCE
    outcomes.append(
        CheckOutcome(
            MEAN_CONFIDENCE,
            not low_mean,
            [f"mean confidence {mean:.2f}"] if low_mean and mean is not None else [],
            review.confidence_reasons(mean, None, low_threshold=LOW_CONFIDENCE) if low_mean else [],
            mean,
        )
    )
    share = sum(1 for c in confidences if c < LOW_CONFIDENCE) / len(confidences) if confidences else 0.0
    many_low = share > MAX_LOW_CONFIDENCE_SHARE
    outcomes.append(
        CheckOutcome(
            LOW_CONFIDENCE_SHARE,
            not many_low,
            [f"{share:.0%} of entries under {LOW_CONFIDENCE}"] if many_low else [],
            review.confidence_reasons(None, share, low_threshold=LOW_CONFIDENCE) if many_low else [],
            share,
        )
    )
    return outcomes


def rejection_reason(outcomes: list[CheckOutcome]) -> str | None:
    """Why a timetable must not be stored (a failed rejecting check), in plain words; or None."""
    failed = [o for o in outcomes if o.rejects]
    if not failed:
        return None
    parts = []
    for outcome in failed:
        detail = f" ({'; '.join(outcome.problems[:3])})" if outcome.problems else ""
        parts.append(f"{' '.join(outcome.reasons)}{detail} [check {outcome.name}]")
    return " ".join(parts)


def review_reasons(outcomes: list[CheckOutcome]) -> list[str]:
    """Why a stored timetable needs a person to look at it (empty: it does not)."""
    return [reason for o in outcomes if not o.passed and not o.rejects for reason in o.reasons]


def _metadata(outcome: CheckOutcome) -> dict[str, dg.RawMetadataValue]:
    metadata: dict[str, dg.RawMetadataValue] = {}
    if outcome.value is not None:
        metadata["value"] = float(outcome.value)
    if outcome.problems:
        metadata["problems"] = dg.MetadataValue.json(outcome.problems[:20])
    return metadata


def _description(outcome: CheckOutcome) -> str | None:
    if outcome.passed:
        return None
    return " ".join(outcome.reasons[:3]) or None


def check_results(outcomes: list[CheckOutcome]) -> list[dg.AssetCheckResult]:
    """The results of one upload in a single-upload run (Dagster adds the run's partition)."""
    return [
        dg.AssetCheckResult(
            check_name=o.name,
            passed=o.passed,
            severity=o.severity,
            description=_description(o),
            metadata=_metadata(o),
        )
        for o in outcomes
    ]


def check_evaluations(asset_key: str, upload_id: str, outcomes: list[CheckOutcome]) -> list[dg.AssetCheckEvaluation]:
    """The results of one upload with its partition named: for ranged runs and rejected uploads."""
    return [
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(asset_key),
            check_name=o.name,
            passed=o.passed,
            severity=o.severity,
            description=_description(o),
            metadata=_metadata(o),
            partition=upload_id,
        )
        for o in outcomes
    ]


def ranged_check_events(
    context: dg.AssetExecutionContext, asset_key: str, per_upload: dict[str, list[CheckOutcome]]
) -> Iterator[dg.Output[None] | dg.AssetCheckEvaluation]:
    """A ranged run's check events: one output per selected check (the step's contract) and one
    evaluation per selected check and upload, each on that upload's partition."""
    selected = {key.name for key in context.selected_asset_check_keys}
    for name in DESCRIPTIONS:
        if name in selected:
            key = dg.AssetCheckKey(dg.AssetKey(asset_key), name)
            yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(key))
    for upload_id, outcomes in per_upload.items():
        yield from (e for e in check_evaluations(asset_key, upload_id, outcomes) if e.check_name in selected)
