"""``timetable keys create|list|revoke|secret``, ``timetable retention`` and ``timetable reconcile``.

Exit codes: 0 success, 1 the operation failed (unknown key, store unavailable), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from timetable_platform.settings import Settings
from timetable_platform.store.errors import StoreError

if TYPE_CHECKING:
    from timetable_platform.store.factory import Store

# A tenant name is also a blob key segment and a log field: keep it plain.
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _tenant(value: str) -> str:
    if not TENANT_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            "tenant names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="API keys for the HTTP API; a new key is printed once and stored hashed.",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = keys_sub.add_parser("create", help="create a key (and the tenant on first use); prints it once")
    create.add_argument("--tenant", required=True, type=_tenant, help="tenant the key acts for")
    create.add_argument("--label", default=None, help="a note shown in listings (who holds the key)")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(func=run_create)

    listing = keys_sub.add_parser("list", help="list keys (prefix, tenant, created, revoked); never the keys")
    listing.add_argument("--tenant", type=_tenant, default=None, help="only this tenant's keys")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)

    revoke = keys_sub.add_parser(
        "revoke", help="revoke a key by id (takes effect within TIMETABLE_API_KEY_CACHE_SECONDS)"
    )
    revoke.add_argument("key_id", type=int, metavar="ID", help="key id from `timetable keys list`")
    revoke.set_defaults(func=run_revoke)

    secret = keys_sub.add_parser(
        "secret", help="print a new secret signing the tenant's completion callbacks"
    )
    secret.add_argument("--tenant", required=True, type=_tenant)
    secret.set_defaults(func=run_rotate_secret)

    retention = subparsers.add_parser(
        "retention",
        help="erase uploads older than the retention period (blobs, rows, messages)",
        description="Erase every upload created more than --days ago (default TIMETABLE_RETENTION_DAYS).",
    )
    retention.add_argument("--days", type=int, default=None, help="retention in days (default: settings)")
    retention.set_defaults(func=run_retention)

    reconcile = subparsers.add_parser(
        "reconcile",
        help="re-enqueue uploads left queued without a queue message",
        description="Re-send the queue message of uploads still queued and untouched for --minutes.",
    )
    reconcile.add_argument("--minutes", type=float, default=10.0, help="age before an upload counts as stuck")
    reconcile.set_defaults(func=run_reconcile)


def _with_store(action: Callable[[Store], int]) -> int:
    from timetable_platform.store.factory import build_store

    try:
        store = build_store(Settings(), migrate=True)
    except (SQLAlchemyError, StoreError) as exc:
        print(f"timetable: store unavailable: {exc}", file=sys.stderr)
        return 1
    try:
        return action(store)
    except (SQLAlchemyError, StoreError) as exc:
        print(f"timetable: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()


def run_create(args: argparse.Namespace) -> int:
    from timetable_platform.store import apikeys

    def create(store: Store) -> int:
        with store.session_factory.begin() as session:
            new = apikeys.create_api_key(session, args.tenant, label=args.label)
        if args.json:
            print(
                json.dumps(
                    {
                        "id": new.id,
                        "tenant": new.tenant,
                        "key": new.key,
                        "prefix": new.prefix,
                        "callback_secret": new.callback_secret,
                    }
                )
            )
            return 0
        print(new.key)
        print(f"key {new.id} for tenant {new.tenant!r}: store it now, it is not shown again", file=sys.stderr)
        if new.callback_secret:
            print(
                f"new tenant; callbacks are signed (HMAC-SHA256) with secret {new.callback_secret}",
                file=sys.stderr,
            )
        return 0

    return _with_store(create)


def run_list(args: argparse.Namespace) -> int:
    from timetable_platform.store import apikeys

    def listing(store: Store) -> int:
        with store.session_factory() as session:
            rows = apikeys.list_api_keys(session, args.tenant)
        items = [
            {
                "id": r.id,
                "tenant": r.tenant,
                "prefix": r.prefix,
                "label": r.label,
                "created_at": r.created_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in rows
        ]
        if args.json:
            print(json.dumps(items))
            return 0
        for item in items:
            state = f"revoked {item['revoked_at']}" if item["revoked_at"] else "active"
            print(
                f"{item['id']:>5}  {item['prefix']}…  {item['tenant']:<20}  {state:<40}  {item['label'] or ''}"
            )
        return 0

    return _with_store(listing)


def run_revoke(args: argparse.Namespace) -> int:
    from timetable_platform.store import apikeys

    def revoke(store: Store) -> int:
        with store.session_factory.begin() as session:
            found = apikeys.revoke_api_key(session, args.key_id)
        if not found:
            print(f"timetable: no API key with id {args.key_id}", file=sys.stderr)
            return 1
        print(f"key {args.key_id} revoked")
        return 0

    return _with_store(revoke)


def run_rotate_secret(args: argparse.Namespace) -> int:
    from timetable_platform.store import apikeys

    def rotate(store: Store) -> int:
        with store.session_factory.begin() as session:
            print(apikeys.rotate_callback_secret(session, args.tenant))
        return 0

    return _with_store(rotate)


def run_retention(args: argparse.Namespace) -> int:
    from timetable_platform.store.retention import purge_expired_uploads, sweep_orphaned_blobs

    days = args.days if args.days is not None else Settings().retention_days
    if days < 1:
        print("timetable: --days must be at least 1", file=sys.stderr)
        return 2

    def retain(store: Store) -> int:
        erased = purge_expired_uploads(store, days=days)
        return _report(
            f"erased {erased} uploads older than {days} days; "
            f"removed {sweep_orphaned_blobs(store)} orphaned blobs"
        )

    return _with_store(retain)


def run_reconcile(args: argparse.Namespace) -> int:
    from timetable_platform.store.retention import reconcile_orphans

    older = timedelta(minutes=args.minutes)
    return _with_store(
        lambda store: _report(f"re-enqueued {reconcile_orphans(store, older_than=older)} uploads")
    )


def _report(message: str) -> int:
    print(message)
    return 0
