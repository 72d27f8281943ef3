"""The per-upload asset graph: raw_upload -> document_ai_extraction -> claude_extraction -> merged_timetable.

Partitioned by upload id (dynamic partitions ``uploads``). A live run covers one upload; a backfill
run covers a range of them, and each asset then records a failing document on that document only.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg

from timetable_platform.assets import checks, steps
from timetable_platform.assets.partitions import (
    CLAUDE_POOL,
    DOCUMENTAI_POOL,
    EXTRACTOR_VERSION,
    GROUP_NAME,
    MAX_PARTITIONS_PER_RUN,
    UPLOADS_PARTITIONS,
)
from timetable_platform.extraction.base import Interpreter
from timetable_platform.resources import InterpretationResource, LayoutExtractionResource, StoreResource

BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_PARTITIONS_PER_RUN)
MAX_BACKOFF_SECONDS = 120.0
PREVIEW_UPLOADS = 20  # per-upload figures shown in a ranged run's metadata


def for_each_upload(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    stage: str,
    work: Callable[[str], dict[str, Any]],
    *,
    retry_base_seconds: float = 2.0,
    max_retries: int = 4,
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Run ``work`` for every upload of the run; returns (figures by upload, errors by upload).

    An infrastructure error (a paid API's transient error, the database or blob store unreachable)
    asks Dagster to retry the step with exponential backoff, up to ``max_retries`` times; after that
    the upload fails with the infrastructure reason (dead-lettered: the failed-uploads backfill or a
    reprocess picks it up). A document error fails the upload at once with its reason. One upload:
    the run fails too. Several uploads (a backfill range): a failing upload is marked failed and
    skipped by later steps, the others carry on.
    """
    keys = list(context.partition_keys)
    isolate = len(keys) > 1
    done: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for upload_id in keys:
        if stage != "raw_upload" and steps.failed_in_run(store, upload_id, context.run_id):
            failed[upload_id] = "failed in an earlier step"
            continue
        try:
            done[upload_id] = work(upload_id)
        except Exception as exc:
            # On the last attempt a transient error fails the upload here, with its own message.
            infrastructure = steps.is_infrastructure_error(exc)
            if infrastructure and context.retry_number < max_retries:
                wait = min(MAX_BACKOFF_SECONDS, retry_base_seconds * 2**context.retry_number)
                context.log.warning(f"{stage} {upload_id}: infrastructure error, retry in {wait:.1f} s: {exc}")
                raise dg.RetryRequested(max_retries=max_retries, seconds_to_wait=wait) from exc
            message = f"{stage}: {steps.describe_error(exc)}"
            if infrastructure:
                message += f" (gave up after {context.retry_number + 1} attempts)"
            steps.mark_failed(store, upload_id, context.run_id, message)
            if not isolate:
                raise dg.Failure(
                    description=message, metadata={"upload_id": upload_id}, allow_retries=False
                ) from exc
            context.log.warning(f"upload {upload_id} failed: {message}")
            failed[upload_id] = message
    if isolate and not done:
        raise dg.Failure(
            description=f"{stage}: every upload of the run failed", metadata={"failed": len(failed)}
        )
    return done, failed


def _number(value: Any) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.null()


def _range_metadata(done: dict[str, dict[str, Any]], failed: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "uploads": len(done) + len(failed),
        "uploads_succeeded": len(done),
        "uploads_failed": len(failed),
    }
    if failed:
        metadata["failures"] = dg.MetadataValue.json(dict(list(failed.items())[:PREVIEW_UPLOADS]))
    if len(done) > 1:
        metadata["per_upload"] = dg.MetadataValue.json(dict(list(done.items())[:PREVIEW_UPLOADS]))
    return metadata


def _stage_metadata(figures: dict[str, Any]) -> dict[str, Any]:
    if "skipped" in figures:
        return {"skipped": True, "skip_reason": figures["skipped"]}
    return {
        "skipped": False,
        "backend": figures["backend"],
        "seconds": _number(figures["seconds"]),
        "entry_count": figures["entry_count"],
        "confidence_mean": _number(figures["confidence_mean"]),
        "confidence_min": _number(figures["confidence_min"]),
        "input_tokens": figures["input_tokens"],
        "output_tokens": figures["output_tokens"],
        "cost_usd": _number(figures["cost_usd"]),
        "warnings": dg.MetadataValue.json(figures["warnings"]),
    }


@dg.asset(
    partitions_def=UPLOADS_PARTITIONS,
    group_name=GROUP_NAME,
    kinds={"python", "file"},
    code_version=EXTRACTOR_VERSION,
    backfill_policy=BACKFILL_POLICY,
)
def raw_upload(
    context: dg.AssetExecutionContext, store: StoreResource, layout: LayoutExtractionResource
) -> dg.MaterializeResult:
    """The uploaded document as stored: checksum matches the row, type sniffed from the bytes, page count within limits."""
    limits = layout.limits()

    def work(upload_id: str) -> dict[str, Any]:
        steps.mark_running(store, upload_id, context.run_id)
        return steps.verify_raw_upload(store, upload_id, limits)

    done, failed = for_each_upload(context, store, "raw_upload", work)
    if len(done) == 1 and not failed:
        figures = next(iter(done.values()))
        return dg.MaterializeResult(
            metadata={
                **figures,
                "pages": figures["pages"] if figures["pages"] is not None else dg.MetadataValue.null(),
            }
        )
    return dg.MaterializeResult(metadata=_range_metadata(done, failed))


