"""Teacher review end to end in a real browser: Playwright drives Debian's headless Chromium (never a
downloaded browser) through an upload's edit link: change a block, add one, delete one, mark the
timetable reviewed. Then the API serves the reviewed version, the audit log holds the three changes,
and ``timetable corpus export`` writes a case scoring 1.0 against the review and less against the
extraction.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.api.conftest import PDF_BYTES, PREFIX, make_settings, sample_timetable
from tests.api.test_corpus_export import load_scorer
from tests.support.browser import OFFLINE, chromium
from timetable_platform.api import create_app
from timetable_platform.cli import main
from timetable_platform.settings import Settings
from timetable_platform.store import apikeys, repository, review
from timetable_platform.store.factory import Store, build_store

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


@dataclass
class Served:
    base: str
    store: Store
    settings: Settings


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'api.db'}")
    store = build_store(settings, migrate=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        raise AssertionError("the API did not start")
    try:
        yield Served(base, store, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


def test_a_teacher_corrects_and_reviews_a_timetable_in_the_browser(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with served.store.session_factory.begin() as session:
        key = {"X-API-Key": apikeys.create_api_key(session, "school-a").key}
    api = httpx.Client(base_url=served.base, headers=key, timeout=10)
    upload_id = api.post(f"{PREFIX}/uploads", files={"file": ("t.pdf", PDF_BYTES)}).json()["upload_id"]
    with served.store.session_factory.begin() as session:  # what the pipeline does when it succeeds
        repository.mark_running(session, upload_id, run_id="run-1")
        repository.replace_entries(session, upload_id, sample_timetable())
        repository.mark_succeeded(session, upload_id, run_id="run-1", extractor_version="v1")
    link = api.post(f"{PREFIX}/uploads/{upload_id}/edit-link", params={"ttl_seconds": 3600}).json()["url"]

    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage", OFFLINE]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda dialog: dialog.accept())  # "Delete this block?"
            page.goto(link)
            # the uncertain block is listed first, and the list jumps to it
            page.get_by_role("button", name="Physik (read with 40% confidence)", exact=False).click()
            expect(page.locator(".entry[data-entry-id='e1']")).to_be_focused()

            # change a block: keyboard (Enter on the focused block) opens its form
            page.keyboard.press("Enter")
            form = page.locator("#entry-form")
            expect(form).to_be_visible()
            form.locator("[name=subject]").fill("Physics")
            form.locator("[name=teacher]").fill("Dr Ng")
            with page.expect_navigation():
                form.locator("#save-entry").click()
            expect(page.locator("#message")).to_have_text("Block saved.")

            # add a block
            page.locator("#add-entry").click()
            expect(form).to_be_visible()
            form.locator("[name=subject]").fill("Art")
            form.locator("[name=day]").select_option("WED")
            form.locator("[name=start]").fill("09:00")
            form.locator("[name=end]").fill("10:00")
            form.locator("[name=room]").fill("A1")
            with page.expect_navigation():
                form.locator("#save-entry").click()
            expect(page.locator("#message")).to_have_text("Block added.")
            expect(page.locator(".entry[data-entry-id] .subject", has_text="Art")).to_have_count(1)

            # a change the server refuses explains itself in the form, and nothing is saved
            page.locator(".entry[data-entry-id='e0']").click()
            expect(form).to_be_visible()
            form.locator("[name=end]").fill("08:00")
            form.locator("#save-entry").click()
            expect(page.locator("#form-errors")).to_contain_text("start is after end")
            form.locator("#cancel-edit").click()
            expect(form).to_be_hidden()

            # delete a block (History, Tuesday)
            page.locator(".entry[data-entry-id='e2']").click()
            expect(form).to_be_visible()
            with page.expect_navigation():
                form.locator("#delete-entry").click()
            expect(page.locator("#message")).to_have_text("Block deleted.")
            expect(page.locator(".entry[data-entry-id='e2']")).to_have_count(0)

            with page.expect_navigation():
                page.get_by_role("button", name="Mark as reviewed").click()
            expect(page.locator(".state.reviewed")).to_have_count(1)

            # phone width: no sideways scrolling, the controls still there
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            expect(page.locator("#mark-reviewed")).to_be_visible()
            page.screenshot(path=str(tmp_path / "review-phone.png"), full_page=True)
        finally:
            browser.close()

    served_json = api.get(f"{PREFIX}/uploads/{upload_id}/timetable").json()
    assert [(e["day"], e["subject"]) for e in served_json["entries"]] == [
        ("MON", "Maths"), ("MON", "Physics"), ("WED", "Art"),
    ]
    assert served_json["entries"][1]["teacher"] == "Dr Ng"
    with served.store.session_factory() as session:
        actions = [e.action for e in review.changes(session, upload_id)]
    assert actions == [
        "timetable.entry_updated", "timetable.entry_added", "timetable.entry_deleted", "timetable.reviewed",
    ]

    # the review is an evaluation case: 1.0 against itself, less against the extraction
    out = tmp_path / "corpus"
    monkeypatch.setenv("TIMETABLE_DATABASE_URL", served.settings.resolved_database_url)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(served.settings.data_dir))
    assert main(["corpus", "export", "--out", str(out)]) == 0
    truth_file = out / f"school-a_{upload_id}.json"
    assert (out / f"school-a_{upload_id}.pdf").is_file()
    scorer = load_scorer()
    truth = json.loads(truth_file.read_text())
    extracted = api.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"version": "extracted"}).json()
    assert scorer.summarise({"case": scorer.score_doc(truth, served_json)})["entry_f1"] == 1.0
    assert scorer.summarise({"case": scorer.score_doc(truth, extracted)})["entry_f1"] < 1.0
