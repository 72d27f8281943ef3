"""A local Anthropic Messages API: ``POST /v1/messages`` answered as the real service answers it.

Answers record a timetable through the forced tool: a ``tool_use`` block whose ``input`` holds the
entries, with ``stop_reason``, ``usage`` (input, output, cache write and cache read tokens) and a ``msg_``
id. Which timetable:
- ``truth`` (tests): the document's ground truth, a ``Timetable`` from the corpus generator or a corpus JSON;
- without a truth (``timetable fakes``): ``read_request``, what the project's embedded reader reads in the
  document the request carries (a PDF ``document`` block or an ``image`` block, OCR'd), else the candidate
  reading the request quotes from the layout stage (office documents and CSV arrive as text with it),
  else no entries.

Scripted behaviours, one per request in order (``script``), then ``"ok"``:
- ``"ok"``: every entry not yet recorded (a continuation request lists recorded ones; they are left out);
- ``"rate_limit"`` (429), ``"overloaded"`` (529), ``"server_error"`` (500): the error JSON with
  ``retry-after``/``retry-after-ms`` headers, as the API sends them;
- ``"truncate"``: the first half of the entries and ``stop_reason: "max_tokens"``;
- ``"malformed"``: entries with 12-hour times, an unknown day and a missing subject.

Token accounting estimates the real one (about 4 characters a token, 1,600 tokens a PDF page,
width x height / 750 an image); the system prompt and tools count as a cache write the first
time a prefix is seen and as a cache read after, when the prompt carries ``cache_control``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from timetable_platform.domain.model import Timetable
from timetable_platform.fakes import send_json, serve_http

ERRORS = {
    "rate_limit": (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
    ),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "server_error": (500, "api_error", "Internal server error"),
    "bad_key": (401, "authentication_error", "invalid x-api-key"),
}
PDF_PAGE_TOKENS = 1600
MIN_CACHEABLE_TOKENS = 1024
_RECORDED = re.compile(r"already recorded:\n(\[.*?\])\n", re.DOTALL)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


_CANDIDATE = re.compile(r"candidate reading \(.*?\):\n(\[[^\n]*\])", re.DOTALL)  # one JSON line


def _request_document(body: dict[str, Any]) -> tuple[bytes, str] | None:
    """The first PDF or image the request carries, as (bytes, media type)."""
    for message in body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") in ("document", "image") and block.get("source", {}).get("type") == "base64":
                source = block["source"]
                return base64.b64decode(source["data"]), str(source.get("media_type", ""))
    return None


def read_request(body: dict[str, Any]) -> Timetable:
    """A stand-in for the model's reading: the embedded reader on the request's PDF or image; else the
    layout stage's candidate reading quoted in the request; else an empty timetable."""
    from timetable_platform.extraction.base import Document, Limits
    from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor

    document = _request_document(body)
    if document is not None:
        content, media_type = document
        return EmbeddedLayoutExtractor().extract(Document(content, media_type), Limits()).timetable
    for message in body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            found = _CANDIDATE.search(block.get("text", "")) if block.get("type") == "text" else None
            if found:
                return Timetable.model_validate({"entries": json.loads(found.group(1))})
    return Timetable(entries=[])


