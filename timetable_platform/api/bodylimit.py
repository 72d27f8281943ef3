"""Refuse oversized request bodies before they are parsed (and spooled to disk) by the multipart parser."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from timetable_platform.api.problems import Problem, problem_response

# Room for the multipart envelope and the small form fields around the file itself.
ENVELOPE_BYTES = 64 * 1024


class BodySizeLimit:
    """413 as soon as ``Content-Length`` says the body is too large; bodies without one (chunked)
    are counted as they arrive and cut off at the limit."""

    def __init__(self, app: ASGIApp, max_document_bytes: int) -> None:
        self.app = app
        self.max_document_bytes = max_document_bytes
        self.max_body_bytes = max_document_bytes + ENVELOPE_BYTES

    def _problem(self) -> Problem:
        return Problem(
            413,
            f"The document is over the {self.max_document_bytes} byte limit.",
            code="too_large",
            limit_bytes=self.max_document_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    await problem_response(None, self._problem())(scope, receive, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise self._problem()
            return message

        await self.app(scope, counting_receive, send)
