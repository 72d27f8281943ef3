"""API keys and tenants. A key is shown once; only its sha256 is stored (keys are 256-bit random,
so a fast hash is enough: there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from timetable_platform.store.api_models import ApiKey, Tenant

KEY_PREFIX = "tt_"
SHOWN_PREFIX_LENGTH = 10  # "tt_" + 7 characters: enough to tell keys apart in listings


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    id: int
    tenant: str
    key: str  # the plaintext, available only now
    prefix: str
    tenant_created: bool
    callback_secret: str | None  # hex, only when the tenant was created by this call


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and its tenant (no key id for a share link)."""

    api_key_id: int | None
    tenant: str


def ensure_tenant(session: Session, name: str) -> tuple[Tenant, bool]:
    tenant = session.get(Tenant, name)
    if tenant is not None:
        return tenant, False
    tenant = Tenant(name=name, callback_secret=secrets.token_bytes(32), created_at=datetime.now(UTC))
    session.add(tenant)
    session.flush()
    return tenant, True


def create_api_key(session: Session, tenant: str, label: str | None = None) -> NewKey:
    """Create a key (and the tenant on first use); the caller commits."""
    tenant_row, created = ensure_tenant(session, tenant)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(tenant=tenant, prefix=key[:SHOWN_PREFIX_LENGTH], key_hash=hash_key(key), label=label)
    session.add(row)
    session.flush()
    return NewKey(
        id=row.id,
        tenant=tenant,
        key=key,
        prefix=row.prefix,
        tenant_created=created,
        callback_secret=tenant_row.callback_secret.hex() if created else None,
    )


def list_api_keys(session: Session, tenant: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if tenant is not None:
        query = query.where(ApiKey.tenant == tenant)
    return list(session.scalars(query))


class RevocationListener(Protocol):
    """Something holding checked keys in memory (the API's key cache)."""

    def revoked(self, key_hash: str) -> None: ...


_listeners: weakref.WeakSet[Any] = weakref.WeakSet()


def on_revocation(listener: RevocationListener) -> None:
    """Tell ``listener`` about every key revoked in this process, once the revocation commits.
    Other processes notice through ``revocation_marker`` (polled)."""
    _listeners.add(listener)


def revoke_api_key(session: Session, key_id: int) -> bool:
    """Revoke a key; False when there is no such key. Revoking twice keeps the first time.

    Takes effect at once in this process (its key caches drop the key when the caller commits)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        key_hash = row.key_hash

        def forget(_session: Session) -> None:
            for listener in list(_listeners):
                listener.revoked(key_hash)

        event.listen(session, "after_commit", forget, once=True)
    return True


def revocation_marker(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever a key is revoked anywhere: (revoked keys, latest revocation). One cheap
    aggregate that API processes poll to drop cached keys within seconds of a revocation."""
    count, latest = session.execute(
        select(func.count(ApiKey.id), func.max(ApiKey.revoked_at)).where(ApiKey.revoked_at.is_not(None))
    ).one()
    return int(count), latest


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None when unknown or revoked."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(api_key_id=row.id, tenant=row.tenant)


def tenant_secret(session: Session, tenant: str) -> bytes | None:
    row = session.get(Tenant, tenant)
    return bytes(row.callback_secret) if row is not None else None


def rotate_callback_secret(session: Session, tenant: str) -> str:
    """A new callback-signing secret for the tenant (hex); the caller commits."""
    tenant_row, _ = ensure_tenant(session, tenant)
    tenant_row.callback_secret = secrets.token_bytes(32)
    return tenant_row.callback_secret.hex()
