"""Intake hygiene: one value per form field, filenames that cannot rewrite a terminal, safe HTML headers."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.api.conftest import PDF_BYTES, PREFIX, Api


def test_two_file_fields_are_refused(api: Api) -> None:
    key = api.new_key("school-a")
    response = api.client.post(
        f"{PREFIX}/uploads",
        headers=key,
        files=[("file", ("a.pdf", PDF_BYTES)), ("file", ("b.pdf", PDF_BYTES + b"b"))],
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "file", "in": "body", "message": "sent more than once"}]
    twice_mode = api.client.post(
        f"{PREFIX}/uploads", headers=key, files={"file": ("a.pdf", PDF_BYTES)}, data={"mode": ["hybrid", "fallback"]}
    )
    assert twice_mode.status_code == 422
    assert api.client.get(f"{PREFIX}/uploads", headers=key).json()["items"] == []


# Raw bytes on the wire (a hostile client does not percent-encode): terminal escapes, BEL, a tab,
# a right-to-left override that shows "exe.png" as "gnp.exe", an isolate and a zero-width space.
HOSTILE_NAME = "week\x1b]0;pwned\x07\x1b[2J\trm -rf ~ \u202egnp.exe\u2066\u200b.pdf"


def test_control_and_bidi_characters_are_stripped_from_filenames(api: Api, tmp_path: Any) -> None:
    key = api.new_key("school-a")
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="'
        + HOSTILE_NAME.encode()
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + PDF_BYTES
        + b"\r\n--b--\r\n"
    )
    response = api.client.post(
        f"{PREFIX}/uploads", headers={**key, "Content-Type": "multipart/form-data; boundary=b"}, content=body
    )
    assert response.status_code == 202, response.text
    upload_id = response.json()["upload_id"]
    stored = api.client.get(f"{PREFIX}/uploads/{upload_id}", headers=key).json()["filename"]
    assert stored == "week]0;pwned[2Jrm -rf ~ gnp.exe.pdf"
    # What an operator sees: `timetable status` prints no escape, bidi or line-breaking character.
    env = {"TIMETABLE_DATABASE_URL": api.settings.resolved_database_url, "TIMETABLE_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "timetable_platform", "status"], capture_output=True, text=True, env={**env, **_base_env()}
    )
    assert out.returncode == 0, out.stderr
    line = next(row for row in out.stdout.splitlines() if upload_id in row)
    assert not any(ch in line for ch in "\x1b\x07\t\u202e\u2066\u200b")


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("TIMETABLE_")}


def test_html_pages_send_security_headers(api: Api) -> None:
    key = api.new_key("school-a")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)
    view = api.client.get(f"{PREFIX}/uploads/{upload_id}/view", headers=key)
    assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
    csp = view.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert view.headers["x-content-type-options"] == "nosniff"
    assert view.headers["x-frame-options"] == "DENY"
    # Every answer says nosniff (JSON and CSV included); problem documents too.
    for response in (
        api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"format": "csv"}, headers=key),
        api.client.get(f"{PREFIX}/uploads", headers={"X-API-Key": "tt_wrong"}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_form_is_validated_in_one_pass_and_documented(api: Api) -> None:
    """The submit route reads its form itself (one parse, one validation): every bad field is named in
    FastAPI's validation format, an empty field means "not sent", and the OpenAPI form is complete."""
    key = api.new_key("school-a")
    bad = api.submit(key, label="x" * 256, force="maybe", mode="turbo")
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["force", "label", "mode"]
    not_a_file = api.client.post(f"{PREFIX}/uploads", headers=key, data={"file": "week.pdf"})
    assert [e["field"] for e in not_a_file.json()["errors"]] == ["file"]
    accepted = api.submit(key, mode="", label="", force="")
    assert accepted.status_code == 202, accepted.text
    form = api.client.get("/openapi.json").json()["components"]["schemas"]["SubmitUploadForm"]
    assert form["required"] == ["file"]
    assert list(form["properties"]) == ["file", "mode", "label", "callback_url", "force"]
    assert form["properties"]["label"]["anyOf"][0]["maxLength"] == 255
