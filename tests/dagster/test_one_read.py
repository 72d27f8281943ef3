"""One read per document and one page limit, in the Dagster steps: the interpreter step reuses the layout step's reading."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.dagster.conftest import Platform, corpus_file
from timetable_platform.assets.steps import LAYOUT_CANDIDATE, candidate_key


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: Counter[str]) -> None:
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_hybrid_run_on_a_photo_reads_and_ocrs_it_once(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from timetable_platform.extraction import readers
    from timetable_platform.extraction.readers import image

    calls: Counter[str] = Counter()
    _count_calls(monkeypatch, readers, "read_layout", calls)
    _count_calls(monkeypatch, image, "read_image_layout", calls)
    upload_id = platform.submit(corpus_file("l1_png_001.png"), mode="hybrid")

    result = platform.materialize(upload_id)

    assert result.success
    assert calls == {"read_layout": 1, "read_image_layout": 1}
    # Both stages read the document (the second from the stored layout), and the merge used both.
    claude = next(iter(result.asset_materializations_for_node("claude_extraction"))).metadata
    assert claude["skipped"].value is False and claude["entry_count"].value > 0
    assert claude["backend"].value == "textstream:tesseract"
    stored = json.loads(platform.store.blobs.get(candidate_key(upload_id, LAYOUT_CANDIDATE)))
    assert stored["layout"]["reader"] == "tesseract" and stored["layout"]["pages"][0]["words"]


def test_the_page_limit_fails_the_upload_before_any_stage(platform: Platform) -> None:
    """The API's uploads go through these steps: the limit is extraction's check_pages, as for the CLI."""
    import io

    import pypdfium2

    from timetable_platform.resources import LayoutExtractionResource

    pdf = pypdfium2.PdfDocument.new()
    for _ in range(2):
        pdf.new_page(595, 842)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    platform.layout = LayoutExtractionResource(max_pages=1, retry_base_seconds=0.05)
    upload_id = platform.register(buffer.getvalue(), filename="two.pdf", mode="hybrid")

    result = platform.materialize(upload_id)

    assert not result.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert upload.error == "raw_upload: too_large: The document has 2 pages; the limit is 1."
    assert result.asset_materializations_for_node("document_ai_extraction") == []


def test_a_rerun_interprets_the_stored_layout_instead_of_reading_again(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill or reprocess of a photo: same bytes, same readers -> no second OCR, same timetable."""
    from timetable_platform.extraction import layout_reuse, readers
    from timetable_platform.resources import LayoutExtractionResource
    from timetable_platform.store.blobs import result_key

    calls: Counter[str] = Counter()
    _count_calls(monkeypatch, readers, "read_layout", calls)
    upload_id = platform.submit(corpus_file("l1_png_001.png"), mode="hybrid")
    assert platform.materialize(upload_id).success
    first = json.loads(platform.store.blobs.get(result_key(upload_id)))
    stored = json.loads(platform.store.blobs.get(candidate_key(upload_id, LAYOUT_CANDIDATE)))
    assert stored[layout_reuse.STAMP_KEY]["reader_version"] == layout_reuse.reader_version()

    again = platform.materialize(upload_id)
    assert again.success and calls["read_layout"] == 1  # interpreted again, not read again
    layout_step = next(iter(again.asset_materializations_for_node("document_ai_extraction"))).metadata
    assert layout_step["layout_reused"].value is True
    assert json.loads(platform.store.blobs.get(result_key(upload_id)))["entries"] == first["entries"]

    # Other readers (any change to their code, libraries, Tesseract or languages): read afresh.
    monkeypatch.setattr(layout_reuse, "reader_version", lambda: "another-reader")
    assert platform.materialize(upload_id).success and calls["read_layout"] == 2
    assert platform.materialize(upload_id).success and calls["read_layout"] == 2  # stamped anew: reused

    platform.layout = LayoutExtractionResource(retry_base_seconds=0.05, reuse_layouts=False)  # TIMETABLE_LAYOUT_REUSE=false
    assert platform.materialize(upload_id).success and calls["read_layout"] == 3


def test_the_reader_version_covers_every_module_the_readers_import() -> None:
    from timetable_platform.extraction import layout_reuse

    names = {str(p.relative_to(layout_reuse.PACKAGE_ROOT)) for p in layout_reuse.reader_sources()}
    # The readers, the OCR engine, and what they import, function-level imports included.
    assert {"extraction/readers/image.py", "extraction/ocr/engine.py", "extraction/readers/__init__.py"} <= names
    assert {"domain/layout.py", "reading/geometry.py", "extraction/sniff.py", "extraction/safety.py"} <= names
    # Interpretation is not reading: changing it does not make stored layouts stale.
    assert "reading/interpret.py" not in names and "extraction/embedded.py" not in names
