"""The upload queue: SQS with a dead-letter queue, or a database table with the same semantics.

Semantics (both backends):
- ``receive`` hides each returned message for the visibility timeout and counts the receive;
  a message not deleted in time becomes visible again (at-least-once delivery).
- A message that would be received more than ``max_receives`` times moves to the dead letters
  instead (SQS: the queue's RedrivePolicy ``maxReceiveCount``).
- ``dead_letter`` moves a message now (malformed bodies); ``dead_letters`` peeks at them.
- ``body`` is the parsed JSON object, or None when the body is not a JSON object.
"""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.store.db import SQLITE_BEGIN_OPTION
from timetable_platform.store.errors import BackendUnavailable, QueueError, ReceiptInvalid, StoreConfigError
from timetable_platform.store.models import QueueMessage, new_id, utcnow

MAX_RECEIVES_REASON = "received more than {n} times without being deleted"


def upload_message(upload_id: str, tenant: str) -> dict[str, Any]:
    """The body every producer (API, CLI, historical sensor) sends for an upload."""
    return {"upload_id": upload_id, "tenant": tenant}


def parse_body(body_text: str) -> dict[str, Any] | None:
    try:
        body = json.loads(body_text)
    except (ValueError, TypeError):
        return None
    return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt: str
    body_text: str
    body: dict[str, Any] | None  # None when the body is not a JSON object
    receive_count: int


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body_text: str
    reason: str | None
    receive_count: int
    dead_lettered_at: datetime | None


class UploadQueue(ABC):
    visibility_timeout: int
    max_receives: int

    @abstractmethod
    def send(self, body: dict[str, Any]) -> str:
        """Enqueue a JSON object; returns the message id."""

    @abstractmethod
    def send_raw(self, body_text: str) -> str:
        """Enqueue a body as is, JSON or not (tests and tools: how malformed messages arrive)."""

    @abstractmethod
    def receive(
        self, max_messages: int = 10, *, visibility_timeout: int | None = None, wait_seconds: float = 0
    ) -> list[ReceivedMessage]: ...

    @abstractmethod
    def delete(self, receipt: str) -> None:
        """Acknowledge a received message; no error when it is already gone."""

    @abstractmethod
    def change_visibility(self, receipt: str, seconds: int) -> None:
        """Hide an in-flight message for ``seconds`` more (0: release now). ``ReceiptInvalid`` when not in flight."""

    @abstractmethod
    def dead_letter(self, message: ReceivedMessage, reason: str) -> None:
        """Move a received message to the dead letters now (a malformed or poison message)."""

    @abstractmethod
    def dead_letters(self, limit: int = 10) -> list[DeadLetter]: ...

    @abstractmethod
    def depth(self) -> dict[str, int]:
        """``{"visible": n, "in_flight": n, "dead": n}`` (approximate on SQS)."""

    @abstractmethod
    def purge_upload(self, upload_id: str) -> int:
        """Remove the messages of one upload that are waiting (for DELETE); returns how many."""

    @abstractmethod
    def ping(self) -> None: ...


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _now(session: Session) -> datetime:
    """The database's clock on PostgreSQL (API and workers on different hosts agree), else this process's."""
    if _is_postgres(session):
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return value.astimezone(UTC)
    return utcnow()


def _check_receive_args(max_messages: int, visibility_timeout: int, wait_seconds: float) -> None:
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    if visibility_timeout < 0 or wait_seconds < 0:
        raise ValueError("timeouts cannot be negative")


def _body_upload_id(body: dict[str, Any]) -> str | None:
    upload_id = body.get("upload_id")
    # the column's size; bodies without a usable id are dead-lettered by the consumer
    return upload_id if isinstance(upload_id, str) and len(upload_id) <= 64 else None


_INSERT_MESSAGE = insert(QueueMessage.__table__)
# PostgreSQL: the INSERT reads the database clock itself (API and workers on different hosts agree).
_INSERT_MESSAGE_DB_CLOCK = insert(QueueMessage.__table__).values(
    created_at=func.clock_timestamp(), visible_at=func.clock_timestamp()
)


