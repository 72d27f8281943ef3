"""Limits checked before any reader or paid backend sees the bytes: overall size, page count, ZIP
bombs in DOCX/XLSX.

Python's ``zipfile`` never inflates an entry past the size its central directory declares (it stops
at ``file_size`` and then fails the CRC), so checking the declared sizes bounds what python-docx and
openpyxl can be made to decompress.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from timetable_platform.extraction.base import Limits
from timetable_platform.extraction.errors import CorruptDocument, TooLarge

MAX_ZIP_ENTRIES = 10_000
# Small parts (styles, empty sheets) routinely compress better than any sane ratio; only big ones are judged.
RATIO_MIN_BYTES = 1024 * 1024


def _mb(n: float) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def check_size(content: bytes, limits: Limits) -> None:
    if len(content) > limits.max_bytes:
        raise TooLarge(f"The document is {_mb(len(content))}; the limit is {_mb(limits.max_bytes)}.")


def count_pages(content: bytes, media_type: str, max_pixels: int | None = None) -> int | None:
    """Pages of a PDF, frames of an image; None for formats without pages (DOCX, XLSX, CSV).

    Only the PDF's cross-reference / the image's header is read, not the pages themselves. An image
    over ``max_pixels`` (a decompression bomb: a small file that decodes to gigabytes) is ``TooLarge``,
    not corrupt: the user can act on that.
    """
    if media_type == "application/pdf":
        import pypdfium2

        from timetable_platform.extraction.readers.pdf import PDFIUM_LOCK

        with PDFIUM_LOCK:  # pdfium is not thread-safe (the API and readers share the process)
            try:
                pdf = pypdfium2.PdfDocument(content)
            except pypdfium2.PdfiumError as exc:
                raise CorruptDocument("The PDF cannot be opened.", detail=str(exc)) from exc
            try:
                return len(pdf)
            finally:
                pdf.close()
    if media_type.startswith("image/"):
        from PIL import Image

        try:
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                frames = int(getattr(image, "n_frames", 1))
        except Image.DecompressionBombError as exc:
            raise TooLarge("The image has too many pixels to be read safely.", detail=str(exc)) from exc
        except Exception as exc:
            raise CorruptDocument("The image cannot be opened.", detail=str(exc)) from exc
        if max_pixels is not None and width * height > max_pixels:
            raise TooLarge(f"The image is {width}x{height} pixels, over the limit of {max_pixels:,} pixels.")
        return frames
    return None


def check_pages(content: bytes, media_type: str, limits: Limits) -> int | None:
    """The page count (``count_pages``); raises ``TooLarge`` over ``limits.max_pages``, before any
    reader or paid backend (Document AI and Claude bill per page) is given the document."""
    pages = count_pages(content, media_type, limits.max_pixels)
    if pages is not None and pages > limits.max_pages:
        raise TooLarge(f"The document has {pages} pages; the limit is {limits.max_pages}.")
    return pages


def check_ooxml_archive(content: bytes, limits: Limits) -> None:
    """Raise TooLarge for a ZIP bomb (entry size, ratio, total size, entry count), CorruptDocument if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise CorruptDocument("The Office file is damaged and cannot be opened.", detail=str(exc)) from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise TooLarge(f"The Office file holds {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES}.")
    total = 0
    for info in infos:
        if info.file_size > limits.max_zip_entry_bytes:
            raise TooLarge(
                f"The Office file part '{info.filename}' unpacks to {_mb(info.file_size)}; "
                f"the limit is {_mb(limits.max_zip_entry_bytes)} (possible zip bomb)."
            )
        if info.file_size >= RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise TooLarge(
                    f"The Office file part '{info.filename}' compresses {ratio:.0f}:1; "
                    f"the limit is {limits.max_zip_ratio:.0f}:1 (possible zip bomb)."
                )
        total += info.file_size
    # Total unpacked size: a few entries each just under the limit are as bad as one over it.
    max_total = 2 * limits.max_zip_entry_bytes
    if total > max_total:
        raise TooLarge(
            f"The Office file unpacks to {_mb(total)}; the limit is {_mb(max_total)} (possible zip bomb)."
        )
