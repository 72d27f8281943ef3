"""Document AI through google-cloud-documentai's REST transport against the local fake."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import Generated, documentai_overrides
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.documentai import DocumentAILayoutExtractor, document_to_layout
from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor
from timetable_platform.extraction.errors import BackendError
from timetable_platform.extraction.pricing import documentai_cost
from timetable_platform.fakes.documentai_server import (
    FakeDocumentAI,
    layout_to_document,
    read_pdf_layout,
    scaled_layout,
)
from timetable_platform.settings import Settings

PDF = "application/pdf"


def _extractor(fake: FakeDocumentAI, **more: str) -> DocumentAILayoutExtractor:
    return DocumentAILayoutExtractor.from_settings(
        Settings(_env_file=None, **documentai_overrides(fake, **more))
    )  # type: ignore[call-arg, arg-type]


def _document(doc: Generated) -> Document:
    return Document(content=doc.path.read_bytes(), media_type=PDF, filename=doc.path.name)


def _keys(entries: list) -> set[tuple]:
    return {(e.day, e.start, e.end, e.week, e.subject, e.teacher, e.room, e.group) for e in entries}


def test_mapped_document_keeps_tables_spans_words_and_language(grid_pdf: Generated) -> None:
    from google.cloud import documentai

    layout = read_pdf_layout(grid_pdf.path.read_bytes())
    wire = layout_to_document(layout, mime_type=PDF, confidence=0.8, language="fr")
    mapped = document_to_layout(documentai.Document.from_json(_json(wire), ignore_unknown_fields=True))

    assert mapped.reader == "documentai" and mapped.languages == ["fr"]
    (table,) = layout.pages[0].tables
    (got,) = mapped.pages[0].tables
    assert (got.n_rows, got.n_cols) == (table.n_rows, table.n_cols)
    spans = {(c.row, c.col, c.rowspan, c.colspan, c.text) for c in table.cells}
    assert {(c.row, c.col, c.rowspan, c.colspan, c.text) for c in got.cells} == spans
    assert any(c.rowspan > 1 or c.colspan > 1 for c in got.cells)  # the merged cells made it through
    assert all(c.confidence == pytest.approx(0.8) for c in got.cells)
    # Boxes come back in page units from the normalized vertices.
    word = layout.pages[0].words[0]
    same = next(w for w in mapped.pages[0].words if w.text == word.text)
    assert same.bbox.x0 == pytest.approx(word.bbox.x0, abs=0.01) and same.bbox.bottom == pytest.approx(
        word.bbox.bottom, abs=0.01
    )


def _json(data: dict) -> str:
    import json

    return json.dumps(data)


def test_pdf_reads_like_the_embedded_reader_and_costs_per_page(
    fake_documentai: FakeDocumentAI, grid_pdf: Generated
) -> None:
    stage = _extractor(fake_documentai).extract(_document(grid_pdf), Limits())

    (request,) = fake_documentai.requests
    assert request.path == "/v1/projects/school-timetables/locations/eu/processors/f00dfeed:process"
    assert request.mime_type == PDF and request.size == grid_pdf.path.stat().st_size
    embedded = EmbeddedLayoutExtractor().extract(_document(grid_pdf), Limits())
    assert _keys(stage.timetable.entries) == _keys(embedded.timetable.entries)
    truth = _keys(grid_pdf.truth.entries)
    assert len(_keys(stage.timetable.entries) & truth) >= 0.9 * len(truth)
    assert stage.backend == "documentai" and stage.pages == 1
    assert stage.cost_usd == documentai_cost(1) > 0
    assert all(e.confidence is not None and 0 < e.confidence <= 1 for e in stage.timetable.entries)


def test_image_is_sent_as_raw_bytes_and_read_in_pixels(
    fake_documentai: FakeDocumentAI, grid_pdf: Generated
) -> None:
    import io

    import pypdfium2

    dpi = 150
    pdf = pypdfium2.PdfDocument(grid_pdf.path.read_bytes())
    try:
        buffer = io.BytesIO()
        pdf[0].render(scale=dpi / 72).to_pil().convert("RGB").save(buffer, format="PNG")
    finally:
        pdf.close()
    png = buffer.getvalue()
    # What the service would read from the picture: the page's text at pixel coordinates.
    fake_documentai.image_layouts[png] = scaled_layout(read_pdf_layout(grid_pdf.path.read_bytes()), dpi / 72)

    stage = _extractor(fake_documentai).extract(Document(content=png, media_type="image/png"), Limits())

    (request,) = fake_documentai.requests
    assert request.mime_type == "image/png" and request.size == len(png)
    assert stage.layout is not None and stage.layout.media_type == "image/png"
    assert stage.layout.pages[0].width == pytest.approx(grid_pdf_width_px(grid_pdf, dpi), rel=0.01)
    embedded = EmbeddedLayoutExtractor().extract(_document(grid_pdf), Limits())
    assert _keys(stage.timetable.entries) == _keys(embedded.timetable.entries)
    assert stage.pages == 1 and stage.cost_usd == documentai_cost(1)


def test_image_over_the_pixel_limit_is_scaled_down_before_sending(
    fake_documentai: FakeDocumentAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from PIL import Image

    from timetable_platform.extraction import documentai

    monkeypatch.setattr(documentai, "IMAGE_MAX_PIXELS", 200_000)  # stands in for the 40 MP limit
    buffer = io.BytesIO()
    Image.new("RGB", (1000, 800), "white").save(buffer, format="JPEG")
    sent, mime_type = documentai.fit_image(buffer.getvalue(), "image/jpeg", Limits())
    with Image.open(io.BytesIO(sent)) as image:
        assert image.width * image.height <= 200_000 and image.width / image.height == pytest.approx(
            1.25, rel=0.01
        )
    assert mime_type == "image/png"
    small = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(small, format="PNG")
    assert documentai.fit_image(small.getvalue(), "image/png", Limits()) == (small.getvalue(), "image/png")


def grid_pdf_width_px(doc: Generated, dpi: int) -> float:
    return read_pdf_layout(doc.path.read_bytes()).pages[0].width * dpi / 72


def test_processor_version_is_addressed(fake_documentai: FakeDocumentAI, grid_pdf: Generated) -> None:
    _extractor(fake_documentai, documentai_processor_version="pretrained-form-parser-v2.1").extract(
        _document(grid_pdf), Limits()
    )
    assert fake_documentai.requests[0].path.endswith(
        "/processors/f00dfeed/processorVersions/pretrained-form-parser-v2.1:process"
    )


def test_pdf_over_the_sync_page_limit_is_split_and_joined(
    fake_documentai: FakeDocumentAI, multipage_pdf: Generated
) -> None:
    fake_documentai.page_limit = 1  # the fake refuses longer documents with 400, as the service does
    pages = multipage_pdf.pages
    with pytest.raises(BackendError, match=r"rejected the document.*exceed the limit") as refused:
        _extractor(fake_documentai).extract(_document(multipage_pdf), Limits())
    assert not refused.value.transient

    fake_documentai.requests.clear()
    stage = _extractor(fake_documentai, documentai_sync_page_limit="1").extract(
        _document(multipage_pdf), Limits()
    )

    assert [r.pages for r in fake_documentai.requests] == [1] * pages
    assert stage.layout is not None and [p.number for p in stage.layout.pages] == list(range(1, pages + 1))
    assert stage.pages == pages and stage.cost_usd == documentai_cost(pages)
    embedded = EmbeddedLayoutExtractor().extract(_document(multipage_pdf), Limits())
    assert _keys(stage.timetable.entries) == _keys(embedded.timetable.entries)
    assert {e.page for e in stage.timetable.entries} == set(range(1, pages + 1))


def test_transient_errors_are_retried_then_succeed(
    fake_documentai: FakeDocumentAI, grid_pdf: Generated
) -> None:
    fake_documentai.fail_next(503)
    fake_documentai.fail_next(429)
    stage = _extractor(fake_documentai).extract(_document(grid_pdf), Limits())
    assert len(fake_documentai.requests) == 3 and stage.timetable.entries


def test_persistent_unavailability_is_a_transient_backend_error(
    fake_documentai: FakeDocumentAI, grid_pdf: Generated
) -> None:
    fake_documentai.fail_next(503, times=10)
    with pytest.raises(BackendError, match="Document AI is unavailable after 3 attempts") as failed:
        _extractor(fake_documentai).extract(_document(grid_pdf), Limits())
    assert failed.value.transient and len(fake_documentai.requests) == 3  # bounded: 1 + max_retries


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "refused the credentials"), (401, "credentials were refused"), (404, "processor not found")],
)
def test_auth_and_configuration_errors_fail_at_once(
    fake_documentai: FakeDocumentAI, grid_pdf: Generated, status: int, message: str
) -> None:
    fake_documentai.fail_next(status, times=5)
    with pytest.raises(BackendError, match=message) as failed:
        _extractor(fake_documentai).extract(_document(grid_pdf), Limits())
    assert not failed.value.transient and len(fake_documentai.requests) == 1


def test_exhausted_quota_is_a_permanent_failure(fake_documentai: FakeDocumentAI, grid_pdf: Generated) -> None:
    fake_documentai.fail_next(429, times=10)
    with pytest.raises(BackendError, match="quota exhausted") as failed:
        _extractor(fake_documentai).extract(_document(grid_pdf), Limits())
    assert not failed.value.transient and len(fake_documentai.requests) == 3


def test_office_formats_use_the_embedded_reader(fake_documentai: FakeDocumentAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.corpusgen import generate

    ((docx, _),) = generate(tmp_path, count=1, seed=5, formats=["docx"])
    document = Document(
        content=docx.read_bytes(),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename=docx.name,
    )
    stage = _extractor(fake_documentai).extract(document, Limits())
    assert fake_documentai.requests == [] and stage.backend.startswith("embedded:") and stage.cost_usd == 0


def test_missing_configuration_is_a_clear_error(grid_pdf: Generated) -> None:
    extractor = DocumentAILayoutExtractor(project=None, processor_id=None)
    with pytest.raises(BackendError, match="TIMETABLE_DOCUMENTAI_PROJECT") as failed:
        extractor.extract(_document(grid_pdf), Limits())
    assert not failed.value.transient
