"""``POST /uploads`` is answered by a plain Starlette route (``uploads.SubmitRoute``) ahead of the APIRoute that
documents it: both must answer every request alike, errors included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import PDF_BYTES, PREFIX, Api
from timetable_platform.api.routes.uploads import SubmitRoute


def _documented_route_only(api: Api) -> Api:
    routes = api.client.app.router.routes  # type: ignore[attr-defined]
    routes[:] = [route for route in routes if not isinstance(route, SubmitRoute)]
    return api


def _answer(response: Any) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    for varying in ("upload_id", "links"):
        body.pop(varying, None)
    return response.status_code, response.headers["content-type"], body


CASES: dict[str, Callable[[Api, dict[str, str]], Any]] = {
    "accepted": lambda api, key: api.submit(key, label="7A", mode="hybrid"),
    "duplicate": lambda api, key: (api.submit(key), api.submit(key))[1],
    "idempotency key too long": lambda api, key: api.submit({**key, "Idempotency-Key": "k" * 256}),
    "idempotency key empty": lambda api, key: api.submit({**key, "Idempotency-Key": ""}),
    "idempotency replay": lambda api, key: (
        api.submit({**key, "Idempotency-Key": "r1"}), api.submit({**key, "Idempotency-Key": "r1"})
    )[1],
    "bad mode and key": lambda api, key: api.submit({**key, "Idempotency-Key": "k" * 256}, mode="nope"),
    "no file": lambda api, key: api.client.post(f"{PREFIX}/uploads", headers=key, data={"label": "x"}),
    "file twice": lambda api, key: api.client.post(
        f"{PREFIX}/uploads", headers=key, files=[("file", ("a.pdf", PDF_BYTES)), ("file", ("b.pdf", PDF_BYTES))]
    ),
    "not a document": lambda api, key: api.submit(key, content=b"\x00\x01 nothing", filename="x.bin"),
    "no api key": lambda api, key: api.submit({}),
    "unknown api key": lambda api, key: api.submit({"X-API-Key": "tt_wrong"}),
    "private callback": lambda api, key: api.submit(key, callback_url="http://127.0.0.1/hook"),
    "not multipart": lambda api, key: api.client.post(f"{PREFIX}/uploads", headers=key, content=b"{}"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_submit_route_answers_as_the_documented_one(
    make_api: Callable[..., Api], tmp_path: Path, case: str
) -> None:
    fast = make_api()  # each its own database and blobs
    documented = _documented_route_only(make_api(f"sqlite:///{tmp_path / 'other.db'}", data_dir=tmp_path / "other"))
    answers = [_answer(CASES[case](api, api.new_key("school-a"))) for api in (fast, documented)]
    assert answers[0] == answers[1]


def test_the_fast_route_is_the_one_serving_and_openapi_still_documents_the_form(api: Api) -> None:
    assert isinstance(api.client.app.router.routes[0], SubmitRoute)  # type: ignore[attr-defined]
    operation = api.client.get("/openapi.json").json()["paths"][f"{PREFIX}/uploads"]["post"]
    assert operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].endswith("SubmitUploadForm")
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    too_long = api.submit({**api.new_key("school-a"), "Idempotency-Key": "k" * 256})
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {"field": "Idempotency-Key", "in": "header", "message": "String should have at most 255 characters",
         "type": "string_too_long"}
    ]  # fmt: skip
