"""``/uploads/{id}/timetables``: the owners of a school-wide upload, one owner's export, the index page."""

from __future__ import annotations

import json

from tests.api.conftest import PREFIX, Api, sample_timetable
from timetable_platform.domain.model import Entry, Owner, Timetable
from timetable_platform.domain.school import result_json
from timetable_platform.domain.validate import schema_errors
from timetable_platform.extraction.split import combined
from timetable_platform.store.blobs import result_key


def _school() -> list[Timetable]:
    def lesson(subject: str, teacher: str) -> Entry:
        return Entry(day="MON", start="08:00", end="08:45", subject=subject, teacher=teacher, room="R1")

    return [
        Timetable(
            title="Class 7A", owner=Owner(kind="class", name="7A"), entries=[lesson("Maths", "Ms Lee")]
        ),
        Timetable(
            title="Class 7B",
            owner=Owner(kind="class", name="7B"),
            entries=[lesson("Art", "Mr Poe"), lesson("Drama", "Mr Poe").model_copy(update={"day": "TUE"})],
        ),
    ]


def _finish_school(api: Api, upload_id: str) -> list[Timetable]:
    """What the pipeline stores for a school-wide upload: v2 JSON, and every owner's entries as rows."""
    parts = _school()
    api.finish(upload_id, combined(parts, Timetable()))
    api.store.blobs.put(result_key(upload_id), json.dumps(result_json(parts)).encode())
    return parts


def test_owners_are_listed_and_each_is_exported_on_its_own(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    _finish_school(api, upload_id)

    listed = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables", headers=key)
    assert listed.status_code == 200
    body = listed.json()
    assert body["schema_version"] == "2"
    assert [(t["number"], t["owner"], t["entry_count"]) for t in body["timetables"]] == [
        (1, {"kind": "class", "name": "7A"}, 1),
        (2, {"kind": "class", "name": "7B"}, 2),
    ]
    one = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/2", headers=key)
    assert one.status_code == 200 and schema_errors(one.json()) == []
    assert one.json()["owner"] == {"kind": "class", "name": "7B"}
    assert [e["subject"] for e in one.json()["entries"]] == ["Art", "Drama"]
    csv = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/1?format=csv", headers=key)
    assert csv.status_code == 200 and "Maths" in csv.text and "Art" not in csv.text
    ics = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/2?format=ics", headers=key)
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
    # The upload's one-file timetable still answers, with every owner's lessons.
    whole = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key).json()
    assert sorted(e["group"] for e in whole["entries"]) == ["7A", "7B", "7B"]


def test_a_missing_number_another_tenant_and_a_pending_upload_are_problems(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    pending = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables", headers=key)
    assert pending.status_code == 409 and pending.headers["content-type"] == "application/problem+json"
    _finish_school(api, upload_id)
    missing = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/3", headers=key)
    assert missing.status_code == 404 and missing.json()["type"].endswith("timetable_not_found")
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/0", headers=key).status_code == 422
    other = api.new_key("school-b")
    assert api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables", headers=other).status_code == 404


def test_a_one_timetable_upload_lists_itself(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)
    api.store.blobs.put(result_key(upload_id), json.dumps(sample_timetable().to_json_dict()).encode())
    body = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables", headers=key).json()
    assert body["schema_version"] == "1"
    assert [t["owner"] for t in body["timetables"]] == [{"kind": "class", "name": "7A"}]
    one = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/1", headers=key).json()
    assert one == api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", headers=key).json()


def test_the_index_page_links_each_owner_to_its_week_view_also_from_a_share_link(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    _finish_school(api, upload_id)
    page = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/view", headers=key)
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert "Class 7A" in page.text and "Class 7B" in page.text
    assert f'href="{PREFIX}/uploads/{upload_id}/timetables/2/view"' in page.text
    week = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/2/view", headers=key)
    assert week.status_code == 200 and "Drama" in week.text and "Maths" not in week.text

    url = api.client.post(f"{PREFIX}/uploads/{upload_id}/share", headers=key).json()["url"]
    query = url.split("?", 1)[1]
    shared = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetables/view?{query}")
    assert shared.status_code == 200
    assert f"timetables/1/view?{query}".replace("&", "&amp;") in shared.text
