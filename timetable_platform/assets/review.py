"""Teacher review in Dagster: ``reviewed_timetable`` (per upload, when a person marks it reviewed) and
``extraction_quality`` (daily and on demand: the extractor's own output scored against every
reviewed timetable with ``../shared/eval/score.py``, imported, not re-implemented).

Thin: the store gives the versions (``store.review``), ``domain.quality`` adds the scores up.
"""

import base64
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg

from timetable_platform.assets.partitions import UPLOADS_PARTITIONS
from timetable_platform.domain import exports, quality
from timetable_platform.resources import StoreResource

REVIEW_GROUP = "review"
REVIEWED_TIMETABLE = "reviewed_timetable"
QUALITY_CHECK = "newest_extractor_not_worse"
# The evaluation scorer of the shared corpus; TIMETABLE_SCORER_PATH points elsewhere (e.g. in an image).
DEFAULT_SCORER = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "score.py"


def load_scorer(path: Path | None = None) -> ModuleType:
    """``score.py`` as a module (as ``bench/accuracy.py`` loads it)."""
    path = path or DEFAULT_SCORER
    if not path.is_file():
        raise dg.Failure(description=f"the scorer {path} is missing; set TIMETABLE_SCORER_PATH")
    spec = importlib.util.spec_from_file_location("timetable_score", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(scorer: ModuleType, truth: dict[str, Any], pred: dict[str, Any]) -> dict[str, Any]:
    result = scorer.score_doc(truth, pred)
    return {k: v for k, v in result.items() if k != "misses"}


def reviewed_key(upload_id: str) -> str:
    from timetable_platform.store.blobs import result_prefix

    return f"{result_prefix(upload_id)}reviewed.json"


@dg.asset(
    name=REVIEWED_TIMETABLE,
    partitions_def=UPLOADS_PARTITIONS,
    group_name=REVIEW_GROUP,
    kinds={"python"},
    description=(
        "The timetable as a person corrected and marked it reviewed: an evaluation case for the extractor. "
        "Written to results/{upload_id}/reviewed.json (erased with the upload)."
    ),
)
def reviewed_timetable(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """The newest reviewed revision of the partition's upload, with how far the extraction was from it."""
    from timetable_platform.store import repository, review

    upload_id = context.partition_key
    with store.session() as session:
        upload = repository.get_upload(session, upload_id)
        version = review.reviewed_version(session, upload_id) if upload is not None else None
        if upload is None or version is None:
            return dg.MaterializeResult(metadata={"upload_id": upload_id, "reviewed": False})
        extracted = review.extracted_version(session, upload).timetable
        events = review.changes(session, upload_id)
        extractor_version, mode, media_type = upload.extractor_version, upload.mode, upload.media_type
    truth = version.timetable.to_json_dict()
    store.blobs.put(reviewed_key(upload_id), json.dumps(truth, ensure_ascii=False).encode())
    scorer = load_scorer(store.settings().scorer_path)
    score = _score(scorer, truth, extracted.to_json_dict())
    counts = {action: sum(1 for e in events if e.action == action) for action in review.EDIT_ACTIONS}
    return dg.MaterializeResult(
        metadata={
            "upload_id": upload_id,
            "reviewed": version.reviewed_at is not None,
            "revision": version.revision,
            "reviewed_at": version.reviewed_at.isoformat() if version.reviewed_at else "",
            "entries": len(version.timetable.entries),
            "entries_changed": counts["timetable.entry_updated"],
            "entries_added": counts["timetable.entry_added"],
            "entries_deleted": counts["timetable.entry_deleted"],
            "extractor_version": extractor_version or "",
            "mode": mode,
            "input_format": quality.input_format(media_type),
            "extraction_entry_f1": dg.MetadataValue.float(entry_f1(scorer, score)),
            "preview": dg.MetadataValue.md(exports.to_markdown_week(version.timetable)),
        }
    )


def entry_f1(scorer: ModuleType, score: dict[str, Any]) -> float:
    return float(scorer.f1(score["tp"], score["pred"], score["truth"])[2])


@dg.asset(
    group_name=REVIEW_GROUP,
    kinds={"python"},
    check_specs=[dg.AssetCheckSpec(QUALITY_CHECK, asset="extraction_quality", blocking=False)],
    description=(
        "The extractor's own output scored against every reviewed timetable (score.py): entry F1 and "
        "field accuracy per extractor version, input format and mode, and F1 over time."
    ),
)
def extraction_quality(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Score each reviewed upload's current extraction, store the scores, and summarise every score kept."""
    from timetable_platform.store import repository, review
    from timetable_platform.store.models import utcnow
    from timetable_platform.store.review_models import ExtractionScore

    scorer = load_scorer(store.settings().scorer_path)
    now = utcnow()
    scored_now = 0
    with store.session() as session:
        for case in review.reviewed_cases(session):
            upload = case.upload
            extracted = repository.get_timetable(session, upload.id)
            if extracted is None or not upload.extractor_version:
                continue
            score = _score(scorer, case.version.timetable.to_json_dict(), extracted.to_json_dict())
            session.add(
                ExtractionScore(
                    upload_id=upload.id, review_revision=case.version.revision,
                    extractor_version=upload.extractor_version, input_format=quality.input_format(upload.media_type),
                    mode=upload.mode, scored_at=now, truth=score["truth"], pred=score["pred"], tp=score["tp"],
                    entry_f1=entry_f1(scorer, score), score=score,
                )
            )
            scored_now += 1
        session.flush()
        from sqlalchemy import select

        rows = session.scalars(select(ExtractionScore).order_by(ExtractionScore.scored_at, ExtractionScore.id)).all()
        history = [
            quality.ScoredCase(r.upload_id, r.review_revision, r.extractor_version, r.input_format, r.mode,
                               r.scored_at, r.score)
            for r in rows
        ]
    latest = quality.latest_per_case(history)
    summarise = scorer.summarise
    by_version = quality.summarise_by(latest, summarise, lambda c: (c.extractor_version,))
    by_format = quality.summarise_by(latest, summarise, lambda c: (c.extractor_version, c.input_format))
    by_mode = quality.summarise_by(latest, summarise, lambda c: (c.extractor_version, c.mode))
    points = quality.f1_over_time(history, summarise)
    svg = quality.svg_plot(points)
    tables = "\n\n".join(
        [
            quality.markdown_table("By extractor version", by_version, ["extractor version"]),
            quality.markdown_table("By input format", by_format, ["extractor version", "format"]),
            quality.markdown_table("By mode", by_mode, ["extractor version", "mode"]),
        ]
    )
    plot_md = (
        f"![entry F1 over time](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})\n\n"
        + quality.points_table(points)
    )
    comparison = quality.compare_newest(history, summarise)
    newest = comparison.newest if comparison else None
    metadata: dict[str, Any] = {
        "cases_scored_now": scored_now,
        "extractor_versions": len(by_version),
        "entry_f1": dg.MetadataValue.float(float(by_version[(newest,)]["entry_f1"])) if newest else None,
        "newest_extractor_version": newest or "",
        "summary": dg.MetadataValue.md(tables if latest else "No reviewed timetables yet."),
        "f1_over_time": dg.MetadataValue.md(plot_md),
        "f1_over_time_vega_lite": dg.MetadataValue.json(quality.vega_lite_spec(points)),
        "by_version": dg.MetadataValue.json({k[0]: v for k, v in by_version.items()}),
    }
    return dg.MaterializeResult(
        metadata={k: v for k, v in metadata.items() if v is not None},
        check_results=[_check(comparison)],
    )


def _check(comparison: quality.Regression | None) -> dg.AssetCheckResult:
    if comparison is None or comparison.previous is None or not comparison.cases:
        return dg.AssetCheckResult(
            check_name=QUALITY_CHECK,
            passed=True,
            description="Nothing to compare: fewer than two extractor versions scored on the same reviewed cases.",
            metadata={"newest": comparison.newest if comparison else ""},
        )
    description = (
        f"{comparison.newest}: entry F1 {comparison.newest_f1:.3f} vs {comparison.previous} "
        f"{comparison.previous_f1:.3f} on {comparison.cases} reviewed cases"
    )
    return dg.AssetCheckResult(
        check_name=QUALITY_CHECK,
        passed=not comparison.worse,
        severity=dg.AssetCheckSeverity.WARN,
        description=("Worse than the previous version: " if comparison.worse else "") + description,
        metadata={
            "newest": comparison.newest,
            "previous": comparison.previous,
            "cases": comparison.cases,
            "newest_f1": float(comparison.newest_f1 or 0.0),
            "previous_f1": float(comparison.previous_f1 or 0.0),
        },
    )


reviewed_timetable_job = dg.define_asset_job(
    name="reviewed_timetable_job",
    selection=dg.AssetSelection.assets(reviewed_timetable),
    executor_def=dg.in_process_executor,
    description="Record one upload's reviewed timetable (launched by the review sensor).",
)

extraction_quality_job = dg.define_asset_job(
    name="extraction_quality_job",
    selection=dg.AssetSelection.assets(extraction_quality),
    executor_def=dg.in_process_executor,
    description="Score the extractor against every reviewed timetable.",
)

extraction_quality_daily = dg.ScheduleDefinition(
    name="extraction_quality_daily",
    job=extraction_quality_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day: score the extractor against every reviewed timetable.",
)

PARTITIONS_NAME = UPLOADS_PARTITIONS.name or "uploads"


@dg.sensor(
    name="review_events_sensor",
    job=reviewed_timetable_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Materialises reviewed_timetable for every upload marked reviewed (the audit log's timetable.reviewed events).",
)
def review_events_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    from sqlalchemy import select

    from timetable_platform.store import review
    from timetable_platform.store.models import Upload

    after = int(context.cursor) if context.cursor else 0
    with store.session() as session:
        events = review.review_events_after(session, after)
        existing = set(session.scalars(select(Upload.id).where(Upload.id.in_({u for _, u in events}))))
    cursor = str(events[-1][0] if events else after)
    events = [(event_id, upload_id) for event_id, upload_id in events if upload_id in existing]  # erased since
    new_partitions = sorted(
        {u for _, u in events if not context.instance.has_dynamic_partition(PARTITIONS_NAME, u)}
    )
    requests = [
        dg.RunRequest(run_key=f"review-{event_id}", partition_key=upload_id, tags={"timetable/review_event": str(event_id)})
        for event_id, upload_id in events
    ]
    return dg.SensorResult(
        run_requests=requests,
        cursor=cursor,
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_add_request(new_partitions)] if new_partitions else [],
    )


REVIEW_ASSETS = [reviewed_timetable, extraction_quality]
REVIEW_JOBS = [reviewed_timetable_job, extraction_quality_job]
REVIEW_SCHEDULES = [extraction_quality_daily]
REVIEW_SENSORS = [review_events_sensor]
