"""Edit links: a person without an API key corrects one upload's timetable in the browser.

The same construction as share links (``sharing``): an HMAC over (upload id, expiry) keyed from
the tenant's secret, so any replica checks it and rotating the secret (``timetable keys secret``)
revokes every link. A different purpose string keeps the scopes apart: a read-only share token
never opens the edit page or passes an edit request, and an edit token is not a share token.

The page sends the token back in the ``X-Edit-Token: <expires>.<token>`` header with each change.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

EDIT_TOKEN_HEADER = "X-Edit-Token"
MAX_EDIT_SECONDS = 14 * 24 * 3600
DEFAULT_EDIT_SECONDS = 3 * 24 * 3600
_PURPOSE = b"timetable-platform edit link v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _link_key(tenant_secret: bytes) -> bytes:
    return hmac.new(tenant_secret, _PURPOSE, hashlib.sha256).digest()


def edit_token(tenant_secret: bytes, upload_id: str, expires: int) -> str:
    return hmac.new(_link_key(tenant_secret), f"{upload_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def edit_query(tenant_secret: bytes, upload_id: str, expires: int) -> str:
    return urlencode({"expires": expires, "token": edit_token(tenant_secret, upload_id, expires)})


def token_is_valid(
    tenant_secret: bytes, upload_id: str, expires: int, token: str, now: float | None = None
) -> bool:
    if expires < (now if now is not None else time.time()) or not _HEX64.fullmatch(token):
        return False  # (compare_digest refuses non-ASCII text: check the shape first)
    return hmac.compare_digest(edit_token(tenant_secret, upload_id, expires), token)


def parse_header(value: str) -> tuple[int, str] | None:
    """``<expires>.<64 hex>`` -> (expires, token); None when malformed."""
    expires, sep, token = value.strip().partition(".")
    if not sep or not expires.isascii() or not expires.isdigit() or len(expires) > 13 or not _HEX64.fullmatch(token):
        return None
    return int(expires), token
