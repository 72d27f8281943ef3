"""Teacher review over the API: versions, If-Match, validation, audit, edit links, reprocess, erasure,
and two editors racing on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.api.conftest import PREFIX, Api, sample_timetable
from timetable_platform.api.edit_links import EDIT_TOKEN_HEADER
from timetable_platform.store import apikeys, review
from timetable_platform.store.api_models import AuditEvent
from timetable_platform.store.review_models import TimetableVersion


def finished_upload(api: Api, tenant: str = "school-a") -> tuple[str, dict[str, str]]:
    key = api.new_key(tenant)
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)
    return upload_id, key


def entries(api: Api, upload_id: str, headers: dict[str, str], version: str = "latest") -> Any:
    response = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable/entries", params={"version": version}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == response.json()["etag"]
    return response.json()


def test_a_correction_becomes_the_served_version_and_the_extraction_stays(api: Api) -> None:
    upload_id, key = finished_upload(api)
    status = api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).json()
    assert status["links"]["entries"] == f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    before = entries(api, upload_id, key)
    assert before["version"] == "extracted" and [e["id"] for e in before["entries"]] == ["e0", "e1", "e2"]
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"

    missing = api.client.patch(f"{url}/e1", json={"subject": "Physics"}, headers=key)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"

    changed = api.client.patch(
        f"{url}/e1", json={"subject": "Physics", "teacher": "Dr Ng"}, headers={**key, "If-Match": before["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == "reviewed" and changed.json()["revision"] == 1
    assert changed.headers["ETag"] != before["etag"]

    stale = api.client.patch(f"{url}/e0", json={"room": "R9"}, headers={**key, "If-Match": before["etag"]})
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == changed.headers["ETag"]

    # Served: JSON, CSV and the week view show the correction; the extracted version is unchanged.
    served = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key)
    assert [e["subject"] for e in served.json()["entries"]] == ["Maths", "Physics", "History"]
    assert served.headers["ETag"] == f"W/{changed.headers['ETag']}"
    csv = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"format": "csv"}, headers=key).text
    assert "Physics" in csv and "Physik" not in csv
    extracted = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"version": "extracted"}, headers=key)
    assert [e["subject"] for e in extracted.json()["entries"]] == ["Maths", "Physik", "History"]
    assert "Physics" in api.client.get(f"{PREFIX}/uploads/{upload_id}/view", headers=key).text

    # The audit log says who, when, before and after.
    with api.store.session_factory() as session:
        events = review.changes(session, upload_id)
    assert [e.action for e in events] == ["timetable.entry_updated"]
    detail = json.loads(events[0].detail or "")
    assert detail["before"]["subject"] == "Physik" and detail["after"]["subject"] == "Physics"
    assert detail["after"]["teacher"] == "Dr Ng" and detail["revision"] == 1
    assert events[0].api_key_id is not None and events[0].at is not None


def test_changes_are_checked_like_an_extraction(api: Api) -> None:
    upload_id, key = finished_upload(api)
    etag = entries(api, upload_id, key)["etag"]
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    headers = {**key, "If-Match": etag}
    for body, reason in (
        ({"start": "25:00"}, "does not match"),
        ({"start": "10:00", "end": "09:00"}, "start is after end"),
        ({"start": "09:00"}, "overlaps"),  # a new clash with Maths (08:45-09:40)
        ({"day": "XYZ"}, "is not one of"),
        ({"subject": ""}, None),
    ):
        response = api.client.patch(f"{url}/e1", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        if reason:
            assert any(reason in r for r in response.json()["reasons"]), response.json()
    assert api.client.patch(f"{url}/e1", json={"colour": "red"}, headers=headers).status_code == 422
    assert api.client.post(url, json={"subject": "Art"}, headers=headers).status_code == 422  # no day
    assert api.client.patch(f"{url}/nope", json={"room": "R1"}, headers=headers).status_code == 404
    # nothing was saved: the extracted version is still the one served, with the same tag
    assert entries(api, upload_id, key)["etag"] == etag


def test_add_delete_and_mark_reviewed(api: Api) -> None:
    upload_id, key = finished_upload(api)
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    etag = entries(api, upload_id, key)["etag"]
    added = api.client.post(
        url, json={"day": "WED", "start": "09:00", "end": "10:00", "subject": "Art", "room": "A1"},
        headers={**key, "If-Match": etag},
    )
    assert added.status_code == 201, added.text
    new_id = added.json()["entry_id"]
    deleted = api.client.delete(f"{url}/e2", headers={**key, "If-Match": added.headers["ETag"]})
    assert deleted.status_code == 200
    assert [e["id"] for e in deleted.json()["entries"]] == ["e0", "e1", new_id]
    marked = api.client.post(f"{PREFIX}/uploads/{upload_id}/review", headers={**key, "If-Match": deleted.headers["ETag"]})
    assert marked.status_code == 200 and marked.json()["reviewed_at"]
    status = api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).json()
    assert status["status"] == "succeeded"
    with api.store.session_factory() as session:
        cases = review.reviewed_cases(session)
        assert [c.upload.id for c in cases] == [upload_id]
        assert [e.subject for e in cases[0].version.timetable.entries] == ["Maths", "Physik", "Art"]
        actions = [e.action for e in review.changes(session, upload_id)]
    assert actions == ["timetable.entry_added", "timetable.entry_deleted", "timetable.reviewed"]


def test_reprocess_keeps_the_reviewed_version_unless_asked_to_replace_it(api: Api) -> None:
    upload_id, key = finished_upload(api)
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    etag = entries(api, upload_id, key)["etag"]
    assert api.client.patch(f"{url}/e0", json={"room": "R7"}, headers={**key, "If-Match": etag}).status_code == 200
    assert api.client.post(f"{PREFIX}/uploads/{upload_id}/reprocess", headers=key).status_code == 202
    # while it runs, and after, the reviewed version is served
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key).json()["entries"][0]["room"] == "R7"
    api.finish(upload_id)
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key).json()["entries"][0]["room"] == "R7"
    # a reprocess the queue refuses keeps the review
    original_send = api.store.queue.send

    def refuse(_message: object) -> None:
        raise ConnectionError("queue down")

    api.store.queue.send = refuse  # type: ignore[method-assign]
    refused = api.client.post(f"{PREFIX}/uploads/{upload_id}/reprocess", json={"replace_reviewed": True}, headers=key)
    api.store.queue.send = original_send  # type: ignore[method-assign]
    assert refused.status_code == 503
    assert entries(api, upload_id, key)["version"] == "reviewed"
    replaced = api.client.post(f"{PREFIX}/uploads/{upload_id}/reprocess", json={"replace_reviewed": True}, headers=key)
    assert replaced.status_code == 202
    api.finish(upload_id)
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key).json()["entries"][0]["room"] == "R101"
    assert entries(api, upload_id, key)["version"] == "extracted"


def test_edit_links_open_the_edit_page_and_change_only_their_upload(api: Api) -> None:
    upload_id, key = finished_upload(api)
    other_id = api.submit(key, content=b"%PDF-1.4\n%other\n%%EOF\n", filename="o.pdf").json()["upload_id"]
    api.finish(other_id)
    link = api.client.post(f"{PREFIX}/uploads/{upload_id}/edit-link", params={"ttl_seconds": 600}, headers=key)
    assert link.status_code == 201
    query = parse_qs(urlsplit(link.json()["url"]).query)
    expires, token = query["expires"][0], query["token"][0]
    page = api.client.get(f"{PREFIX}/uploads/{upload_id}/edit", params={"expires": expires, "token": token})
    assert page.status_code == 200
    assert 'data-entry-id="e1"' in page.text and "Mark as reviewed" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    # the low-confidence Physik block is listed first to check
    assert page.text.index("Check these first") < page.text.index('<table class="week"')
    assert api.client.get(f"{PREFIX}/assets/review.js").headers["content-type"].startswith("text/javascript")

    etag = entries(api, upload_id, key)["etag"]
    stranger = api.new_key("school-b")
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable/entries", headers=stranger).status_code == 404
    assert api.client.patch(
        f"{PREFIX}/uploads/{upload_id}/timetable/entries/e0", json={"room": "X"}, headers={**stranger, "If-Match": etag}
    ).status_code == 404
    edit = {EDIT_TOKEN_HEADER: f"{expires}.{token}", "If-Match": etag}
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    ok = api.client.patch(f"{url}/e1", json={"subject": "Physics"}, headers=edit)
    assert ok.status_code == 200, ok.text
    # not for another upload, not for other routes, and a read-only share token is no edit token
    other = f"{PREFIX}/uploads/{other_id}/timetable/entries/e0"
    assert api.client.patch(other, json={"room": "X"}, headers=edit).status_code == 401
    assert api.client.post(f"{PREFIX}/uploads/{upload_id}/reprocess", headers=edit).status_code == 401
    assert api.client.post(f"{PREFIX}/uploads/{upload_id}/edit-link", headers=edit).status_code == 401
    share = api.client.post(f"{PREFIX}/uploads/{upload_id}/share", headers=key).json()["url"]
    share_q = parse_qs(urlsplit(share).query)
    as_share = {EDIT_TOKEN_HEADER: f"{share_q['expires'][0]}.{share_q['token'][0]}", "If-Match": ok.headers["ETag"]}
    assert api.client.patch(f"{url}/e0", json={"room": "X"}, headers=as_share).status_code == 401
    assert api.client.get(
        f"{PREFIX}/uploads/{upload_id}/edit", params={"expires": share_q["expires"][0], "token": share_q["token"][0]}
    ).status_code == 401
    # guessing tokens on the edit page spends the address's failed-authentication budget
    bad = {"expires": expires, "token": "0" * 64}
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/edit", params=bad).headers["content-type"] == "application/problem+json"
    # rotating the tenant's secret revokes the link
    with api.store.session_factory.begin() as session:
        apikeys.rotate_callback_secret(session, "school-a")
    edit["If-Match"] = ok.headers["ETag"]
    assert api.client.patch(f"{url}/e0", json={"room": "R2"}, headers=edit).status_code == 401
    with api.store.session_factory() as session:
        events = review.changes(session, upload_id)
    assert json.loads(events[0].detail or "")["actor"] == f"edit-link:{expires}"


def test_erasure_removes_reviewed_versions_and_their_content_in_the_audit_log(api: Api) -> None:
    upload_id, key = finished_upload(api)
    etag = entries(api, upload_id, key)["etag"]
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    assert api.client.patch(f"{url}/e0", json={"teacher": "Ms Secret"}, headers={**key, "If-Match": etag}).status_code == 200
    assert api.client.delete(f"{PREFIX}/uploads/{upload_id}", headers=key).status_code == 204
    with api.store.session_factory() as session:
        assert session.scalars(select(TimetableVersion).where(TimetableVersion.upload_id == upload_id)).all() == []
        details = session.scalars(select(AuditEvent.detail).where(AuditEvent.upload_id == upload_id)).all()
    assert not any("Ms Secret" in (d or "") for d in details)


def race(api: Api, upload_id: str, key: dict[str, str]) -> list[Any]:
    """Two editors change the same version at the same moment."""
    etag = entries(api, upload_id, key)["etag"]
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def editor(slot: int, body: dict[str, str]) -> None:
        barrier.wait()
        results[slot] = api.client.patch(f"{url}/e{slot}", json=body, headers={**key, "If-Match": etag})

    threads = [threading.Thread(target=editor, args=(i, {"room": f"Room {i}"})) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_two_editors_one_wins_one_gets_412_and_nothing_is_lost(
    database: str, make_api: Callable[..., Api], request: pytest.FixtureRequest
) -> None:
    api = make_api(request.getfixturevalue("postgres_url")) if database == "postgres" else make_api()
    upload_id, key = finished_upload(api)
    for _ in range(3):  # a few rounds: the race must hold whichever editor gets there first
        results = race(api, upload_id, key)
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200)
        loser = next(r for r in results if r.status_code == 412)
        assert loser.json()["current_etag"] == winner.headers["ETag"]
        # the loser reloads and redoes the change on the new version: both changes are kept
        slot = results.index(loser)
        redo = api.client.patch(
            f"{PREFIX}/uploads/{upload_id}/timetable/entries/e{slot}",
            json={"room": f"Room {slot}"},
            headers={**key, "If-Match": winner.headers["ETag"]},
        )
        assert redo.status_code == 200
        served = entries(api, upload_id, key)["entries"]
        assert served[0]["room"] == "Room 0" and served[1]["room"] == "Room 1"
        # reset the rooms for the next round, so each round changes something
        etag = redo.headers["ETag"]
        for i in range(2):
            etag = api.client.patch(
                f"{PREFIX}/uploads/{upload_id}/timetable/entries/e{i}", json={"room": None},
                headers={**key, "If-Match": etag},
            ).headers["ETag"]
    with api.store.session_factory() as session:
        revisions = session.scalars(
            select(TimetableVersion.revision).where(TimetableVersion.upload_id == upload_id).order_by(TimetableVersion.revision)
        ).all()
        actions = [e.action for e in review.changes(session, upload_id)]
    assert revisions == list(range(1, len(revisions) + 1))  # no gap, no duplicate
    assert len(actions) == len(revisions)  # every saved change audited, the lost ones not


def test_reviewed_version_is_404_before_any_review_and_sample_is_untouched(api: Api) -> None:
    upload_id, key = finished_upload(api)
    response = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"version": "reviewed"}, headers=key)
    assert response.status_code == 404
    assert sample_timetable().entries[1].subject == "Physik"


def test_bad_edit_tokens_count_as_failed_authentication(make_api: Callable[..., Api]) -> None:
    api = make_api(failed_auth_per_minute=3)
    upload_id, _ = finished_upload(api)
    bad = {"expires": 4_000_000_000, "token": "0" * 64}
    codes = [api.client.get(f"{PREFIX}/uploads/{upload_id}/edit", params=bad).status_code for _ in range(2)]
    header = {EDIT_TOKEN_HEADER: f"4000000000.{'0' * 64}", "If-Match": "*"}
    codes.append(api.client.patch(f"{PREFIX}/uploads/{upload_id}/timetable/entries/e0", json={"room": "X"}, headers=header).status_code)
    codes.append(api.client.get(f"{PREFIX}/uploads/{upload_id}/edit", params=bad).status_code)
    assert codes == [401, 401, 401, 429]
