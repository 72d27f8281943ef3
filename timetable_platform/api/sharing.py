"""Share links: the week view and exports of one upload, readable without an API key until they expire.

A browser cannot send ``X-API-Key`` when a teacher clicks a link, so ``POST /uploads/{id}/share``
mints ``?expires=<unix time>&token=<hex>``. The token is an HMAC over (upload id, expiry) with a key
derived from the tenant's secret: every replica can check it, and rotating the tenant's secret
(``timetable keys secret``) revokes every link at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

MAX_SHARE_SECONDS = 30 * 24 * 3600
DEFAULT_SHARE_SECONDS = 7 * 24 * 3600
_PURPOSE = b"timetable-platform view link v1"  # keeps these tokens apart from callback signatures


def _link_key(tenant_secret: bytes) -> bytes:
    return hmac.new(tenant_secret, _PURPOSE, hashlib.sha256).digest()


def share_token(tenant_secret: bytes, upload_id: str, expires: int) -> str:
    return hmac.new(_link_key(tenant_secret), f"{upload_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def share_query(tenant_secret: bytes, upload_id: str, expires: int) -> str:
    return urlencode({"expires": expires, "token": share_token(tenant_secret, upload_id, expires)})


def token_is_valid(
    tenant_secret: bytes, upload_id: str, expires: int, token: str, now: float | None = None
) -> bool:
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(share_token(tenant_secret, upload_id, expires), token)
