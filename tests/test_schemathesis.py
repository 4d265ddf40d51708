"""Property tests of the HTTP API against its own OpenAPI schema (schemathesis).

Every operation gets a few generated requests, valid and invalid; every response
must be no server error (5xx), carry a documented status and content type, and
match its documented schema. Kept short: a handful of examples per operation.
URL fetching is replaced by a canned failure: no network in tests.
"""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (dev extra)")
pytest.importorskip("fastapi", reason="the web extra is not installed")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from sourcetrace.inputs import fetch
from sourcetrace.web.app import create_app
from sourcetrace.config import DEFAULT
from sourcetrace.errors import FetchError
from sourcetrace.corpus.store import open_store

SEED_TEXT = ("\u201cWe will not retreat,\u201d the mayor of Kharkiv said on Monday. Officials said "
             "the bridge was closed, according to a statement on Telegram.")


TOKEN = "schemathesis-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _no_network(url, *args, **kwargs):
    raise FetchError(f"{url} was not fetched: no network in tests")


def _app():
    store = open_store(":memory:")
    app = create_app(DEFAULT.replace(max_input_bytes=200_000), store=store, token=TOKEN,
                     allowed_hosts=["testserver"])   # the Host the ASGI test clients send
    return app


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(autouse=True, scope="module")
def _corpus():
    """Canned fetches, and one stored article so the id routes find something."""
    mp = pytest.MonkeyPatch()
    mp.setattr(fetch, "fetch", _no_network)
    from fastapi.testclient import TestClient

    r = TestClient(APP).post("/api/ingest", json={"text": SEED_TEXT}, headers=AUTH)
    assert r.status_code == 200, r.text
    yield
    mp.undo()


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_schemathesis_api_conforms_to_its_schema(case):
    # positive_data_acceptance is left out: a schema-valid text can still be no article
    # (empty, binary, not English), which the API rightly answers with a 4xx error
    # the server has a token, as it must when it listens beyond localhost; the checks
    # also call each write endpoint without it and expect 401
    response = case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
