"""The web-styled generator: each family through real Chromium gives a picture that is not blank and
differs from the others' and prints what its truth says; the truth has the schema's shape; same seed,
same pages; ``generate`` writes the pairs, the manifest and the degraded formats."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path

import jsonschema
import pytest

from tests.corpusgen import web
from tests.support.browser import chromium

pytest.importorskip("playwright.sync_api")
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "timetable_platform/domain/timetable.schema.json").read_text()
)


def _squash(text: str) -> str:
    """Letters and digits only, case-folded: 'B R E A K' and CSS letter-spacing both read 'break'."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def test_build_is_pure_and_seeded() -> None:
    for family in (*web.FAMILIES, *web.EXTRA_FAMILIES):
        a, b = web.build(family, 7, 3), web.build(family, 7, 3)
        assert a.html == b.html and a.truth == b.truth
        assert web.build(family, 8, 3).html != a.html


def test_every_family_renders_a_distinct_picture_that_prints_its_truth() -> None:
    from PIL import Image, ImageStat

    chromium()  # skips cleanly when the browser is missing
    pictures = set()
    with web.browser() as chrome:
        for index, family in enumerate((*web.FAMILIES, *web.EXTRA_FAMILIES)):
            page = web.build(family, 5, index)
            jsonschema.validate(page.truth.to_json_dict(), SCHEMA)
            lessons = [e for e in page.truth.entries if e.kind == "lesson"]
            assert len(lessons) >= 4, family
            png, text = web.screenshot(chrome, page)
            image = Image.open(io.BytesIO(png))
            width, height = image.size
            assert 380 <= width <= 3000 and 300 <= height <= 14000, (family, image.size)
            assert max(ImageStat.Stat(image.convert("L")).stddev) > 20, f"{family} looks blank"
            pictures.add(image.convert("L").resize((48, 48)).tobytes())
            visible = _squash(text)
            for entry in page.truth.entries:
                for value in (entry.subject, entry.teacher, entry.room, entry.group):
                    assert value is None or _squash(value) in visible, (family, value)
    assert len(pictures) == len(web.FAMILIES) + len(web.EXTRA_FAMILIES)


def test_a_printed_asc_export_shares_periods_between_batches_and_prints_lunch_once() -> None:
    """The printed aSc family: a period split between two batches is two lessons in one slot, one per
    batch; the lunch printed once down the week is one break a day, without a period number."""
    for index in range(6):
        page = web.build("asc_print", 3, index)
        lessons = [e for e in page.truth.entries if e.kind == "lesson"]
        slots: dict[tuple[str, str | None], list[str | None]] = {}
        for e in lessons:
            slots.setdefault((e.day, e.start), []).append(e.group)
        shared = [groups for groups in slots.values() if len(groups) > 1]
        assert shared and all(len(g) == 2 and g[0] != g[1] and None not in g for g in shared)
        assert all(re.search(r"\([A-Z]{3}\d{3}\)$", e.subject) for e in lessons)
        breaks = [e for e in page.truth.entries if e.kind == "break"]
        assert all(e.period is None for e in breaks) and len({e.day for e in breaks}) == len(breaks)


def test_generate_writes_pairs_manifest_and_degraded_formats(tmp_path: Path) -> None:
    chromium()
    written = web.generate(
        tmp_path, count=3, seed=2, formats=["png", "scan", "photo"], families=["list", "dark"]
    )
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert [(m["family"], m["format"]) for m in manifest] == [
        ("list", "png"),
        ("dark", "scan"),
        ("list", "photo"),
    ]
    for (path, truth_path), meta in zip(written, manifest, strict=True):
        truth = json.loads(truth_path.read_text())
        jsonschema.validate(truth, SCHEMA)
        assert (
            path.name
            == truth["source"]["filename"]
            == f"{meta['name']}.{'png' if meta['format'] == 'png' else 'jpg'}"
        )
        assert path.read_bytes()[:3] == (b"\x89PN" if meta["format"] == "png" else b"\xff\xd8\xff")
        assert meta["language"] in web.LANGS
    with pytest.raises(ValueError, match="tiff"):
        web.generate(tmp_path, count=1, formats=["tiff"])


def test_pdf_format_prints_a_text_layer_with_the_truth(tmp_path: Path) -> None:
    """Each family printed to PDF by Chromium: a digital PDF whose text layer holds every subject,
    teacher and room of the truth, on as many sheets as the truth's source says."""
    import pypdfium2

    chromium()
    written = web.generate(tmp_path, count=len(web.FAMILIES), seed=4, formats=["pdf"])
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert {m["features"]["paper"] for m in manifest} <= set(web.PAPERS)
    for (path, truth_path), meta in zip(written, manifest, strict=True):
        truth = json.loads(truth_path.read_text())
        jsonschema.validate(truth, SCHEMA)
        assert path.suffix == ".pdf" and path.read_bytes()[:5] == b"%PDF-"
        assert truth["source"]["media_type"] == "application/pdf"
        pdf = pypdfium2.PdfDocument(path)
        try:  # the text in content-stream order: Chromium writes each box's text together
            assert len(pdf) == truth["source"]["pages"] == meta["features"]["pages"]
            text = _squash("".join(page.get_textpage().get_text_range() for page in pdf))
        finally:
            pdf.close()
        for entry in truth["entries"]:
            for key in ("subject", "teacher", "room", "group"):
                value = entry.get(key)
                assert value is None or _squash(value) in text, (meta["family"], value)
