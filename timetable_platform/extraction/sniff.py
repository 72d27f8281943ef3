"""Media type from the bytes themselves (magic numbers, archive parts, text decoding), never the file name.

The name is only used to word a hint ("it is called .pdf but ..."). Every media type the platform
knows is listed once here in ``MEDIA_TYPES``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
import zlib
from collections import Counter

import filetype

from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument, UnsupportedType

# File name endings of the documents the platform reads (the media type itself is sniffed from the bytes).
DOCUMENT_SUFFIXES = frozenset(
    {
        ".pdf", ".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".webp", ".heic", ".heif", ".gif", ".bmp",
        ".docx", ".xlsx", ".csv", ".tsv", ".txt", ".html", ".htm",
    }
)  # fmt: skip

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
GIF = "image/gif"
BMP = "image/bmp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TEXT = "text/plain"
HTML = "text/html"

# Every supported media type -> (short name, usual extension).
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    PDF: ("PDF", ".pdf"),
    PNG: ("PNG image", ".png"),
    JPEG: ("JPEG image", ".jpg"),
    TIFF: ("TIFF image", ".tiff"),
    WEBP: ("WebP image", ".webp"),
    HEIC: ("HEIC image", ".heic"),
    HEIF: ("HEIF image", ".heif"),
    GIF: ("GIF image", ".gif"),
    BMP: ("BMP image", ".bmp"),
    DOCX: ("Word document", ".docx"),
    XLSX: ("Excel workbook", ".xlsx"),
    CSV: ("CSV table", ".csv"),
    TSV: ("TSV table", ".tsv"),
    TEXT: ("plain text", ".txt"),
    HTML: ("HTML page", ".html"),
}
IMAGE_TYPES = frozenset(t for t in MEDIA_TYPES if t.startswith("image/"))
TEXT_TYPES = frozenset({CSV, TSV, TEXT})
OFFICE_TYPES = frozenset({DOCX, XLSX})

_HEIF_BRANDS = {
    b"heic": HEIC, b"heix": HEIC, b"heim": HEIC, b"heis": HEIC, b"hevc": HEIC, b"hevx": HEIC,
    b"mif1": HEIF, b"msf1": HEIF, b"heif": HEIF,
}  # fmt: skip
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_SAMPLE = 64 * 1024


def is_image(media_type: str) -> bool:
    return media_type in IMAGE_TYPES


def describe(media_type: str) -> str:
    return MEDIA_TYPES.get(media_type, (media_type, ""))[0]


def sniff_media_type(content: bytes, filename: str | None = None) -> str:
    """The media type of ``content``; raises EmptyDocument, UnsupportedType or CorruptDocument."""
    if not content or not content.strip():
        raise EmptyDocument("The document is empty.")
    head = content[:64]
    # Some producers put junk before the header; readers accept it within the first KiB.
    if b"%PDF-" in content[:1024]:
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if (
        head.startswith(b"BM")
        and len(content) > 26
        and int.from_bytes(content[2:6], "little") in (0, len(content))
    ):
        return BMP
    if head[4:8] == b"ftyp":
        brand = _heif_brand(content)
        if brand:
            return brand
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content, filename)
    if head.startswith(_OLE_MAGIC):
        raise UnsupportedType(_legacy_office_message(content))
    text = _decode_text(content)
    if text is not None:
        return _sniff_text(text, filename)
    raise UnsupportedType(_unsupported_message(content, filename))


def decode_text(content: bytes) -> str:
    """Decode a text document: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    text = _decode_text(content)
    if text is None:
        raise UnsupportedType("The file is not text.")
    return text


def _heif_brand(content: bytes) -> str | None:
    size = int.from_bytes(content[0:4], "big")
    box = content[8 : min(max(size, 16), 256)]
    brands = [box[0:4]] + [box[i : i + 4] for i in range(8, len(box) - 3, 4)]
    for brand in brands:
        if brand in _HEIF_BRANDS:
            return _HEIF_BRANDS[brand]
    return None


def _sniff_zip(content: bytes, filename: str | None) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            content_types = ""
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size < 4 * 1024 * 1024:
                    content_types = archive.read(info).decode("utf-8", "replace")
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise CorruptDocument(
            "The document is a damaged ZIP/Office file and cannot be opened.", detail=str(exc)
        ) from exc
    # The main part's content type decides (covers .docm/.xlsm and files with a wrong extension).
    if (
        "wordprocessingml.document.main+xml" in content_types
        or "ms-word.document.macroEnabled.main" in content_types
    ):
        return DOCX
    if "spreadsheetml.sheet.main+xml" in content_types or "ms-excel.sheet.macroEnabled.main" in content_types:
        return XLSX
    if not content_types:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    if "presentationml" in content_types or any(n.startswith("ppt/") for n in names):
        raise UnsupportedType("PowerPoint presentations are not supported; export the slide as PDF.")
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        raise UnsupportedType(
            "OpenDocument files are not supported; save it as .docx/.xlsx or export it as PDF."
        )
    if content_types:
        raise UnsupportedType("This Office file is neither a Word document nor an Excel workbook.")
    raise UnsupportedType(
        f"{_named(filename)}a ZIP archive, not a document; upload the timetable itself (PDF, image, DOCX, XLSX, CSV)."
    )


