"""Round trips of the three hot request paths once a worker is warm (issue 14): the token
endpoint, introspection and a resource server's bearer check (``/sample/hello``).

Transactional, as under gunicorn: the client cache is used only outside a transaction; and the
signing keys are cached as in production (tests otherwise read them at every use).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keymanagers.resident import cache
from tests.resident.conftest import basic, token_request

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def empty_cache(settings):
    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["OAUTH", "JWT"])
def issued(request, client, make_client):
    """A client of the token type, its credentials and a token, with the worker's caches warm."""
    _, registered = make_client(token_type=request.param)
    for _ in range(2):
        answer = token_request(client, registered.ref.client_id, registered.secret.value)
        assert answer.status_code == 200
    return registered, answer.json()["access_token"]


def _sql(queries) -> list[str]:
    return [q["sql"] for q in queries]


def test_a_token_request_reads_only_the_cache_stamp_before_its_insert(client, issued):
    registered, token = issued
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    reads = [sql for sql in _sql(queries) if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "keymanagers_residentstamp" in reads[0], _sql(queries)
    if connection.vendor == "postgresql":
        # the stamp, then (opaque) one autocommit INSERT that sets synchronous_commit for itself;
        # a client_credentials JWT is not stored
        assert len(queries) == (1 if token.count(".") == 2 else 2), _sql(queries)
    else:
        # the stamp, then (opaque) DOT's transaction: BEGIN IMMEDIATE, the ORM's insert, COMMIT
        assert len(queries) <= 4, _sql(queries)


def test_introspection_reads_the_cache_stamp_and_the_token(client, issued):
    registered, token = issued

    def introspect():
        return client.post(
            "/oauth2/introspect",
            {"token": token},
            HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
        )

    introspect()  # loads the published keys (a JWT's check), as a warm worker has them
    with CaptureQueriesContext(connection) as queries:
        answer = introspect()
    assert answer.status_code == 200 and answer.json()["active"] is True
    assert len(queries) <= 2, _sql(queries)
    assert not any("keymanagers_oauthclient" in sql and "accesstoken" not in sql for sql in _sql(queries))


def test_a_bearer_check_is_one_query(client, issued):
    _, token = issued
    client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")  # loads the published keys
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200 and answer.json()["message"] == "Hello"
    assert len(queries) == 1, _sql(queries)
