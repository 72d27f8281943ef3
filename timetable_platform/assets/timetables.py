"""The per-upload asset graph: raw_upload -> document_ai_extraction -> claude_extraction -> merged_timetable.

Partitioned by upload id (dynamic partitions ``uploads``). A live run covers one upload; a backfill
run covers a range of them, and each asset then records a failing document on that document only.
"""

import warnings
from collections.abc import Callable, Iterator
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
from timetable_platform.assets.school import register_tenant
from timetable_platform.domain.model import Timetable
from timetable_platform.extraction.base import Interpreter
from timetable_platform.extraction.errors import NoTimetableFound
from timetable_platform.resources import InterpretationResource, LayoutExtractionResource, StoreResource

# Known and harmless: Dagster 1.13 marks `backfill_policy` beta and warns at every definition load
# (four assets, in the code server and in every run process); the behaviour used here is settled.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message="Parameter `backfill_policy`")

BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_PARTITIONS_PER_RUN)
# The production service each stage's role is named after; an embedded backend stands in for it.
SERVICE_OF_STAGE = {"document_ai_extraction": ("documentai", "Google Document AI"), "claude_extraction": ("claude", "Anthropic Claude")}
MAX_BACKOFF_SECONDS = 120.0
PREVIEW_UPLOADS = 20  # per-upload figures shown in a ranged run's metadata
MERGED_TIMETABLE = "merged_timetable"


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
            shown = f"{stage}: {steps.describe_error(exc, for_dagster=True)}"  # no document text in Dagster
            if infrastructure:
                message += f" (gave up after {context.retry_number + 1} attempts)"
                shown += f" (gave up after {context.retry_number + 1} attempts)"
            steps.mark_failed(store, upload_id, context.run_id, message)
            if not isolate:
                raise dg.Failure(
                    description=shown, metadata={"upload_id": upload_id}, allow_retries=False
                ) from exc
            context.log.warning(f"upload {upload_id} failed: {shown}")
            failed[upload_id] = shown
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
        figures = {upload_id: _figures(f) for upload_id, f in list(done.items())[:PREVIEW_UPLOADS]}
        metadata["per_upload"] = dg.MetadataValue.json(figures)
    return metadata


# Kept out of Dagster's storage (its event log outlives an erased upload's rows and blobs; docs/security.md):
# anything read from the document or named by its user. Dagster gets figures, ids and backend names, and
# points to the store, where erasure and retention reach.
PERSONAL_FIELDS = ("filename",)


def _figures(figures: dict[str, Any]) -> dict[str, Any]:
    """An upload's figures for Dagster metadata: warnings counted (they may quote the document), names dropped."""
    out = {k: v for k, v in figures.items() if k not in PERSONAL_FIELDS and k != "warnings"}
    if "warnings" in figures:
        out["warning_count"] = len(figures["warnings"])
    return out


def backend_ran(stage: str, backend: str) -> str:
    """Which service really read the document: the production one, or the embedded stand-in for it."""
    prefix, service = SERVICE_OF_STAGE[stage]
    if backend.split(":", 1)[0] == prefix:
        return service
    return f"{backend} (embedded stand-in for {service})"