def _legacy_office_message(content: bytes) -> str:
    # OLE directory entries are UTF-16LE stream names.
    if "WordDocument".encode("utf-16-le") in content:
        kind = "a legacy Word .doc file; save it as .docx (or PDF) and upload again."
    elif "Workbook".encode("utf-16-le") in content or "Book".encode("utf-16-le") in content:
        kind = "a legacy Excel .xls file; save it as .xlsx (or CSV) and upload again."
    else:
        kind = "a legacy Microsoft Office file; save it as .docx/.xlsx or PDF and upload again."
    return f"The document is {kind}"


def _decode_text(content: bytes) -> str | None:
    sample = content[:_TEXT_SAMPLE]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in sample:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(content) - 3:
            # Only the last character is cut short: still UTF-8.
            text = content[: exc.start].decode("utf-8-sig")
        else:
            try:
                text = content.decode("cp1252")
            except UnicodeDecodeError:
                text = content.decode("latin-1")
    control = sum(1 for ch in text[:_TEXT_SAMPLE] if ord(ch) < 32 and ch not in "\t\r\n\f")
    if control > max(2, len(text[:_TEXT_SAMPLE]) // 100):
        return None
    return text


_HTML_PROLOGUE = re.compile(r"^(?:\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.DOTALL)
_HTML_STARTS = ("<!doctype html", "<html", "<head", "<body", "<table", "<meta", "<title")


def is_html(text: str) -> bool:
    """An HTML page or fragment (XHTML too, as timetabling software writes it): its first tag after
    any XML declaration and comments is an HTML one."""
    head = text[:4096]
    start = _HTML_PROLOGUE.match(head)
    rest = head[start.end() if start else 0 :].lower()
    return rest.startswith(_HTML_STARTS)


def _sniff_text(text: str, filename: str | None) -> str:
    head = text.lstrip()[:512].lower()
    if is_html(text):
        return HTML
    if head.startswith("{\\rtf"):
        raise UnsupportedType("The document is an RTF file; save it as .docx or PDF and upload again.")
    if head.startswith("%!ps"):
        raise UnsupportedType("The document is a PostScript file; convert it to PDF and upload again.")
    if head.startswith(("<?xml", "<svg")):
        what = "an SVG drawing" if "<svg" in head else "an XML file"
        raise UnsupportedType(
            f"The document is {what}; export the timetable as PDF or an image and upload that."
        )
    if not text.strip():
        raise EmptyDocument("The document contains only whitespace.")
    delimiter = sniff_delimiter(text)
    if delimiter == "\t":
        return TSV
    if delimiter is not None:
        return CSV
    return TEXT


def sniff_delimiter(text: str) -> str | None:
    """The column delimiter of a delimited text, or None when it is not tabular (most rows agree on >= 2 columns)."""
    lines = [line for line in text[:_TEXT_SAMPLE].splitlines() if line.strip()][:200]
    if len(lines) < 2:
        return None
    sample = "\n".join(lines)
    candidates: list[str] = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter)
    candidates.extend(d for d in ("\t", ";", ",", "|") if d not in candidates)
    for delimiter in candidates:
        widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        multi = [w for w in widths if w >= 2]
        if not multi:
            continue
        # Tabular when most lines split into the same number (>= 2) of fields; prose with commas varies.
        _, agreeing = Counter(multi).most_common(1)[0]
        if agreeing >= max(2, 0.5 * len(widths)):
            return delimiter
    return None


def _named(filename: str | None) -> str:
    return f"'{filename}' is " if filename else "The document is "


def _unsupported_message(content: bytes, filename: str | None) -> str:
    kind = filetype.guess(content[:8192])
    if kind is not None:
        what = f"a {kind.extension.upper()} file ({kind.mime})"
    else:
        what = "a binary file of unknown type"
    return (
        f"{_named(filename)}{what}, which is not supported. "
        "Upload a PDF, an image (PNG, JPEG, TIFF, WebP, HEIC), a Word or Excel file, CSV or an HTML page."
    )