class DatabaseQueue(UploadQueue):
    """The queue as rows of ``queue_messages`` in the platform database.

    Claiming is atomic: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent consumers
    take different messages; on SQLite every transaction is ``BEGIN IMMEDIATE`` (see ``db.make_engine``)
    and the claim is a compare-and-set ``UPDATE ... WHERE receive_count = :seen``.
    Times come from the database clock on PostgreSQL (hosts may disagree), the process clock on SQLite
    (one host).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        name: str = "uploads",
        visibility_timeout: int = 300,
        max_receives: int = 5,
        poll_interval: float = 0.2,
    ) -> None:
        if max_receives < 1:
            raise StoreConfigError("max_receives must be at least 1")
        self.session_factory = session_factory
        self.name = name
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self.poll_interval = poll_interval

    def __repr__(self) -> str:
        return f"DatabaseQueue(name={self.name!r})"

    def send(self, body: dict[str, Any]) -> str:
        return self._insert(json.dumps(body, separators=(",", ":")), _body_upload_id(body))

    def uses(self, engine: Engine) -> bool:
        """True when this queue's table is in ``engine``'s database, so a message can share a transaction there."""
        return self.session_factory.kw.get("bind") is engine

    def send_within(self, connection: Connection, body: dict[str, Any]) -> str:
        """Enqueue in the caller's transaction (``uses`` its engine): the message commits, or not, with
        the rows written beside it. One Core INSERT, no ORM session."""
        message_id = new_id()
        values: dict[str, Any] = {
            "id": message_id, "queue": self.name, "body": json.dumps(body, separators=(",", ":")),
            "upload_id": _body_upload_id(body), "receive_count": 0,
        }  # fmt: skip
        if connection.dialect.name == "postgresql":
            connection.execute(_INSERT_MESSAGE_DB_CLOCK, values)
        else:
            now = utcnow()
            connection.execute(_INSERT_MESSAGE, {**values, "created_at": now, "visible_at": now})
        return message_id

    def send_many_within(self, connection: Connection, bodies: list[dict[str, Any]]) -> list[str]:
        """``send_within`` for many bodies in one executemany (the group commit's batch)."""
        if not bodies:
            return []
        values = self.message_values(bodies)
        if connection.dialect.name == "postgresql":
            connection.execute(_INSERT_MESSAGE_DB_CLOCK, values)
        else:
            now = utcnow()
            connection.execute(_INSERT_MESSAGE, [{**value, "created_at": now, "visible_at": now} for value in values])
        return [value["id"] for value in values]

    def message_values(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The column values (without the timestamps) of a new message per body."""
        return [
            {"id": new_id(), "queue": self.name, "body": json.dumps(body, separators=(",", ":")),
             "upload_id": _body_upload_id(body), "receive_count": 0}
            for body in bodies
        ]  # fmt: skip

    def send_raw(self, body_text: str) -> str:
        """Enqueue a body as is (tests and tools: malformed messages arrive this way on SQS too)."""
        return self._insert(body_text, None)

    def _insert(self, body_text: str, upload_id: str | None) -> str:
        message_id = new_id()
        with self.session_factory.begin() as session:
            # On PostgreSQL the INSERT reads the database clock itself: no extra round trip.
            now: Any = func.clock_timestamp() if _is_postgres(session) else utcnow()
            session.add(
                QueueMessage(
                    id=message_id, queue=self.name, body=body_text, upload_id=upload_id, created_at=now,
                    visible_at=now, receive_count=0,
                )
            )
        return message_id

    def receive(
        self, max_messages: int = 10, *, visibility_timeout: int | None = None, wait_seconds: float = 0
    ) -> list[ReceivedMessage]:
        timeout = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        _check_receive_args(max_messages, timeout, wait_seconds)
        deadline = time.monotonic() + wait_seconds
        while True:
            messages = self._claim(max_messages, timeout)
            if messages or time.monotonic() >= deadline:
                return messages
            # Long poll: peek with a plain read until a message is visible; claiming takes SQLite's
            # write lock, which every poll would otherwise take from the API and the run workers.
            while time.monotonic() < deadline:
                time.sleep(min(self.poll_interval, max(0.0, deadline - time.monotonic())))
                if self._any_visible():
                    break

    def _any_visible(self) -> bool:
        engine: Engine = self.session_factory.kw["bind"]
        with engine.connect() as connection:
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            postgres = connection.dialect.name == "postgresql"
            now: Any = func.clock_timestamp() if postgres else utcnow()
            found = connection.execute(
                select(QueueMessage.id)
                .where(
                    QueueMessage.queue == self.name,
                    QueueMessage.dead_lettered_at.is_(None),
                    QueueMessage.visible_at <= now,
                )
                .limit(1)
            ).first()
            return found is not None

    def _claim(self, max_messages: int, timeout: int) -> list[ReceivedMessage]:
        claimed: list[ReceivedMessage] = []
        with self.session_factory.begin() as session:
            now = _now(session)
            postgres = _is_postgres(session)
            # Look past the batch: some candidates may be dead-lettered instead of returned.
            stmt = (
                select(QueueMessage.id, QueueMessage.receive_count, QueueMessage.body)
                .where(
                    QueueMessage.queue == self.name,
                    QueueMessage.dead_lettered_at.is_(None),
                    QueueMessage.visible_at <= now,
                )
                .order_by(QueueMessage.visible_at, QueueMessage.created_at)
                .limit(max_messages * 2)
            )
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            for message_id, seen_count, body_text in session.execute(stmt).all():
                if len(claimed) >= max_messages:
                    break
                guard = (QueueMessage.id == message_id, QueueMessage.receive_count == seen_count)
                if seen_count >= self.max_receives:
                    session.execute(
                        update(QueueMessage)
                        .where(*guard)
                        .values(
                            dead_lettered_at=now,
                            dead_letter_reason=MAX_RECEIVES_REASON.format(n=self.max_receives),
                            receipt=None,
                        )
                    )
                    continue
                receipt = secrets.token_hex(16)
                result = session.execute(
                    update(QueueMessage)
                    .where(*guard)
                    .values(
                        receive_count=seen_count + 1,
                        receipt=receipt,
                        visible_at=now + timedelta(seconds=timeout),
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(
                        ReceivedMessage(
                            message_id=message_id,
                            receipt=receipt,
                            body_text=body_text,
                            body=parse_body(body_text),
                            receive_count=seen_count + 1,
                        )
                    )
        return claimed

    def _in_flight(self, session: Session, receipt: str) -> QueueMessage | None:
        message = session.scalars(
            select(QueueMessage).where(QueueMessage.receipt == receipt, QueueMessage.queue == self.name)
        ).first()
        if message is None or message.dead_lettered_at is not None:
            return None
        return message

    def delete(self, receipt: str) -> None:
        with self.session_factory.begin() as session:
            session.execute(
                delete(QueueMessage).where(
                    QueueMessage.receipt == receipt,
                    QueueMessage.queue == self.name,
                    QueueMessage.dead_lettered_at.is_(None),
                )
            )

    def change_visibility(self, receipt: str, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("seconds cannot be negative")
        with self.session_factory.begin() as session:
            # Like SQS, the latest receipt stays valid after the timeout expires, until the next receive.
            message = self._in_flight(session, receipt)
            if message is None:
                raise ReceiptInvalid("no message holds this receipt (deleted, dead-lettered or received again)")
            message.visible_at = _now(session) + timedelta(seconds=seconds)

    def dead_letter(self, message: ReceivedMessage, reason: str) -> None:
        with self.session_factory.begin() as session:
            row = self._in_flight(session, message.receipt)
            if row is None:
                raise ReceiptInvalid("message is not in flight under this receipt")
            row.dead_lettered_at = _now(session)
            row.dead_letter_reason = reason
            row.receipt = None

    def dead_letters(self, limit: int = 10) -> list[DeadLetter]:
        with self.session_factory() as session:
            rows = session.scalars(
                select(QueueMessage)
                .where(QueueMessage.queue == self.name, QueueMessage.dead_lettered_at.is_not(None))
                .order_by(QueueMessage.dead_lettered_at.desc(), QueueMessage.id)
                .limit(limit)
            ).all()
            return [
                DeadLetter(
                    message_id=row.id,
                    body_text=row.body,
                    reason=row.dead_letter_reason,
                    receive_count=row.receive_count,
                    dead_lettered_at=row.dead_lettered_at,
                )
                for row in rows
            ]

    def depth(self) -> dict[str, int]:
        with self.session_factory() as session:
            now = _now(session)
            base = select(func.count()).select_from(QueueMessage).where(QueueMessage.queue == self.name)
            alive = base.where(QueueMessage.dead_lettered_at.is_(None))
            return {
                "visible": session.scalar(alive.where(QueueMessage.visible_at <= now)) or 0,
                "in_flight": session.scalar(alive.where(QueueMessage.visible_at > now)) or 0,
                "dead": session.scalar(base.where(QueueMessage.dead_lettered_at.is_not(None))) or 0,
            }

    def purge_upload(self, upload_id: str) -> int:
        with self.session_factory.begin() as session:
            result = session.execute(
                delete(QueueMessage).where(
                    QueueMessage.queue == self.name,
                    QueueMessage.upload_id == upload_id,
                    QueueMessage.dead_lettered_at.is_(None),
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def redrive_dead_letters(self, limit: int = 100) -> int:
        """Put dead letters back on the queue with a fresh receive count (after fixing their cause)."""
        with self.session_factory.begin() as session:
            ids = session.scalars(
                select(QueueMessage.id)
                .where(QueueMessage.queue == self.name, QueueMessage.dead_lettered_at.is_not(None))
                .limit(limit)
            ).all()
            if not ids:
                return 0
            session.execute(
                update(QueueMessage)
                .where(QueueMessage.id.in_(ids))
                .values(dead_lettered_at=None, dead_letter_reason=None, receive_count=0, visible_at=_now(session))
            )
            return len(ids)

    def delete_dead_letters(self, *, older_than: datetime | None = None) -> int:
        """Forget dead letters (all, or those dead-lettered before ``older_than``); SQS's DLQ expires them itself."""
        with self.session_factory.begin() as session:
            stmt = delete(QueueMessage).where(
                QueueMessage.queue == self.name, QueueMessage.dead_lettered_at.is_not(None)
            )
            if older_than is not None:
                stmt = stmt.where(QueueMessage.dead_lettered_at < older_than)
            return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def ping(self) -> None:
        try:
            with self.session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise BackendUnavailable(f"queue database unreachable: {exc}") from exc


class SqsQueue(UploadQueue):
    """An SQS standard queue whose RedrivePolicy sends messages to ``dlq_url`` after ``max_receives``.

    ``max_receives`` here must match the queue's ``maxReceiveCount`` (``ensure_queues`` sets both);
    SQS itself does the counting and the move.
    """

    def __init__(
        self,
        queue_url: str | None,
        *,
        dlq_url: str | None = None,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        visibility_timeout: int = 300,
        max_receives: int = 5,
    ) -> None:
        self.queue_url = queue_url
        self._dlq_url = dlq_url
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "sqs",
                region_name=region,
                endpoint_url=endpoint_url,
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )
        self.client = client

    def __repr__(self) -> str:
        return f"SqsQueue({self.queue_url!r})"

    @property
    def url(self) -> str:
        if not self.queue_url:
            raise StoreConfigError("SQS queue URL is not set (TIMETABLE_SQS_QUEUE_URL, or call ensure_queues)")
        return self.queue_url

    @staticmethod
    def _error_code(exc: Exception) -> str:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def ensure_queues(self, name: str) -> tuple[str, str]:
        """Create ``name`` and ``name-dlq`` with the redrive policy (development and tests). Returns both URLs."""
        dlq_url = self.client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = self.client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.max_receives)})
        queue_url = self.client.create_queue(
            QueueName=name,
            Attributes={"VisibilityTimeout": str(self.visibility_timeout), "RedrivePolicy": redrive},
        )["QueueUrl"]
        self.queue_url, self._dlq_url = queue_url, dlq_url
        return queue_url, dlq_url

    @property
    def dlq_url(self) -> str:
        """The dead-letter queue: as configured, else found from the queue's RedrivePolicy."""
        if self._dlq_url is None:
            attributes = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["RedrivePolicy"]).get(
                "Attributes", {}
            )
            policy = attributes.get("RedrivePolicy")
            if not policy:
                raise StoreConfigError(f"SQS queue {self.url} has no RedrivePolicy and no DLQ URL is configured")
            arn = json.loads(policy)["deadLetterTargetArn"]
            account, dlq_name = arn.split(":")[4], arn.split(":")[5]
            self._dlq_url = self.client.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return self._dlq_url

    def send(self, body: dict[str, Any]) -> str:
        return self.send_raw(json.dumps(body, separators=(",", ":")))

    def send_raw(self, body_text: str) -> str:
        return str(self.client.send_message(QueueUrl=self.url, MessageBody=body_text)["MessageId"])

    def receive(
        self, max_messages: int = 10, *, visibility_timeout: int | None = None, wait_seconds: float = 0
    ) -> list[ReceivedMessage]:
        timeout = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        _check_receive_args(max_messages, timeout, wait_seconds)
        messages: list[ReceivedMessage] = []
        wait = min(int(wait_seconds), 20)  # whole seconds, at most 20 (the SQS limits)
        while len(messages) < max_messages:
            response = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, max_messages - len(messages)),
                VisibilityTimeout=timeout,
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            wait = 0  # only the first call long-polls
            for item in batch:
                body_text = item.get("Body", "")
                messages.append(
                    ReceivedMessage(
                        message_id=item["MessageId"],
                        receipt=item["ReceiptHandle"],
                        body_text=body_text,
                        body=parse_body(body_text),
                        receive_count=int(item.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                    )
                )
        return messages

    def delete(self, receipt: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
        except ClientError as exc:
            if self._error_code(exc) not in ("ReceiptHandleIsInvalid", "AWS.SimpleQueueService.NonExistentQueue"):
                raise

    def change_visibility(self, receipt: str, seconds: int) -> None:
        from botocore.exceptions import ClientError

        if seconds < 0:
            raise ValueError("seconds cannot be negative")
        try:
            self.client.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=seconds)
        except ClientError as exc:
            code = self._error_code(exc)
            if code in ("ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"):
                raise ReceiptInvalid(f"message is not in flight under this receipt ({code})") from exc
            raise

    def dead_letter(self, message: ReceivedMessage, reason: str) -> None:
        # Copy to the DLQ first, then delete: a crash in between duplicates, never loses.
        self.client.send_message(
            QueueUrl=self.dlq_url,
            MessageBody=message.body_text or " ",  # SQS refuses an empty body
            MessageAttributes={
                "dead_letter_reason": {"DataType": "String", "StringValue": reason[:1000] or "dead-lettered"},
                "original_message_id": {"DataType": "String", "StringValue": message.message_id},
                "receive_count": {"DataType": "Number", "StringValue": str(message.receive_count)},
            },
        )
        self.delete(message.receipt)

    def dead_letters(self, limit: int = 10) -> list[DeadLetter]:
        """A peek at the DLQ: messages are received with visibility 0 so they stay where they are."""
        seen: dict[str, DeadLetter] = {}
        for _ in range(max(1, (limit + 9) // 10) * 3):
            response = self.client.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=min(10, limit),
                VisibilityTimeout=0,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            for item in batch:
                attributes = item.get("MessageAttributes", {})
                reason = attributes.get("dead_letter_reason", {}).get("StringValue") or MAX_RECEIVES_REASON.format(
                    n=self.max_receives
                )
                original_id = attributes.get("original_message_id", {}).get("StringValue") or item["MessageId"]
                count = attributes.get("receive_count", {}).get("StringValue")
                seen.setdefault(
                    original_id,
                    DeadLetter(
                        message_id=original_id,
                        body_text=item.get("Body", ""),
                        reason=reason,
                        receive_count=int(count) if count else self.max_receives,
                        dead_lettered_at=None,
                    ),
                )
            if len(seen) >= limit:
                break
        return list(seen.values())[:limit]

    def _counts(self, url: str) -> tuple[int, int]:
        attributes = self.client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def depth(self) -> dict[str, int]:
        visible, in_flight = self._counts(self.url)
        try:
            dead_visible, dead_hidden = self._counts(self.dlq_url)
        except StoreConfigError:
            dead_visible = dead_hidden = 0
        return {"visible": visible, "in_flight": in_flight, "dead": dead_visible + dead_hidden}

    def purge_upload(self, upload_id: str, *, max_batches: int = 20) -> int:
        """Best effort: scan up to ``max_batches`` x 10 visible messages and delete this upload's.

        SQS cannot delete by content, so the scan receives messages. Releasing the others would
        count one receive towards their redrive limit per purge (enough DELETEs would dead-letter
        live uploads), so each of them is re-sent as a fresh copy and the original deleted once the
        scan ends (copy first: a crash duplicates, never loses; consumers are idempotent per upload).
        In-flight messages are not seen: consumers must still skip messages of deleted uploads.
        """
        removed = 0
        held: list[ReceivedMessage] = []  # stay hidden until the scan ends, so each is seen once
        try:
            for _ in range(max_batches):
                batch = self.receive(10, visibility_timeout=60)
                if not batch:
                    break
                for message in batch:
                    if message.body is not None and message.body.get("upload_id") == upload_id:
                        self.delete(message.receipt)
                        removed += 1
                    else:
                        held.append(message)
        finally:
            for message in held:
                self.send_raw(message.body_text)
                self.delete(message.receipt)
        return removed

    def ping(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        except (ClientError, BotoCoreError) as exc:
            raise BackendUnavailable(f"SQS queue {self.queue_url} unreachable: {exc}") from exc


__all__ = [
    "DatabaseQueue",
    "DeadLetter",
    "QueueError",
    "ReceiptInvalid",
    "ReceivedMessage",
    "SqsQueue",
    "UploadQueue",
    "parse_body",
    "upload_message",
]
