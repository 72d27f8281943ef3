"""The API fixtures of tests/api (a real store on SQLite or PostgreSQL), for the export tests."""

from tests.api.conftest import any_db_api, api, make_api  # noqa: F401 - pytest fixtures
