"""What happens before a request body is read: the caller is authenticated, the body's size is
bounded, and a body that arrives too slowly is cut off. Nobody without a key can hold a worker,
a connection or disk space by sending (or not sending) a body."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from timetable_platform.api.problems import Problem, problem_response

if TYPE_CHECKING:
    from timetable_platform.api.deps import AppState

# Room for the multipart envelope and the small form fields around the file itself.
ENVELOPE_BYTES = 64 * 1024
BODY_METHODS = ("POST", "PUT", "PATCH")


class BodySizeLimit:
    """413 as soon as ``Content-Length`` says the body is too large; bodies without one (chunked)
    are counted as they arrive and cut off at the limit. 408 when the body stalls for
    ``idle_timeout`` seconds or has not arrived in full after ``total_timeout`` seconds."""

    def __init__(
        self, app: ASGIApp, max_document_bytes: int, idle_timeout: float = 15.0, total_timeout: float = 300.0
    ) -> None:
        self.app = app
        self.max_document_bytes = max_document_bytes
        self.max_body_bytes = max_document_bytes + ENVELOPE_BYTES
        self.idle_timeout = idle_timeout
        self.total_timeout = total_timeout

    def _problem(self) -> Problem:
        return Problem(
            413,
            f"The document is over the {self.max_document_bytes} byte limit.",
            code="too_large",
            limit_bytes=self.max_document_bytes,
        )

    def _timeout(self) -> Problem:
        return Problem(
            408,
            "The request body arrived too slowly; send it again in one go.",
            code="body_timeout",
            headers={"Connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    await problem_response(None, self._problem())(scope, receive, send)
                    return
                break
        received = 0
        body_done = False
        deadline = asyncio.get_running_loop().time() + self.total_timeout

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # later receives wait for the disconnect: no timeout there
                return await receive()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(max(0.0, min(self.idle_timeout, remaining))):
                    message = await receive()
            except TimeoutError:
                raise self._timeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            if received > self.max_body_bytes:
                raise self._problem()
            return message

        await self.app(scope, guarded_receive, send)


class AuthenticateBeforeBody:
    """Requests with a body under ``prefix`` must carry a valid ``X-API-Key``: it is checked from the
    headers alone, and a 401 (or 429 for an address over its failed-authentication budget) goes
    out without reading the body. The principal found is handed to the route's ``authenticate``."""

    def __init__(self, app: ASGIApp, state: AppState, prefix: str) -> None:
        self.app = app
        self.state = state
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        from timetable_platform.api.deps import API_KEY_HEADER, PRINCIPAL_STATE, principal_for_key

        header = API_KEY_HEADER.lower().encode()
        key = next((value.decode("latin-1") for name, value in scope["headers"] if name == header), None)
        edit_token = None if key else _edit_token(scope, self.prefix)
        try:
            if edit_token is not None:  # an edit link: valid for its own upload's review routes only
                from timetable_platform.api.deps import EDIT_PRINCIPAL_STATE, principal_for_edit_token

                upload_id, value = edit_token
                state_key = EDIT_PRINCIPAL_STATE
                principal = await principal_for_edit_token(self.state, scope, upload_id, value)
            else:
                state_key = PRINCIPAL_STATE
                principal = await principal_for_key(self.state, scope, key)
        except Problem as problem:
            response = problem_response(Request(scope), problem)
            response.headers["Connection"] = "close"  # the unread body is not ours to drain
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[state_key] = principal
        await self.app(scope, receive, send)


def _edit_token(scope: Scope, prefix: str) -> tuple[str, str] | None:
    """(upload id, header value) when the request carries ``X-Edit-Token`` on an upload's review route."""
    from timetable_platform.api.edit_links import EDIT_TOKEN_HEADER

    header = EDIT_TOKEN_HEADER.lower().encode()
    value = next((v.decode("latin-1") for name, v in scope["headers"] if name == header), None)
    match = _REVIEW_PATH.match(scope["path"][len(prefix):])
    if value is None or match is None:
        return None
    return match.group(1), value


# The routes an edit link may change: the entries and "Mark as reviewed".
_REVIEW_PATH = re.compile(r"^/uploads/([^/]{1,64})/(?:timetable/entries(?:/[^/]+)?|review)$")
