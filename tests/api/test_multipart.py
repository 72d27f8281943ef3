"""The submit route's one-pass multipart reader (api/multipart.py) against Starlette's parser: the same form
for every body of the plain shape, and None (Starlette's parser reads it) for anything else."""

from __future__ import annotations

import asyncio

import pytest
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from timetable_platform.api.multipart import MAX_PART_BYTES, parse_simple_form

BOUNDARY = "----form7A'()+_,./:=?-x"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, value: bytes, *, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"Content-Disposition: {disposition}\r\n".encode()
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n".encode()
    return head + b"\r\n" + value


def body(*parts: bytes, boundary: str = BOUNDARY, end: bytes = b"\r\n") -> bytes:
    out = b""
    for one in parts:
        out += f"--{boundary}\r\n".encode() + one + b"\r\n"
    return out + f"--{boundary}--".encode() + end


def starlette_form(content_type: str, raw: bytes) -> FormData:
    async def read() -> FormData:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
                 "headers": [(b"content-type", content_type.encode())]}  # fmt: skip
        return await Request(scope, receive).form()

    return asyncio.run(read())


def flat(form: FormData) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            value.file.seek(0)
            out.append((name, ("file", value.filename, value.size, value.content_type, value.file.read())))
        else:
            out.append((name, value))
    return out


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n%%EOF\n"
PLAIN = [
    body(part("file", PDF, filename="week 7A.pdf", content_type="application/pdf")),
    body(part("file", PDF, filename="a.pdf"), end=b""),
    body(
        part("mode", b"document_ai"),
        part("file", PDF, filename="x.pdf", content_type="application/pdf"),
        part("label", "Klasse 7ä".encode()),
        part("force", b"true"),
        part("callback_url", b"https://x.example/cb"),
    ),
    body(part("file", b"", filename="")),
    body(
        part("label", b""),
        part("file", PDF, filename="\u00e9t\u00e9.pdf".encode("latin-1").decode("latin-1")),
    ),
    body(part("label", b"\xff\xfe not utf-8"), part("file", PDF, filename="b.pdf")),
    body(part("file", PDF, filename="one.pdf"), part("file", PDF[:10], filename="two.pdf")),
    body(part("label", b"x" * MAX_PART_BYTES)),
]


@pytest.mark.parametrize("raw", PLAIN, ids=range(len(PLAIN)))
def test_plain_bodies_read_as_starlette_reads_them(raw: bytes) -> None:
    fast = parse_simple_form(CONTENT_TYPE, raw)
    assert fast is not None
    assert flat(fast) == flat(starlette_form(CONTENT_TYPE, raw))


OTHER = [
    (CONTENT_TYPE, body(part("label", b"x" * (MAX_PART_BYTES + 1)))),  # Starlette's 400 for a long text part
    (CONTENT_TYPE, b"preamble\r\n" + body(part("file", PDF, filename="a.pdf"))),
    (CONTENT_TYPE, body(part("file", PDF, filename="a.pdf")) + b"epilogue"),
    (CONTENT_TYPE, body(part("file", PDF, filename="a.pdf"))[:-20]),  # cut short
    (CONTENT_TYPE, b""),
    (f'multipart/form-data; boundary="{BOUNDARY}"', body(part("file", PDF, filename="a.pdf"))),
    (f"multipart/form-data; boundary={BOUNDARY}; charset=latin-1", body(part("file", PDF, filename="a.pdf"))),
    ("application/x-www-form-urlencoded", b"mode=auto"),
    (None, body(part("file", PDF, filename="a.pdf"))),
    (
        CONTENT_TYPE,
        body(b'Content-Disposition: form-data; name="file"; filename="C:\\\\x\\\\a.pdf"\r\n\r\n' + PDF),
    ),
    (CONTENT_TYPE, body(b"Content-Disposition: form-data; name=file\r\n\r\nx")),
    (CONTENT_TYPE, body(b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''a.pdf\r\n\r\nx")),
    (CONTENT_TYPE, body(b'Content-Disposition: attachment; name="file"\r\n\r\nx')),
    (
        CONTENT_TYPE,
        body(b'Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64\r\n\r\neA=='),
    ),
    (
        CONTENT_TYPE,
        body(
            b'Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\nx'
        ),
    ),
    (CONTENT_TYPE, body(b"Content-Type: text/plain\r\n\r\nx")),  # no name: Starlette's 400
    (CONTENT_TYPE, body(b"\r\nx")),  # no headers at all
    (CONTENT_TYPE, body(b'Content-Disposition: form-data; name="a"\r\n folded\r\n\r\nx')),
    (
        CONTENT_TYPE,
        body(part("a", b"x")).replace(
            b"\r\n--" + BOUNDARY.encode() + b"--", b"\r\n--" + BOUNDARY.encode() + b"Z--"
        ),
    ),
]


@pytest.mark.parametrize(("content_type", "raw"), OTHER, ids=range(len(OTHER)))
def test_any_other_body_is_left_to_starlette(content_type: str | None, raw: bytes) -> None:
    assert parse_simple_form(content_type, raw) is None
