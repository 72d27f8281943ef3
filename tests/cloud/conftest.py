"""Cloud backends against local fakes: the real SDK clients, the real asset graph, a real store.

Documents come from the project's corpus generator (fixed seed), chosen by their features so a
change in the generator's rotation does not silently change what is tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from tests.corpusgen import generate
from tests.dagster.conftest import Platform, dagster_instance, embedded_overrides
from timetable_platform.domain.model import Timetable
from timetable_platform.fakes.anthropic_server import FakeAnthropic, serve_anthropic
from timetable_platform.fakes.documentai_server import FakeDocumentAI, serve_documentai
from timetable_platform.resources import (
    InterpretationResource,
    LayoutExtractionResource,
    StoreResource,
    forget_cached_stores,
)

__all__ = ["dagster_instance"]  # the fixture, re-exported for this folder

SEED = 2026
COUNT = 8


@dataclass(frozen=True)
class Generated:
    path: Path
    truth: Timetable
    features: dict[str, object]

    @property
    def pages(self) -> int:
        from timetable_platform.fakes.documentai_server import pdf_page_count

        return pdf_page_count(self.path.read_bytes())


@pytest.fixture(scope="session")
def generated_pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Generated]:
    folder = tmp_path_factory.mktemp("cloud-corpus")
    written = generate(folder, count=COUNT, seed=SEED, formats=["pdf"])
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    return [
        Generated(doc, Timetable.model_validate(json.loads(truth.read_text())), features)
        for (doc, truth), features in zip(written, manifest, strict=True)
    ]


@pytest.fixture(scope="session")
def grid_pdf(generated_pdfs: list[Generated]) -> Generated:
    """A one-page grid with merged cells (double lessons, full-width breaks)."""
    for doc in generated_pdfs:
        f = doc.features
        if f["style"] == "grid" and f["doubles"] and f["merged_breaks"] and not f["weeks"] and doc.pages == 1:
            return doc
    pytest.skip("the generator made no one-page grid with merged cells for this seed")


@pytest.fixture(scope="session")
def multipage_pdf(generated_pdfs: list[Generated]) -> Generated:
    for doc in generated_pdfs:
        if doc.pages >= 2 and doc.features["style"] != "list":
            return doc
    pytest.skip("the generator made no multi-page document for this seed")


@pytest.fixture
def fake_documentai() -> Iterator[FakeDocumentAI]:
    with serve_documentai() as fake:
        yield fake


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with serve_anthropic() as fake:
        yield fake


def documentai_overrides(fake: FakeDocumentAI, **more: str) -> dict[str, str]:
    return {
        "documentai_project": "school-timetables",
        "documentai_location": "eu",
        "documentai_processor_id": "f00dfeed",
        "documentai_endpoint": fake.endpoint,
        "documentai_max_retries": "2",
        "documentai_retry_initial_seconds": "0.01",
        **more,
    }


def claude_overrides(fake: FakeAnthropic, **more: str) -> dict[str, str]:
    return {
        "anthropic_api_key": "sk-ant-test",
        "anthropic_base_url": fake.base_url,
        "claude_model": "claude-sonnet-4-5",
        "claude_max_retries": "2",
        **more,
    }


@pytest.fixture
def cloud_platform(
    tmp_path: Path,
    dagster_instance: dg.DagsterInstance,
    fake_documentai: FakeDocumentAI,
    fake_anthropic: FakeAnthropic,
) -> Iterator[Platform]:
    """Embedded store (SQLite, local blobs, database queue); Document AI and Claude on the fakes."""
    platform = Platform(StoreResource(overrides=embedded_overrides(tmp_path)), dagster_instance)
    platform.layout = LayoutExtractionResource(
        backend="documentai",
        retry_base_seconds=0.01,
        max_retries=1,
        overrides=documentai_overrides(fake_documentai),
    )
    platform.interpretation = InterpretationResource(
        backend="claude", retry_base_seconds=0.01, max_retries=1, overrides=claude_overrides(fake_anthropic)
    )
    yield platform
    forget_cached_stores()