def _stage_metadata(stage: str, figures: dict[str, Any]) -> dict[str, Any]:
    if "skipped" in figures:
        return {"skipped": True, "skip_reason": figures["skipped"], "backend_ran": "none (skipped)"}
    return {
        "skipped": False,
        "backend": figures["backend"],
        "backend_ran": backend_ran(stage, figures["backend"]),
        "seconds": _number(figures["seconds"]),
        "entry_count": figures["entry_count"],
        "confidence_mean": _number(figures["confidence_mean"]),
        "confidence_min": _number(figures["confidence_min"]),
        "input_tokens": figures["input_tokens"],
        "output_tokens": figures["output_tokens"],
        "cost_usd": _number(figures["cost_usd"]),
        "warning_count": len(figures["warnings"]),
        **({"layout_reused": figures["layout_reused"]} if "layout_reused" in figures else {}),
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
        figures = _figures(next(iter(done.values())))
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
    """Candidate A, the layout reading, stored as results/{id}/document_ai.json.

    Google Document AI when `TIMETABLE_LAYOUT_BACKEND=documentai`; otherwise an embedded stand-in
    (pdfplumber for text PDFs, Tesseract OCR for images and scans, python-docx, openpyxl). The
    metadata `backend_ran` says which one read each upload.
    """
    extractor = layout.layout_extractor()
    limits = layout.limits()
    done, failed = for_each_upload(
        context,
        store,
        "document_ai_extraction",
        lambda upload_id: steps.run_layout_stage(store, upload_id, extractor, limits, reuse_layout=layout.reuse_layouts),
        retry_base_seconds=layout.retry_base_seconds,
        max_retries=layout.max_retries,
    )
    if len(done) == 1 and not failed:
        return dg.MaterializeResult(metadata=_stage_metadata("document_ai_extraction", next(iter(done.values()))))
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
    """Candidate B, an independent second reading, stored as results/{id}/claude.json.

    Anthropic Claude when `TIMETABLE_INTERPRETER_BACKEND=claude`; otherwise an embedded stand-in
    (a text-stream reader, independent of the layout reading). Skipped in document_ai mode and, in
    fallback mode, above the confidence threshold. The metadata `backend_ran` says which one ran.
    """
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
        return dg.MaterializeResult(metadata=_stage_metadata("claude_extraction", next(iter(done.values()))))
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
    check_specs=checks.check_specs(MERGED_TIMETABLE),
)
def merged_timetable(
    context: dg.AssetExecutionContext, store: StoreResource
) -> Iterator[dg.MaterializeResult | dg.Output[None] | dg.AssetCheckEvaluation]:
    """The reconciled timetable: results/{id}/timetable.json in the blob store and the upload's entries rows.

    The checks run before anything is stored. A timetable that cannot be used (schema-invalid, no
    entries) is not written and its upload fails with the reason, reported as that upload's failed
    check. A doubtful one is stored and its upload is ``needs_review``, the reasons in plain words.
    """
    from timetable_platform.store.blobs import result_key

    single = len(context.partition_keys) == 1
    outcomes: dict[str, list[checks.CheckOutcome]] = {}
    merged_by_id: dict[str, steps.MergedUpload] = {}

    def reject(
        upload_id: str, found: list[checks.CheckOutcome], reason: str, summary: str | None
    ) -> steps.CheckRejected:
        if single:  # the step fails next: its checks are reported first, with the reason
            for evaluation in checks.check_evaluations(MERGED_TIMETABLE, upload_id, found):
                context.log_event(evaluation)
        return steps.CheckRejected(reason, summary)

    def work(upload_id: str) -> dict[str, Any]:
        try:
            merged = steps.merge_upload(store, upload_id)
        except NoTimetableFound as exc:  # no entry read: the has_entries check fails with the reason
            outcomes[upload_id] = found = checks.evaluate(Timetable(), why_empty=exc.detail or exc.message)
            reason = checks.rejection_reason(found) or exc.message
            raise reject(upload_id, found, reason, checks.rejection_summary(found)) from exc
        found = checks.evaluate(merged.timetable, printed_overlap=steps.printed_overlap_judge(merged))
        outcomes[upload_id] = found
        reason = checks.rejection_reason(found)
        if reason is not None:
            raise reject(upload_id, found, reason, checks.rejection_summary(found))
        steps.store_merged(store, upload_id, context.run_id, merged, review_reasons=checks.review_reasons(found))
        merged_by_id[upload_id] = merged
        if merged.tenant is not None:
            register_tenant(context.instance, merged.tenant)  # its school-wide view can be built
        return {**merged.summary, "timetable_count": max(1, len(merged.timetables))}

    done, failed = for_each_upload(context, store, "merged_timetable", work)
    if single and not failed:
        upload_id = next(iter(done))
        merged = merged_by_id[upload_id]
        summary = merged.summary
        reasons = checks.review_reasons(outcomes[upload_id])
        metadata: dict[str, Any] = {
            "status": "needs_review" if reasons else "succeeded",
            # Counts and a pointer, not the text: reasons, warnings and the timetable itself quote the
            # document, and Dagster's storage must not keep it after an erasure (docs/security.md).
            "review_reason_count": len(reasons),
            "entry_count": summary["entry_count"],
            "confidence_mean": _number(summary["confidence_mean"]),
            "confidence_min": _number(summary["confidence_min"]),
            "backends": dg.MetadataValue.json(summary["backends"]),
            "durations": dg.MetadataValue.json(summary["durations"]),
            "input_tokens": summary["input_tokens"],
            "output_tokens": summary["output_tokens"],
            "cost_usd": _number(summary["cost_usd"]),
            "warning_count": len(summary["warnings"]),
            "timetable": dg.MetadataValue.text(
                f"{result_key(upload_id)} in the blob store; GET /api/v2/timetable/uploads/{upload_id}/timetable"
            ),
            "timetable_count": max(1, len(merged.timetables)),
            # Whose timetables these are: kinds and counts; a class's or room's name, never a person's.
            "owners": dg.MetadataValue.json(
                [
                    {**owner, "name": owner["name"] if owner["kind"] in ("class", "room") else None}
                    for owner in merged.owners()
                ]
            ),
        }
        yield dg.MaterializeResult(metadata=metadata, check_results=checks.check_results(outcomes[upload_id]))
        return
    metadata = _range_metadata(done, failed)
    metadata["entry_count"] = sum(s["entry_count"] for s in done.values())
    metadata["uploads_needing_review"] = sum(1 for uid in done if checks.review_reasons(outcomes[uid]))
    yield dg.MaterializeResult(metadata=metadata)
    # After the materialisation, so each evaluation is seen as checking it.
    yield from checks.ranged_check_events(context, MERGED_TIMETABLE, outcomes)
