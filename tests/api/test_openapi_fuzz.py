"""Property-based run of schemathesis over the app's own OpenAPI: no generated request gets a 5xx,
and every error is a problem document. Bounded (few examples per operation) to stay fast."""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.api.conftest import Api

MAX_EXAMPLES = 10  # per operation and mode (valid, then invalid data)


def test_no_generated_request_gets_a_server_error(api: Api) -> None:
    key = api.new_key("fuzz-tenant")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id)  # a finished upload, so the "ready" paths run too
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # erase the real upload last
    assert len(operations) >= 10
    failures: list[str] = []

    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(mode), use_real_id=st.booleans())
        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: Any, use_real_id: bool) -> None:
            if use_real_id and case.path_parameters and "upload_id" in case.path_parameters:
                case.path_parameters["upload_id"] = upload_id
            response = case.call(headers=key)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.text[:200]}")
            elif response.status_code >= 400 and not response.headers["content-type"][0].startswith(
                "application/problem+json"
            ):
                failures.append(f"{where}: not a problem document")

        try:
            check()
        except Unsatisfiable:  # no invalid variant exists (an operation without parameters)
            assert mode == schemathesis.GenerationMode.NEGATIVE
    assert failures == []
