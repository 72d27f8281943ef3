"""Completion callbacks through a transactional outbox.

``enqueue_completion_callback`` only writes a row (inside the caller's transaction), so finishing an
upload never waits on a client's server. ``deliver_due_callbacks`` POSTs due rows, signed with the
tenant's secret, and reschedules failures with exponential backoff until ``callback_max_attempts``.

Receivers verify ``X-Timetable-Signature: sha256=<hex>`` = HMAC-SHA256(secret, raw body); the body
carries ``sent_at`` and ``X-Timetable-Timestamp`` repeats it so receivers can reject stale replays.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.settings import get_settings
from timetable_platform.store.api_models import CallbackDelivery, Tenant
from timetable_platform.store.models import Upload

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Timetable-Signature"
TIMESTAMP_HEADER = "X-Timetable-Timestamp"
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0
BATCH_SIZE = 50


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def upload_status_body(upload: Upload, *, dagster_ui_url: str | None = None) -> dict[str, Any]:
    """The JSON view of an upload's status: the API's ``GET /uploads/{id}`` and the callback body."""
    run_url = None
    if dagster_ui_url and upload.dagster_run_id:
        run_url = f"{dagster_ui_url.rstrip('/')}/runs/{upload.dagster_run_id}"
    status = upload.status
    return {
        "upload_id": upload.id,
        "status": status.value if hasattr(status, "value") else str(status),
        "mode": upload.mode,
        "filename": upload.filename,
        "media_type": upload.media_type,
        "size_bytes": upload.size_bytes,
        "sha256": upload.sha256,
        "label": upload.label,
        "attempts": upload.attempts or 0,
        "error": upload.error,
        "created_at": _iso(upload.created_at),
        "updated_at": _iso(upload.updated_at),
        "started_at": _iso(upload.started_at),
        "finished_at": _iso(upload.finished_at),
        "timings": upload.durations or {},
        "backends": upload.backends or {},
        "warnings": upload.warnings or [],
        "review_reasons": upload.review_reasons or [],
        "confidence": {
            "entries": upload.entry_count,
            "mean": upload.confidence_mean,
            "min": upload.confidence_min,
        },
        "pages": upload.pages,
        "usage": {
            "input_tokens": upload.input_tokens,
            "output_tokens": upload.output_tokens,
            "cost_usd": upload.cost_usd,
        },
        "extractor_version": upload.extractor_version,
        "dagster_run_id": upload.dagster_run_id,
        "dagster_run_url": run_url,
    }


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header_value: str) -> bool:
    """For receivers (and tests): constant-time check of ``X-Timetable-Signature``."""
    return hmac.compare_digest(sign(secret, body), header_value)


def enqueue_completion_callback(session: Session, upload_id: str) -> None:
    """Add an outbox row for a finished upload that has a ``callback_url``; the caller commits."""
    upload = session.get(Upload, upload_id)
    if upload is None or not getattr(upload, "callback_url", None):
        return
    body = {"event": "upload.completed", **upload_status_body(upload)}
    session.add(
        CallbackDelivery(
            upload_id=upload.id,
            tenant=upload.tenant,
            url=upload.callback_url,
            body=json.dumps(body, separators=(",", ":"), sort_keys=True),
            next_attempt_at=datetime.now(UTC),
        )
    )
    session.flush()


def tenant_secret_from_db(session_factory: sessionmaker[Session]) -> Callable[[str], bytes | None]:
    def lookup(tenant: str) -> bytes | None:
        with session_factory() as session:
            row = session.get(Tenant, tenant)
            return bytes(row.callback_secret) if row is not None else None

    return lookup


def backoff_seconds(attempts: int) -> float:
    """Delay before the next try after ``attempts`` failures: 30 s, 60 s, 120 s, ... capped at an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _claim_due(session_factory: sessionmaker[Session], now: datetime, lease: timedelta) -> list[int]:
    """Take due rows and push their next attempt past the lease, so concurrent deliverers skip them."""
    with session_factory() as session, session.begin():
        rows = session.scalars(
            select(CallbackDelivery)
            .where(CallbackDelivery.state == "pending", CallbackDelivery.next_attempt_at <= now)
            .order_by(CallbackDelivery.next_attempt_at)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.next_attempt_at = now + lease
        return [row.id for row in rows]


class ForbiddenDestination(Exception):
    """The callback URL points into a private network (a request forgery risk); never retried."""


class UnresolvedDestination(Exception):
    """The callback host did not resolve: DNS may be down or lagging, so it is retried like any
    transient failure."""


def _refuse_non_public(host: str, addresses: list[str]) -> None:
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        if not address.is_global or address.is_multicast:
            raise ForbiddenDestination(f"{host} resolves to non-public address {address}")


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnresolvedDestination(f"cannot resolve {host}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def check_destination(url: str) -> None:
    """Refuse URLs whose host resolves to a loopback, private, link-local or reserved address, so a
    tenant cannot make the platform POST to internal services. Checked just before each delivery
    (a name that resolved to a public address at submit may point inside later: DNS rebinding);
    a host that does not resolve raises ``UnresolvedDestination``."""
    host = urlsplit(url).hostname
    if not host:
        raise ForbiddenDestination("callback URL has no host")
    try:  # an address literal (with an IPv6 zone id, escaped or not) is checked without DNS
        literal = str(ipaddress.ip_address(host.replace("%25", "%").split("%", 1)[0]))
    except ValueError:
        literal = None
    _refuse_non_public(host, [literal] if literal is not None else _resolve(host))


def check_destination_at_submit(url: str) -> None:
    """The submit-time check: ``ForbiddenDestination`` for an address literal or a name that resolves
    into a private network now. A name that does not resolve yet is accepted (delivery retries it)."""
    try:
        check_destination(url)
    except UnresolvedDestination:
        return


def _post(client: httpx.Client, row: CallbackDelivery, secret: bytes | None, now: datetime) -> str | None:
    """One delivery attempt; returns None on success, else a short reason."""
    body = json.loads(row.body)
    body["sent_at"] = _iso(now)
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "timetable-platform-callbacks",
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        "X-Timetable-Delivery": str(row.id),
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    try:
        response = client.post(row.url, content=raw, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def deliver_due_callbacks(
    session_factory: sessionmaker[Session],
    *,
    secret_for_tenant: Callable[[str], bytes | None] | None = None,
    http_client: httpx.Client | None = None,
    now: datetime | None = None,
    allow_private_networks: bool | None = None,
) -> int:
    """POST every due callback once; returns how many were delivered (2xx) in this call.

    A failure is retried after ``backoff_seconds(attempts)``; after ``callback_max_attempts`` the row
    is marked ``failed`` and kept for inspection. Never raises for a receiver's failure. A URL into
    a private network fails at once unless ``allow_private_networks`` (default: the setting
    ``callback_allow_private_networks``).
    """
    settings = get_settings()
    if allow_private_networks is None:
        allow_private_networks = settings.callback_allow_private_networks
    now = _aware(now or datetime.now(UTC))
    lease = timedelta(seconds=settings.callback_timeout_seconds * 3 + 30)
    secret_for_tenant = secret_for_tenant or tenant_secret_from_db(session_factory)
    ids = _claim_due(session_factory, now, lease)
    if not ids:
        return 0
    client = http_client or httpx.Client(timeout=settings.callback_timeout_seconds, follow_redirects=False)
    delivered = 0
    try:
        for row_id in ids:
            with session_factory() as session:
                row = session.get(CallbackDelivery, row_id)
                if row is None or row.state != "pending":
                    continue
                session.expunge(row)
            # The POST happens outside any transaction: a slow receiver holds no database locks.
            permanent = False
            try:
                if not allow_private_networks:
                    check_destination(row.url)
                error = _post(client, row, secret_for_tenant(row.tenant), now)
            except ForbiddenDestination as exc:
                error, permanent = f"refused: {exc}", True
            except UnresolvedDestination as exc:
                error = str(exc)[:500]
            with session_factory() as session, session.begin():
                row = session.get(CallbackDelivery, row_id)
                if row is None:  # the upload was erased meanwhile
                    continue
                row.attempts += 1
                if error is None:
                    row.state = "delivered"
                    row.delivered_at = now
                    row.last_error = None
                    delivered += 1
                    continue
                row.last_error = error
                if permanent or row.attempts >= settings.callback_max_attempts:
                    row.state = "failed"
                    log.warning(
                        "callback for upload %s gave up after %d attempts: %s",
                        row.upload_id,
                        row.attempts,
                        error,
                    )
                else:
                    row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
    finally:
        if http_client is None:
            client.close()
    return delivered
