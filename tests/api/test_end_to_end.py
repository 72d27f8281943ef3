"""A client's whole journey: submit through the API, the Dagster assets extract it (materialised in
process, as the daemon would launch them), then status, every export and the week view come back
through the API, and another tenant sees none of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.conftest import PREFIX, Api

FORMATS = ["l1_pdf_001.pdf", "l2_docx_001.docx"]  # images take 20-30 s each through OCR: left to manual runs


@pytest.mark.slow
@pytest.mark.parametrize("name", FORMATS)
def test_submit_extract_fetch(
    name: str, make_api: Callable[..., Api], corpus_dir: Path, tmp_path: Path
) -> None:
    dg = pytest.importorskip("dagster")
    from timetable_platform.assets import TIMETABLE_ASSETS
    from timetable_platform.resources import (
        InterpretationResource,
        LayoutExtractionResource,
        StoreResource,
        forget_cached_stores,
    )

    api = make_api()
    key, other = api.new_key("school-a"), api.new_key("school-b")
    path = corpus_dir / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the corpus")
    submitted = api.submit(key, content=path.read_bytes(), filename=name, mode="hybrid")
    assert submitted.status_code == 202
    upload_id = submitted.json()["upload_id"]
    links = submitted.json()["links"]

    store = StoreResource(
        overrides={"data_dir": str(tmp_path), "database_url": api.settings.resolved_database_url}
    )
    resources = {
        "store": store,
        "layout": LayoutExtractionResource(),
        "interpretation": InterpretationResource(),
    }
    home = tmp_path / "dagster-home"
    home.mkdir()
    try:
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            instance.add_dynamic_partitions("uploads", [upload_id])
            result = dg.materialize(
                TIMETABLE_ASSETS, partition_key=upload_id, instance=instance, resources=resources
            )
            assert result.success
    finally:
        forget_cached_stores()

    status = api.client.get(links["self"], headers=key).json()
    assert status["status"] == "succeeded"
    assert status["confidence"]["entries"] > 10
    timetable = api.client.get(links["timetable"], headers=key).json()
    assert len(timetable["entries"]) == status["confidence"]["entries"]
    for fmt, media_type in (
        ("csv", "text/csv"),
        ("ics", "text/calendar"),
        ("fullcalendar", "application/json"),
    ):
        response = api.client.get(links["timetable"], params={"format": fmt}, headers=key)
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    view = api.client.get(links["view"], headers=key)
    assert view.status_code == 200 and timetable["entries"][0]["subject"] in view.text
    for url in (links["self"], links["timetable"], links["view"]):
        assert api.client.get(url, headers=other).status_code == 404
    assert api.client.get(f"{PREFIX}/uploads", headers=other).json()["items"] == []
