"""Local servers speaking the wire formats of the paid APIs (Document AI v1 REST, Anthropic Messages)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: object,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    """Answer the request with a JSON body, as both paid APIs do."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("content-type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler], *, name: str) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a thread for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
