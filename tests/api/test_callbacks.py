"""Completion callbacks: outbox rows, HMAC signatures, backoff and giving up, against a local receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.settings import get_settings
from timetable_platform.store import apikeys
from timetable_platform.store.api_models import CallbackDelivery, Tenant
from timetable_platform.store.callbacks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ForbiddenDestination,
    backoff_seconds,
    check_destination,
    deliver_due_callbacks,
    enqueue_completion_callback,
    verify_signature,
)
from timetable_platform.store.db import make_engine, make_session_factory, migrate
from timetable_platform.store.models import Upload, UploadStatus


class Receiver:
    """A local HTTP server that records callbacks and answers with the next scripted status."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'cb.db'}"
    migrate(url)
    return make_session_factory(make_engine(url))


def _finished_upload(session: Session, tenant: str, callback_url: str | None) -> str:
    upload = Upload(
        tenant=tenant,
        filename="t.pdf",
        media_type="application/pdf",
        size_bytes=3,
        sha256="0" * 64,
        mode="hybrid",
        callback_url=callback_url,
        status=UploadStatus.SUCCEEDED,
        entry_count=12,
        confidence_mean=0.9,
        finished_at=datetime.now(UTC),
    )
    session.add(upload)
    session.flush()
    return upload.id


def test_signed_callback_is_delivered_once(sessions: sessionmaker[Session], receiver: Receiver) -> None:
    with sessions.begin() as session:
        secret = bytes.fromhex(apikeys.create_api_key(session, "school-a").callback_secret or "")
        upload_id = _finished_upload(session, "school-a", receiver.url)
        enqueue_completion_callback(session, upload_id)

    assert deliver_due_callbacks(sessions, allow_private_networks=True) == 1
    assert (
        deliver_due_callbacks(sessions, allow_private_networks=True) == 0
    )  # delivered rows are not sent again
    ((headers, body),) = receiver.calls
    assert verify_signature(secret, body, headers[SIGNATURE_HEADER])
    assert not verify_signature(b"another tenant's secret", body, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["upload_id"] == upload_id
    assert payload["status"] == "succeeded"
    assert payload["confidence"]["entries"] == 12
    assert abs(int(headers[TIMESTAMP_HEADER]) - datetime.now(UTC).timestamp()) < 60


def test_no_row_without_callback_url(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        enqueue_completion_callback(session, _finished_upload(session, "school-a", None))
        enqueue_completion_callback(session, "no-such-upload")
    with sessions() as session:
        assert session.scalars(select(CallbackDelivery)).all() == []


def test_failures_back_off_then_give_up(sessions: sessionmaker[Session], receiver: Receiver) -> None:
    max_attempts = get_settings().callback_max_attempts
    receiver.statuses = [500] * max_attempts
    with sessions.begin() as session:
        enqueue_completion_callback(session, _finished_upload(session, "school-b", receiver.url))

    now = datetime.now(UTC)
    for attempt in range(1, max_attempts + 1):
        assert (
            deliver_due_callbacks(
                sessions, allow_private_networks=True, now=now, secret_for_tenant=lambda _t: b"s"
            )
            == 0
        )
        assert len(receiver.calls) == attempt
        # not due again before the backoff has passed
        assert (
            deliver_due_callbacks(
                sessions,
                allow_private_networks=True,
                now=now + timedelta(seconds=1),
                secret_for_tenant=lambda _t: b"s",
            )
            == 0
        )
        assert len(receiver.calls) == attempt
        now += timedelta(seconds=backoff_seconds(attempt) + 1)

    with sessions() as session:
        row = session.scalars(select(CallbackDelivery)).one()
    assert row.state == "failed"
    assert row.attempts == max_attempts
    assert row.last_error == "HTTP 500"
    assert deliver_due_callbacks(sessions, allow_private_networks=True, now=now + timedelta(days=1)) == 0
    assert len(receiver.calls) == max_attempts


def test_unreachable_receiver_is_retried_later(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        enqueue_completion_callback(
            session, _finished_upload(session, "school-c", "http://127.0.0.1:9/closed")
        )
    now = datetime.now(UTC)
    assert deliver_due_callbacks(sessions, allow_private_networks=True, now=now) == 0
    with sessions() as session:
        row = session.scalars(select(CallbackDelivery)).one()
    assert row.state == "pending"
    assert row.attempts == 1
    assert row.next_attempt_at >= now + timedelta(seconds=backoff_seconds(1))


def test_private_destinations_are_refused_without_retry(
    sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    with sessions.begin() as session:
        enqueue_completion_callback(session, _finished_upload(session, "school-d", receiver.url))
    assert deliver_due_callbacks(sessions) == 0  # the default: no private networks
    assert receiver.calls == []
    with sessions() as session:
        row = session.scalars(select(CallbackDelivery)).one()
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error is not None and "127.0.0.1" in row.last_error
    for url in ("http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://localhost/x"):
        with pytest.raises(ForbiddenDestination):
            check_destination(url)


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_seconds(n) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[1] == 2 * delays[0]
    assert max(delays) <= 3600


def test_upload_submitted_through_the_api_calls_back_when_finished(make_api: Any, receiver: Receiver) -> None:
    from tests.api.conftest import PDF_BYTES

    api = make_api(callback_allow_private_networks=True)  # the receiver listens on 127.0.0.1
    key = api.new_key("school-a")
    with api.store.session_factory() as session:
        secret = bytes(session.get(Tenant, "school-a").callback_secret)
    upload_id = api.submit(key, content=PDF_BYTES, callback_url=receiver.url).json()["upload_id"]
    api.finish(upload_id)
    with api.store.session_factory.begin() as session:  # what the pipeline does when the run ends
        enqueue_completion_callback(session, upload_id)
    assert deliver_due_callbacks(api.store.session_factory, allow_private_networks=True) == 1
    ((headers, body),) = receiver.calls
    assert verify_signature(secret, body, headers[SIGNATURE_HEADER])
    sent = json.loads(body)
    status = api.client.get(f"/api/v2/timetable/uploads/{upload_id}", headers=key).json()
    assert {k: sent[k] for k in ("upload_id", "status", "confidence")} == {
        k: status[k] for k in ("upload_id", "status", "confidence")
    }


def test_an_unresolvable_callback_host_is_retried_like_any_transient_failure(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        enqueue_completion_callback(session, _finished_upload(session, "school-e", "http://no-such-host.invalid/hook"))
    now = datetime.now(UTC)
    assert deliver_due_callbacks(sessions, now=now) == 0
    with sessions() as session:
        row = session.scalars(select(CallbackDelivery)).one()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None and "cannot resolve" in row.last_error
    assert row.next_attempt_at >= now + timedelta(seconds=backoff_seconds(1))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "http://[fe80::1%25eth0]/hook",
    ],
)
def test_private_callback_urls_are_refused_at_submit(make_api: Any, url: str) -> None:
    from tests.api.conftest import PDF_BYTES

    api = make_api()
    response = api.submit(api.new_key("school-a"), content=PDF_BYTES, callback_url=url)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "callback_url"


def test_public_and_not_yet_resolvable_callback_hosts_are_accepted_at_submit(make_api: Any) -> None:
    from tests.api.conftest import PDF_BYTES

    api = make_api()
    key = api.new_key("school-a")
    for n, url in enumerate(("https://93.184.215.14/hook", "https://hooks.not-yet-registered.invalid/x")):
        assert api.submit(key, content=PDF_BYTES + bytes([n]), callback_url=url).status_code == 202
