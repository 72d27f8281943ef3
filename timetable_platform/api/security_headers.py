"""Response headers that keep browsers from misreading or embedding what the API serves."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The week view is self-contained: one inline <style>, no script, no image, no form. Nothing else
# may load, nothing may frame it (clickjacking), and share-link tokens in its URL are never sent
# on as a Referer.
HTML_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every response: a CSV or JSON export whose cells hold
    markup is never rendered as HTML by a browser guessing the type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_header)
