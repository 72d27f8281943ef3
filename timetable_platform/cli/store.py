"""``timetable migrate``, ``timetable submit PATH...``, ``timetable status [ID]``: the store from the shell.

Exit codes: 0 success, 1 a document or the store failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from timetable_platform.extraction.base import MODES
from timetable_platform.settings import Settings
from timetable_platform.store.errors import StoreError

DEFAULT_TENANT = "default"


def register(subparsers: argparse._SubParsersAction) -> None:
    migrate = subparsers.add_parser(
        "migrate", help="create or upgrade the database schema (alembic upgrade head)",
        description="Apply every database migration to TIMETABLE_DATABASE_URL (default: SQLite under TIMETABLE_DATA_DIR).",
    )
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(func=run_migrate)

    submit = subparsers.add_parser(
        "submit", help="queue documents for extraction (blob, then upload row, then queue message)",
        description="Store each document, register it as a queued upload and enqueue it for the pipeline.",
    )
    submit.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="documents to submit")
    submit.add_argument("--tenant", default=DEFAULT_TENANT, help=f"tenant (default: {DEFAULT_TENANT})")
    submit.add_argument("--mode", choices=MODES, default=None, help="extraction mode (default: TIMETABLE_MODE)")
    submit.add_argument("--label", default=None, help="free label stored with each upload")
    submit.add_argument("--force", action="store_true", help="submit again even if the same bytes were submitted")
    submit.add_argument("--json", action="store_true", help="print one JSON object per document")
    submit.set_defaults(func=run_submit)

    status = subparsers.add_parser(
        "status", help="show one upload, or the queue and the latest uploads",
        description="Without ID: upload counts by status, queue depth and the latest uploads. With ID: that upload.",
    )
    status.add_argument("upload_id", nargs="?", metavar="ID", help="upload id")
    status.add_argument("--limit", type=int, default=20, help="how many recent uploads to list (default: 20)")
    status.add_argument("--dead-letters", action="store_true", help="also list the queue's dead letters (up to --limit)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=run_status)


def _fail(message: str, code: int = 1) -> int:
    print(f"timetable: {message}", file=sys.stderr)
    return code


def run_migrate(args: argparse.Namespace) -> int:
    from timetable_platform.store import db

    settings = Settings()
    url = settings.resolved_database_url
    try:
        db.migrate(url, args.revision)
        revision = db.current_revision(url)
    except (SQLAlchemyError, StoreError) as exc:
        return _fail(f"migration failed: {exc}")
    except Exception as exc:  # alembic's CommandError for an unknown revision
        if exc.__class__.__name__ == "CommandError":
            return _fail(str(exc), 2)
        raise
    print(f"database at revision {revision} ({_safe_url(url)})")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_submit(args: argparse.Namespace) -> int:
    from timetable_platform.extraction.errors import ExtractionError
    from timetable_platform.extraction.sniff import sniff_media_type
    from timetable_platform.store.factory import build_store
    from timetable_platform.store.intake import submit_document

    settings = Settings()
    mode = args.mode or settings.mode
    try:
        store = build_store(settings, migrate=True)
    except (SQLAlchemyError, StoreError) as exc:
        return _fail(f"store unavailable: {exc}")
    failures = 0
    try:
        for path in args.paths:
            try:
                too_big = path.stat().st_size > settings.max_upload_bytes  # before reading it all into memory
                content = b"" if too_big else path.read_bytes()
            except OSError as exc:
                print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
                failures += 1
                continue
            if too_big or len(content) > settings.max_upload_bytes:
                print(f"{path}: too large (limit {settings.max_upload_bytes} bytes)", file=sys.stderr)
                failures += 1
                continue
            try:
                media_type = sniff_media_type(content, path.name)
                submission = submit_document(
                    store, content=content, filename=path.name, media_type=media_type,
                    tenant=args.tenant, mode=mode, label=args.label, force=args.force,
                )
            except ExtractionError as exc:
                print(f"{path}: {exc.message}", file=sys.stderr)
                failures += 1
                continue
            except (SQLAlchemyError, StoreError, OSError) as exc:
                print(f"{path}: not submitted: {exc}", file=sys.stderr)
                failures += 1
                continue
            upload = submission.upload
            if args.json:
                print(json.dumps({"path": str(path), "upload_id": upload.id, "created": submission.created,
                                  "status": upload.status.value}))
            else:
                note = "queued" if submission.created else f"already submitted ({upload.status.value}); --force to resubmit"
                print(f"{upload.id}  {path}  {note}")
    finally:
        store.dispose()
    return 1 if failures else 0


def _upload_dict(upload: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": upload.id, "tenant": upload.tenant, "filename": upload.filename, "media_type": upload.media_type,
        "size_bytes": upload.size_bytes, "sha256": upload.sha256, "mode": upload.mode, "label": upload.label,
        "status": upload.status.value, "error": upload.error, "attempts": upload.attempts,
        "created_at": iso(upload.created_at), "started_at": iso(upload.started_at),
        "finished_at": iso(upload.finished_at), "dagster_run_id": upload.dagster_run_id,
        "extractor_version": upload.extractor_version, "entry_count": upload.entry_count,
        "confidence_mean": upload.confidence_mean, "confidence_min": upload.confidence_min,
        "backends": upload.backends, "warnings": upload.warnings, "durations": upload.durations,
        "input_tokens": upload.input_tokens, "output_tokens": upload.output_tokens, "cost_usd": upload.cost_usd,
    }  # fmt: skip


def run_status(args: argparse.Namespace) -> int:
    from timetable_platform.store import repository
    from timetable_platform.store.factory import build_store

    if args.limit < 1:
        return _fail("--limit must be at least 1", 2)
    settings = Settings()
    try:
        store = build_store(settings, migrate=True)
    except (SQLAlchemyError, StoreError) as exc:
        return _fail(f"store unavailable: {exc}")
    try:
        with store.session_factory() as session:
            if args.upload_id:
                upload = repository.get_upload(session, args.upload_id)
                if upload is None:
                    return _fail(f"no upload {args.upload_id}")
                data = _upload_dict(upload)
                if args.json:
                    print(json.dumps(data, indent=2))
                else:
                    for key, value in data.items():
                        if value is not None:
                            print(f"{key:18} {value}")
                return 0
            counts = repository.status_counts(session)
            recent = [_upload_dict(u) for u in repository.recent_uploads(session, limit=args.limit)]
        depth = store.queue.depth()
        dead = [
            {"message_id": d.message_id, "reason": d.reason, "receive_count": d.receive_count, "body": d.body_text[:500],
             "dead_lettered_at": d.dead_lettered_at.isoformat() if d.dead_lettered_at else None}
            for d in (store.queue.dead_letters(args.limit) if args.dead_letters else [])
        ]  # fmt: skip
    except (SQLAlchemyError, StoreError) as exc:
        return _fail(f"store unavailable: {exc}")
    finally:
        store.dispose()
    if args.json:
        payload: dict[str, Any] = {"uploads": counts, "queue": depth, "recent": recent}
        if args.dead_letters:
            payload["dead_letters"] = dead
        print(json.dumps(payload, indent=2))
        return 0
    print("uploads: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("queue:   " + ", ".join(f"{k} {v}" for k, v in depth.items()))
    for item in recent:
        entries = "" if item["entry_count"] is None else f"{item['entry_count']} entries"
        print(f"{item['id']}  {item['created_at'][:19]}  {item['status']:12}  {item['tenant']:12}  {item['filename']}  {entries}")
    if args.dead_letters:
        print(f"dead letters ({len(dead)} shown):")
        for letter in dead:
            print(f"{letter['message_id']}  x{letter['receive_count']}  {letter['reason']}  {letter['body'][:80]!r}")
    return 0