@dataclass
class FakeAnthropic:
    truth: Timetable | None = None
    # Without a truth: the timetable to answer a request with (``read_request`` in ``timetable fakes``).
    reader: Callable[[dict[str, Any]], Timetable] | None = None
    base_url: str = ""
    script: list[str] = field(default_factory=list)
    retry_after_ms: int = 5
    requests: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    _cached_prefixes: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _behaviour(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    # -- token accounting

    def _input_tokens(self, body: dict[str, Any]) -> tuple[int, int]:
        """(prefix tokens: tools + system, the rest)."""
        prefix = _tokens(json.dumps(body.get("tools", []))) + sum(
            _tokens(block.get("text", "")) for block in body.get("system") or [] if isinstance(block, dict)
        )
        if isinstance(body.get("system"), str):
            prefix += _tokens(body["system"])
        rest = 0
        for message in body.get("messages", []):
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for block in blocks:
                rest += self._block_tokens(block)
        return prefix, rest

    @staticmethod
    def _block_tokens(block: dict[str, Any]) -> int:
        kind = block.get("type")
        if kind == "text":
            return _tokens(block.get("text", ""))
        if kind == "document":
            from timetable_platform.fakes.documentai_server import pdf_page_count

            return PDF_PAGE_TOKENS * pdf_page_count(base64.b64decode(block["source"]["data"]))
        if kind == "image":
            from PIL import Image

            with Image.open(io.BytesIO(base64.b64decode(block["source"]["data"]))) as image:
                return max(1, image.width * image.height // 750)
        if kind in ("tool_use", "tool_result"):
            return _tokens(json.dumps(block))
        return 0

    def _usage(self, body: dict[str, Any], output: dict[str, Any]) -> dict[str, int]:
        prefix, rest = self._input_tokens(body)
        system = body.get("system")
        cached = isinstance(system, list) and any("cache_control" in b for b in system if isinstance(b, dict))
        usage = {"input_tokens": rest, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if cached and prefix >= MIN_CACHEABLE_TOKENS:
            key = hashlib.sha256(
                json.dumps([body.get("model"), body.get("tools"), system]).encode()
            ).hexdigest()
            with self._lock:
                hit = key in self._cached_prefixes
                self._cached_prefixes.add(key)
            usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix
        else:
            usage["input_tokens"] += prefix
        usage["output_tokens"] = _tokens(json.dumps(output))
        return usage

    # -- answers

    def _timetable(self, body: dict[str, Any]) -> Timetable:
        if self.truth is not None:
            return self.truth
        assert self.reader is not None, "the fake needs a truth or a reader to answer from"
        return self.reader(body)

    @staticmethod
    def _entries(timetable: Timetable) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in e.model_dump(mode="json", exclude={"confidence"}).items() if v is not None}
            for e in timetable.entries
        ]

    @staticmethod
    def _recorded(body: dict[str, Any]) -> list[dict[str, Any]]:
        for message in body.get("messages", []):
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                found = _RECORDED.search(block.get("text", "")) if block.get("type") == "text" else None
                if found:
                    return json.loads(found.group(1))
        return []

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append(body)
        behaviour = self._behaviour()
        if behaviour in ERRORS:
            status, kind, message = ERRORS[behaviour]
            headers = {"retry-after": "0", "retry-after-ms": str(self.retry_after_ms)}
            return status, {"type": "error", "error": {"type": kind, "message": message}}, headers
        if not body.get("tools") or body.get("tool_choice", {}).get("type") != "tool":
            return (
                400,
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "expected a forced tool"},
                },
                {},
            )
        tool = body["tool_choice"]["name"]
        keys = {(r.get("day"), r.get("start"), r.get("subject")) for r in self._recorded(body)}
        timetable = self._timetable(body)
        entries = [
            e for e in self._entries(timetable) if (e["day"], e.get("start"), e.get("subject")) not in keys
        ]
        stop_reason = "tool_use"
        if behaviour == "truncate":
            entries = entries[: max(1, len(entries) // 2)]
            stop_reason = "max_tokens"
        elif behaviour == "malformed":
            entries = [dict(e) for e in entries]
            entries[0]["start"] = "9:00 am"
            entries[1]["day"] = "Monday"
            entries[2].pop("subject", None)
        tool_input: dict[str, Any] = {"entries": entries}
        if timetable.title and stop_reason == "tool_use":
            tool_input["title"] = timetable.title
        block = {
            "type": "tool_use",
            "id": f"toolu_{uuid.uuid4().hex[:24]}",
            "name": tool,
            "input": tool_input,
        }
        usage = self._usage(body, tool_input)
        if stop_reason == "max_tokens":
            usage["output_tokens"] = int(body.get("max_tokens", usage["output_tokens"]))
        response = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [block],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        with self._lock:
            self.responses.append(response)
        return 200, response, {}


def request_handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            headers: dict[str, str] = {}
            if self.path.split("?")[0] != "/v1/messages":
                status, payload = (
                    404,
                    {"type": "error", "error": {"type": "not_found_error", "message": self.path}},
                )
            elif not (
                self.headers.get("x-api-key") or self.headers.get("authorization")
            ) or not self.headers.get("anthropic-version"):
                error = {"type": "authentication_error", "message": "x-api-key header is required"}
                status, payload = 401, {"type": "error", "error": error}
            else:
                try:
                    status, payload, headers = fake.answer(json.loads(raw))
                except Exception as exc:  # answer as the service would: a 500 with an error body
                    status, payload = (
                        500,
                        {"type": "error", "error": {"type": "api_error", "message": f"fake: {exc}"}},
                    )
            send_json(
                self, status, payload, headers={"request-id": f"req_{uuid.uuid4().hex[:24]}", **headers}
            )

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve_anthropic(**options: Any) -> Iterator[FakeAnthropic]:
    """Run a fake on 127.0.0.1 (a free port); ``fake.base_url`` is the client's ``base_url``."""
    fake = FakeAnthropic(**options)
    with serve_http(request_handler(fake), name="fake-anthropic") as url:
        fake.base_url = url
        yield fake
