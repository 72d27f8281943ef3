"""The submit route's multipart form, parsed in one pass over the body for the plain case.

Starlette's parser (python-multipart's state machine, a callback per header byte run and per data chunk,
a spooled file per upload) cost the event loop about 0.1 ms per 100 KB submission, a tenth of all the
loop's work for it. Clients send the same simple shape: a boundary of token characters, parts with
``Content-Disposition: form-data; name="..."[; filename="..."]`` and perhaps a ``Content-Type``, and no
preamble or epilogue. ``parse_simple_form`` reads exactly that shape, with C ``bytes`` searches, into the
``FormData`` Starlette would have built (same names, values, filenames, headers and order); for anything
else it answers None and the caller hands the same body to Starlette's parser, so every other body
(quoted or odd boundaries, a ``charset``, escapes in names, other part headers, over-long text parts,
malformed bodies and their 400) is read, accepted or refused exactly as before.
"""

from __future__ import annotations

import io
import re

from starlette.datastructures import FormData, Headers, UploadFile

# Starlette's limits (MultiPartParser): beyond them its parser answers 400; leave those bodies to it.
MAX_PART_BYTES = 1024 * 1024  # a text field
MAX_PARTS = 1000
# Bodies up to Starlette's in-memory spool size: a larger one is streamed by Starlette's parser to a file
# as before, never held whole in memory next to the document read from it.
MAX_BODY_BYTES = 1024 * 1024

_CONTENT_TYPE = re.compile(r"(?i:multipart/form-data); ?boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})")
_DISPOSITION = re.compile(rb'form-data; name="([^"\\\r\n]*)"(?:; filename="([^"\\\r\n]*)")?')
_ALLOWED_HEADERS = (b"content-disposition", b"content-type")


class _InMemory(io.BytesIO):
    """A file Starlette's ``UploadFile`` treats as in memory (a ``SpooledTemporaryFile`` not rolled to
    disk): its async ``read``/``close`` then run inline instead of in a thread."""

    _rolled = False


def _decode(value: bytes) -> str:
    """As Starlette decodes names, filenames and values (its default charset, else latin-1)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def parse_simple_form(content_type: str | None, body: bytes) -> FormData | None:
    """The form in ``body``, or None when it is not of the plain shape (the caller then uses Starlette's
    parser, which answers every body exactly as before)."""
    match = _CONTENT_TYPE.fullmatch(content_type or "")
    if match is None:
        return None
    boundary = match.group(1).encode()
    opening = b"--" + boundary + b"\r\n"
    if not body.startswith(opening):
        return None
    pieces = body[len(opening) :].split(b"\r\n--" + boundary)
    # each piece but the last is a part followed by a delimiter; the last is what follows the closing one
    if len(pieces) < 2 or len(pieces) > MAX_PARTS + 1 or pieces[-1] not in (b"--", b"--\r\n"):
        return None
    items: list[tuple[str, str | UploadFile]] = []
    for index, part in enumerate(pieces[:-1]):
        if index:
            if not part.startswith(b"\r\n"):
                return None
            part = part[2:]
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            return None
        headers: list[tuple[bytes, bytes]] = []
        disposition = None
        for line in head.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            name = name.lower()
            if not colon or name not in _ALLOWED_HEADERS or any(name == seen for seen, _ in headers):
                return None
            value = value.lstrip(b" ")
            headers.append((name, value))
            if name == b"content-disposition":
                disposition = _DISPOSITION.fullmatch(value)
                if disposition is None:
                    return None
        if disposition is None:
            return None
        field_name, filename = disposition.group(1), disposition.group(2)
        if filename is None:
            if len(content) > MAX_PART_BYTES:
                return None
            items.append((_decode(field_name), _decode(content)))
        else:
            upload = UploadFile(
                _InMemory(content),
                size=len(content),
                filename=_decode(filename),
                headers=Headers(raw=headers),
            )
            items.append((_decode(field_name), upload))
    return FormData(items)
