"""The upload resource end to end over a real store: submit, track, fetch, view, reprocess, erase."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import func, select

from tests.api.conftest import PDF_BYTES, PREFIX, Api
from timetable_platform.api import sharing
from timetable_platform.store import apikeys, audit
from timetable_platform.store.api_models import IdempotencyRecord
from timetable_platform.store.blobs import upload_key
from timetable_platform.store.models import QueueMessage, Upload

PROBLEM = "application/problem+json"


def _upload_count(api: Api) -> int:
    with api.store.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Upload)) or 0


def test_submit_track_fetch_every_format(any_db_api: Api) -> None:
    api = any_db_api
    key = api.new_key("school-a")
    response = api.submit(key, label="Year 7", mode="document_ai")
    assert response.status_code == 202, response.text
    body = response.json()
    upload_id = body["upload_id"]
    assert body["status"] == "queued"
    assert response.headers["location"] == f"{PREFIX}/uploads/{upload_id}" == body["links"]["self"]

    # the blob, the row and one queue message exist
    assert api.store.blobs.get(upload_key("school-a", upload_id)) == PDF_BYTES
    messages = api.store.queue.receive(10, visibility_timeout=1)
    assert [m.body["upload_id"] for m in messages] == [upload_id]

    status = api.client.get(body["links"]["self"], headers=key).json()
    assert (status["status"], status["mode"], status["label"]) == ("queued", "document_ai", "Year 7")
    assert status["media_type"] == "application/pdf"
    assert status["size_bytes"] == len(PDF_BYTES)

    not_ready = api.client.get(body["links"]["timetable"], headers=key)
    assert not_ready.status_code == 409
    assert not_ready.headers["content-type"] == PROBLEM
    assert not_ready.json()["upload_status"] == "queued"

    timetable = api.finish(upload_id)
    status = api.client.get(body["links"]["self"], headers=key).json()
    assert status["status"] == "succeeded"
    assert status["confidence"]["entries"] == 3
    assert status["attempts"] == 1

    as_json = api.client.get(body["links"]["timetable"], headers=key).json()
    assert [e["subject"] for e in as_json["entries"]] == [e.subject for e in timetable.entries]
    assert as_json["owner"] == {"kind": "class", "name": "7A"}

    as_csv = api.client.get(body["links"]["timetable"], params={"format": "csv"}, headers=key)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert (rows[0]["day"], rows[0]["start"], rows[0]["subject"]) == ("MON", "08:45", "Maths")

    as_ics = api.client.get(body["links"]["timetable"], params={"format": "ics"}, headers=key)
    events = icalendar.Calendar.from_ical(as_ics.content).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in events)[0].startswith("History")
    assert all("RRULE" in e for e in events)

    events = api.client.get(body["links"]["timetable"], params={"format": "fullcalendar"}, headers=key).json()
    assert len(events) == 3
    assert all("daysOfWeek" in e or "rrule" in e for e in events)

    page = api.client.get(body["links"]["view"], headers=key)
    assert page.headers["content-type"].startswith("text/html")
    assert "Physik" in page.text and "Maths" in page.text
    assert f"{PREFIX}/uploads/{upload_id}/timetable?format=ics" in page.text

    with api.store.session_factory() as session:
        actions = {e.action for e in audit.events(session, tenant="school-a", upload_id=upload_id)}
    assert {"upload.created", "timetable.read.json", "timetable.view"} <= actions


def test_tenants_cannot_see_each_other(any_db_api: Api) -> None:
    api = any_db_api
    key_a, key_b = api.new_key("school-a"), api.new_key("school-b")
    upload_id = api.submit(key_a).json()["upload_id"]
    api.finish(upload_id)
    base = f"{PREFIX}/uploads/{upload_id}"
    for method, path in (
        ("GET", base),
        ("GET", f"{base}/timetable"),
        ("GET", f"{base}/view"),
        ("POST", f"{base}/reprocess"),
        ("DELETE", base),
    ):
        response = api.client.request(method, path, headers=key_b)
        assert response.status_code == 404, (method, path)
        assert response.headers["content-type"] == PROBLEM
    assert api.client.get(f"{PREFIX}/uploads", headers=key_b).json()["items"] == []
    # the same bytes are a new upload for another tenant, not a duplicate
    other = api.submit(key_b)
    assert other.status_code == 202
    assert other.json()["upload_id"] != upload_id
    assert api.client.get(base, headers=key_a).status_code == 200


def test_same_bytes_same_mode_is_the_existing_upload_unless_forced(api: Api) -> None:
    key = api.new_key("school-a")
    first = api.submit(key, mode="hybrid").json()["upload_id"]
    again = api.submit(key, mode="hybrid", filename="renamed.pdf")
    assert again.status_code == 200
    assert again.json() | {"duplicate": None} == {
        "upload_id": first,
        "status": "queued",
        "duplicate": None,
        "links": again.json()["links"],
    }
    assert again.json()["duplicate"] is True
    other_mode = api.submit(key, mode="fallback")
    assert other_mode.status_code == 202
    forced = api.submit(key, mode="hybrid", force=True)
    assert forced.status_code == 202
    assert len({first, other_mode.json()["upload_id"], forced.json()["upload_id"]}) == 3
    assert _upload_count(api) == 3


def test_idempotency_key_replays_the_first_response(any_db_api: Api) -> None:
    api = any_db_api
    key = api.new_key("school-a")
    headers = {**key, "Idempotency-Key": "order-42"}
    first = api.submit(headers)
    replay = api.submit(headers)
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert _upload_count(api) == 1
    with api.store.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(QueueMessage)) == 1

    # a retry while the first request is still being processed waits its turn
    with api.store.session_factory.begin() as session:
        session.add(IdempotencyRecord(tenant="school-a", key="busy", fingerprint="-"))
    busy = api.submit({**key, "Idempotency-Key": "busy"})
    assert busy.status_code == 409 and busy.headers["retry-after"]

    reused = api.submit(headers, content=PDF_BYTES + b"%changed\n")
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency_key_reused")
    # keys are per tenant
    other = api.submit({**api.new_key("school-b"), "Idempotency-Key": "order-42"})
    assert other.status_code == 202
    assert other.json()["upload_id"] != first.json()["upload_id"]


def test_list_pages_and_filters(api: Api) -> None:
    key = api.new_key("school-a")
    ids = [api.submit(key, content=PDF_BYTES + f"%{n}\n".encode()).json()["upload_id"] for n in range(5)]
    api.finish(ids[0])
    seen: list[str] = []
    url, params = f"{PREFIX}/uploads", {"limit": 2}
    while True:
        page = api.client.get(url, params=params, headers=key).json()
        seen += [item["upload_id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        assert page["links"]["next"].startswith(f"{PREFIX}/uploads?cursor=")
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == list(reversed(ids))  # newest first, each once
    done = api.client.get(url, params={"status": "succeeded"}, headers=key).json()["items"]
    assert [u["upload_id"] for u in done] == [ids[0]]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.client.get(url, params={"created_after": future}, headers=key).json()["items"] == []
    assert len(api.client.get(url, params={"created_before": future}, headers=key).json()["items"]) == 5


def test_reprocess_requeues_with_another_mode(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key, mode="hybrid").json()["upload_id"]
    url = f"{PREFIX}/uploads/{upload_id}/reprocess"
    busy = api.client.post(url, headers=key)
    assert busy.status_code == 409
    assert busy.json()["upload_status"] == "queued"
    api.store.queue.purge_upload(upload_id)
    api.finish(upload_id)
    finished_at = api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).json()["updated_at"]
    again = api.client.post(url, headers=key, json={"mode": "document_ai"})
    assert again.status_code == 202, again.text
    assert (again.json()["status"], again.json()["mode"]) == ("queued", "document_ai")
    # A new updated_at names the new enqueueing: the queue sensor keys the new run on it.
    assert datetime.fromisoformat(again.json()["updated_at"]) > datetime.fromisoformat(finished_at)
    assert [m.body["upload_id"] for m in api.store.queue.receive(10)] == [upload_id]
    assert api.client.post(url, headers=key, json={"mode": "nonsense"}).status_code == 422
    with api.store.session_factory() as session:
        row = session.get(Upload, upload_id)
        assert row is not None and row.queued_at > row.created_at  # latency counts from the reprocess


def test_delete_erases_blob_rows_and_pending_message(any_db_api: Api) -> None:
    api = any_db_api
    key = api.new_key("school-a")
    upload_id = api.submit(key, callback_url="https://93.184.215.14/hook").json()["upload_id"]
    api.finish(upload_id)
    api.store.blobs.put(f"results/{upload_id}/timetable.json", b"{}")
    api.store.queue.send({"upload_id": upload_id})
    response = api.client.delete(f"{PREFIX}/uploads/{upload_id}", headers=key)
    assert response.status_code == 204
    assert list(api.store.blobs.list(f"uploads/school-a/{upload_id}/")) == []
    assert list(api.store.blobs.list(f"results/{upload_id}/")) == []
    assert api.store.queue.receive(10) == []
    assert _upload_count(api) == 0
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).status_code == 404
    assert api.client.delete(f"{PREFIX}/uploads/{upload_id}", headers=key).status_code == 404
    with api.store.session_factory() as session:
        assert "upload.deleted" in {e.action for e in audit.events(session, upload_id=upload_id)}


def test_status_links_to_the_dagster_run_when_configured(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(dagster_ui_url="http://dagster.internal:3000/")
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)
    status = api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).json()
    assert status["dagster_run_url"] == "http://dagster.internal:3000/runs/run-1"
    assert json.loads(json.dumps(status))["timings"] == {}


def test_every_corpus_format_is_accepted(api: Api, corpus_dir) -> None:  # type: ignore[no-untyped-def]
    key = api.new_key("school-a")
    expected = {
        ".pdf": "application/pdf",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for suffix, media_type in expected.items():
        path = next(p for p in sorted(corpus_dir.iterdir()) if p.suffix == suffix)
        response = api.submit(key, content=path.read_bytes(), filename=path.name)
        assert response.status_code == 202, (path.name, response.text)
        status = api.client.get(response.json()["links"]["self"], headers=key).json()
        assert (status["media_type"], status["filename"]) == (media_type, path.name)
    csv_doc = api.submit(key, content=b"day,start,end,subject\nMON,08:45,09:40,Maths\n", filename="t.csv")
    assert csv_doc.status_code == 202


def test_share_links_open_the_view_and_exports_without_a_key(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    other_id = api.submit(key, content=PDF_BYTES + b"%2\n").json()["upload_id"]
    api.finish(upload_id)
    api.finish(other_id)
    assert (
        api.client.post(f"{PREFIX}/uploads/{upload_id}/share", headers=api.new_key("school-b")).status_code
        == 404
    )
    shared = api.client.post(f"{PREFIX}/uploads/{upload_id}/share", params={"ttl_seconds": 3600}, headers=key)
    assert shared.status_code == 201
    url = shared.json()["url"]
    assert url.startswith(f"http://testserver{PREFIX}/uploads/{upload_id}/view?")  # absolute, from the request
    page = api.client.get(url)  # no key
    assert page.status_code == 200 and "Maths" in page.text
    query = url.split("?", 1)[1]
    assert f"format=csv&amp;{query.replace('&', '&amp;')}" in page.text  # export links carry the credentials
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable?format=csv&{query}").status_code == 200

    assert api.client.get(f"{PREFIX}/uploads/{other_id}/view?{query}").status_code == 401  # another upload
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}?{query}").status_code == 401  # not the status
    tampered = query[:-1] + ("0" if query[-1] != "0" else "1")
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/view?{tampered}").status_code == 401
    with api.store.session_factory() as session:
        secret = apikeys.tenant_secret(session, "school-a")
    assert secret is not None
    expired = sharing.share_query(secret, upload_id, int(time.time()) - 1)
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/view?{expired}").status_code == 401
    with api.store.session_factory.begin() as session:
        apikeys.rotate_callback_secret(session, "school-a")
    assert api.client.get(url).status_code == 401  # rotating the tenant's secret revokes every link


def test_share_links_start_with_the_public_url_when_it_is_set(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(public_url="https://timetables.school.example/")
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)
    url = api.client.post(f"{PREFIX}/uploads/{upload_id}/share", headers=key).json()["url"]
    assert url.startswith(f"https://timetables.school.example{PREFIX}/uploads/{upload_id}/view?expires=")


def test_needs_review_is_served_with_its_reasons_and_a_failed_upload_says_why(api: Api) -> None:
    from timetable_platform.store import repository

    key = api.new_key("school-a")
    doubtful = api.submit(key, content=PDF_BYTES + b"1").json()["upload_id"]
    reason = "Two lessons overlap on Monday, 14:15-15:10 (Maths) and 15:00-15:15 (Storytime): check the printed times."
    api.finish(doubtful)
    with api.store.session_factory.begin() as session:
        repository.mark_succeeded(session, doubtful, review_reasons=[reason])

    status = api.client.get(f"{PREFIX}/uploads/{doubtful}", headers=key).json()
    assert status["status"] == "needs_review" and status["review_reasons"] == [reason]
    served = api.client.get(f"{PREFIX}/uploads/{doubtful}/timetable", headers=key)
    assert served.status_code == 200 and len(served.json()["entries"]) == 3
    view = api.client.get(f"{PREFIX}/uploads/{doubtful}/view", headers=key)
    assert view.status_code == 200
    listed = api.client.get(f"{PREFIX}/uploads", params={"status": "needs_review"}, headers=key).json()
    assert [u["upload_id"] for u in listed["items"]] == [doubtful]

    failed = api.submit(key, content=PDF_BYTES + b"2").json()["upload_id"]
    with api.store.session_factory.begin() as session:
        repository.mark_running(session, failed, run_id="r")
        repository.mark_failed(
            session, failed, error="merged_timetable: check_failed: No lessons could be read from the document."
        )
    refused = api.client.get(f"{PREFIX}/uploads/{failed}/timetable", headers=key)
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["upload_status"] == "failed" and problem["type"].endswith("upload_failed")
    assert "No lessons could be read from the document." in problem["detail"]
    assert "retry-after" not in refused.headers


def test_a_document_over_the_page_limit_is_refused_at_submission(make_api) -> None:  # type: ignore[no-untyped-def]
    import io

    from reportlab.pdfgen import canvas

    api = make_api(max_pages=1)
    key = api.new_key("school")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for _ in range(2):
        pdf.drawString(72, 720, "Monday 9:00-10:00 Maths")
        pdf.showPage()
    pdf.save()
    response = api.submit(key, content=buffer.getvalue(), filename="two-pages.pdf")
    assert response.status_code == 413
    problem = response.json()
    assert "2 pages" in problem["detail"] and problem["status"] == 413
    assert api.client.get(f"{PREFIX}/uploads", headers=key).json()["items"] == []  # no row was made
