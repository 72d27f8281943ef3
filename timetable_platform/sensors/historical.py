"""``historical_upload_sensor``: documents dropped under ``historical/{tenant}/...`` become uploads, run as a backfill.

Idempotent by (tenant, sha256, mode): a document already registered is not registered again.
The blob is copied to the upload's own key before its row is committed, so a crash leaves at
most an unreferenced copy; an upload registered by a tick whose run requests were lost is still
``queued`` and is picked up again by the next tick. Only uploads this sensor registered (label
``historical:``) are picked up so: a queued upload submitted through the API has a queue message,
and ``upload_queue_sensor`` requests its run, so requesting one here too would run it twice.
"""

import hashlib
import json
import uuid

import dagster as dg

from timetable_platform.assets import upload_job
from timetable_platform.resources import StoreResource
from timetable_platform.sensors.backfill_requests import backfill_run_requests
from timetable_platform.store.retention import HISTORICAL_LABEL_PREFIX

MAX_DOCUMENTS_PER_TICK = 200
MAX_REMEMBERED_KEYS = 50_000
MAX_STRAY_KEYS = 1000  # objects outside the watched prefixes looked at per tick
LABEL_PREFIX = HISTORICAL_LABEL_PREFIX  # marks the uploads this sensor registered


def _read_cursor(cursor: str | None) -> tuple[set[str], set[str]]:
    """(keys registered or ignored, stray documents already reported); a plain list is the old cursor."""
    data = json.loads(cursor) if cursor else {}
    if isinstance(data, list):
        return set(data), set()
    return set(data.get("seen", [])), set(data.get("reported", []))


def stray_documents(keys: list[str]) -> list[str]:
    """The objects that look like documents (by name) among ``keys`` outside the watched prefixes."""
    from pathlib import PurePosixPath

    from timetable_platform.extraction.sniff import DOCUMENT_SUFFIXES

    return [k for k in keys if PurePosixPath(k).suffix.lower() in DOCUMENT_SUFFIXES]


def _tenant_and_name(key: str, prefix: str) -> tuple[str, str] | None:
    parts = key[len(prefix) :].split("/")
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        return None
    return parts[0], parts[-1]


@dg.sensor(
    name="historical_upload_sensor",
    job=upload_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers documents under historical/{tenant}/ as uploads and requests their runs as a backfill.",
)
def historical_upload_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    from timetable_platform.extraction.errors import ExtractionError
    from timetable_platform.extraction.sniff import sniff_media_type
    from timetable_platform.store import repository
    from timetable_platform.store.blobs import HISTORICAL_PREFIX, WATCHED_ROOTS, upload_key

    settings = store.settings()
    seen, reported = _read_cursor(context.cursor)
    listed = sorted(store.blobs.list(HISTORICAL_PREFIX))
    # Forget keys that are gone (an erased upload's source): the cursor holds no names it needs no more.
    seen &= set(listed)
    fresh = [k for k in listed if k not in seen][:MAX_DOCUMENTS_PER_TICK]
    # Documents put where no sensor looks (e.g. historical/ at the bucket root while TIMETABLE_S3_PREFIX
    # is set) are logged once each, instead of being ignored in silence.
    strays = stray_documents(store.blobs.keys_outside(WATCHED_ROOTS, MAX_STRAY_KEYS))
    watched = store.blobs.location(HISTORICAL_PREFIX)
    for where in strays:
        if where not in reported:
            context.log.warning(
                f"{where} looks like a document but lies outside every watched prefix: it is not read; "
                f"put historical documents under {watched}<tenant>/<file>"
            )
    reported = set(strays)
    to_run: list[str] = []
    for key in fresh:
        seen.add(key)
        parsed = _tenant_and_name(key, HISTORICAL_PREFIX)
        if parsed is None:
            context.log.warning(f"ignoring {key}: expected historical/<tenant>/<file>")
            continue
        tenant, filename = parsed
        content = store.blobs.get(key)
        digest = hashlib.sha256(content).hexdigest()
        try:
            media_type = sniff_media_type(content, filename)
        except ExtractionError as exc:
            context.log.warning(f"ignoring {key}: {exc.message}")
            continue
        with store.session() as session:
            existing = repository.find_upload_by_content(
                session, tenant=tenant, sha256=digest, mode=settings.mode
            )
            if existing is not None:
                # Re-request only what this sensor registered (its tick's requests were lost): any
                # other queued upload has a queue message, and upload_queue_sensor runs it.
                if (
                    str(existing.status) == "queued"
                    and not existing.dagster_run_id
                    and (existing.label or "").startswith(LABEL_PREFIX)
                ):
                    to_run.append(existing.id)
                continue
        upload_id = uuid.uuid4().hex
        store.blobs.put(upload_key(tenant, upload_id), content, content_type=media_type)
        with store.session() as session:
            repository.create_upload(
                session,
                tenant=tenant,
                filename=filename,
                media_type=media_type,
                size_bytes=len(content),
                sha256=digest,
                mode=settings.mode,
                label=f"{LABEL_PREFIX}{key}"[:255],
                upload_id=upload_id,
            )
        to_run.append(upload_id)
    requests = (
        backfill_run_requests(context.instance, to_run, reason="historical", run_key_prefix="historical")
        if to_run
        else []
    )
    if fresh:
        context.log.info(
            f"{len(fresh)} new historical documents: {len(to_run)} uploads in {len(requests)} runs"
        )
    remembered = sorted(seen)[-MAX_REMEMBERED_KEYS:]
    cursor = json.dumps({"seen": remembered, "reported": sorted(reported)})
    return dg.SensorResult(run_requests=requests, cursor=cursor)