@dg.asset(
    partitions_def=UPLOADS_PARTITIONS,
    group_name=GROUP_NAME,
    kinds={"python", "ocr"},
    code_version=EXTRACTOR_VERSION,
    backfill_policy=BACKFILL_POLICY,
    deps=[raw_upload],
    pool=DOCUMENTAI_POOL,
)
def document_ai_extraction(
    context: dg.AssetExecutionContext, store: StoreResource, layout: LayoutExtractionResource
) -> dg.MaterializeResult:
    """Candidate A: the layout extractor ("Document AI" role) reads geometry, stored as results/{id}/document_ai.json."""
    extractor = layout.layout_extractor()
    limits = layout.limits()
    done, failed = for_each_upload(
        context,
        store,
        "document_ai_extraction",
        lambda upload_id: steps.run_layout_stage(store, upload_id, extractor, limits),
        retry_base_seconds=layout.retry_base_seconds,
        max_retries=layout.max_retries,
    )
    if len(done) == 1 and not failed:
        return dg.MaterializeResult(metadata=_stage_metadata(next(iter(done.values()))))
    return dg.MaterializeResult(metadata=_range_metadata(done, failed))


@dg.asset(
    partitions_def=UPLOADS_PARTITIONS,
    group_name=GROUP_NAME,
    kinds={"python", "llm"},
    code_version=EXTRACTOR_VERSION,
    backfill_policy=BACKFILL_POLICY,
    deps=[document_ai_extraction],
    pool=CLAUDE_POOL,
)
def claude_extraction(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    layout: LayoutExtractionResource,
    interpretation: InterpretationResource,
) -> dg.MaterializeResult:
    """Candidate B: an independent reading ("Claude" role); skipped in document_ai mode and, in fallback mode, above the confidence threshold."""
    limits = layout.limits()
    built: list[Interpreter] = []

    def make_interpreter() -> Interpreter:
        if not built:
            built.append(interpretation.interpreter())
        return built[0]

    def work(upload_id: str) -> dict[str, Any]:
        return steps.run_interpreter_stage(
            store, upload_id, make_interpreter, limits, fallback_threshold=interpretation.fallback_threshold
        )

    done, failed = for_each_upload(
        context,
        store,
        "claude_extraction",
        work,
        retry_base_seconds=interpretation.retry_base_seconds,
        max_retries=interpretation.max_retries,
    )
    if len(done) == 1 and not failed:
        return dg.MaterializeResult(metadata=_stage_metadata(next(iter(done.values()))))
    metadata = _range_metadata(done, failed)
    metadata["uploads_skipped"] = sum(1 for f in done.values() if "skipped" in f)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    partitions_def=UPLOADS_PARTITIONS,
    group_name=GROUP_NAME,
    kinds={"python", "json", "sql"},
    code_version=EXTRACTOR_VERSION,
    backfill_policy=BACKFILL_POLICY,
    deps=[claude_extraction],
    check_specs=checks.check_specs("merged_timetable"),
)
def merged_timetable(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """The reconciled timetable: results/{id}/timetable.json in the blob store and the upload's entries rows.

    Blocking checks run before anything is stored: a timetable failing one is not written and
    its upload is marked failed with the reason.
    """
    from timetable_platform.domain.exports import to_markdown_week

    outcomes: dict[str, list[checks.CheckOutcome]] = {}
    merged_by_id: dict[str, steps.MergedUpload] = {}

    def work(upload_id: str) -> dict[str, Any]:
        merged = steps.merge_upload(store, upload_id)
        found = checks.evaluate(merged.timetable, printed_overlap=steps.printed_overlap_judge(merged))
        outcomes[upload_id] = found
        reason = checks.rejection_reason(found)
        if reason is not None:
            raise steps.CheckRejected(reason)
        steps.store_merged(store, upload_id, context.run_id, merged)
        merged_by_id[upload_id] = merged
        return merged.summary

    done, failed = for_each_upload(context, store, "merged_timetable", work)
    stored_outcomes = {uid: outcomes[uid] for uid in done}
    results = checks.check_results(stored_outcomes)
    if len(done) == 1 and not failed:
        merged = next(iter(merged_by_id.values()))
        summary = merged.summary
        metadata: dict[str, Any] = {
            "entry_count": summary["entry_count"],
            "confidence_mean": _number(summary["confidence_mean"]),
            "confidence_min": _number(summary["confidence_min"]),
            "backends": dg.MetadataValue.json(summary["backends"]),
            "durations": dg.MetadataValue.json(summary["durations"]),
            "input_tokens": summary["input_tokens"],
            "output_tokens": summary["output_tokens"],
            "cost_usd": _number(summary["cost_usd"]),
            "warnings": dg.MetadataValue.json(summary["warnings"]),
            "preview": dg.MetadataValue.md(to_markdown_week(merged.timetable)),
        }
        return dg.MaterializeResult(metadata=metadata, check_results=results)
    metadata = _range_metadata(done, failed)
    metadata["entry_count"] = sum(s["entry_count"] for s in done.values())
    return dg.MaterializeResult(metadata=metadata, check_results=results)
