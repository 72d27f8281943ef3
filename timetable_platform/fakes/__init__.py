"""Local servers speaking the wire formats of the paid APIs (Document AI v1 REST, Anthropic Messages).

The tests run them in a thread per test (``serve_documentai``, ``serve_anthropic``); ``timetable fakes``
runs them in the foreground for demos and staging without keys. Not for production traffic: they
answer from the project's own readers, or from a scripted truth in tests.
"""

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


def http_server(
    handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """A server for ``handler`` bound to ``host:port`` (0: a free port); ``OSError`` when the port is taken."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host = str(server.server_address[0])
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{server.server_port}"


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler], *, name: str) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a thread for the block; yields its base URL."""
    server = http_server(handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
