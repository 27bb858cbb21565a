"""Nothing usable at rest: what a database dump or a copy of the cache holds signs nobody in.

The tests read the tables as a dump would (raw SQL) and try what they find.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from keymanagers.base import adapter_for
from portal import crypto
from portal.applications.services import api_token_create
from tests.conftest import PASSWORD
from tests.external.conftest import keycloak_sim, make_keycloak_key_manager  # noqa: F401  (fixture)
from tests.external.test_keycloak_adapter import cc_config

pytestmark = pytest.mark.django_db


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_a_dump_of_django_session_holds_no_usable_session_key(client, admin_user):
    client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/admin/").status_code == 200

    dumped = _rows("SELECT session_key, session_data FROM django_session")

    assert dumped, "the sign-in made a session row"
    assert all(cookie not in key and cookie not in data for key, data in dumped)
    for key, _ in dumped:
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = key
        assert replay.get("/admin/").status_code == 302  # sent to sign in


def test_signing_out_deletes_the_session_row(client, owner):
    client.post("/accounts/login/", {"username": owner.username, "password": PASSWORD})
    assert _rows("SELECT COUNT(*) FROM django_session") == [(1,)]

    client.post("/accounts/logout/")

    assert _rows("SELECT COUNT(*) FROM django_session") == [(0,)]


def test_a_dump_of_api_tokens_holds_no_usable_token(owner):
    _, token = api_token_create(user=owner, name="script", days=30)

    dumped = _rows("SELECT * FROM portal_apitoken")

    assert all(token not in str(value) for row in dumped for value in row)
    for row in dumped:
        for value in row:
            answer = Client().get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {value}")
            assert answer.status_code == 401
    assert (
        Client().get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 200
    )


def test_keycloaks_service_account_token_is_cached_encrypted(db, keycloak_sim):  # noqa: F811
    from django.core.cache import cache

    km = make_keycloak_key_manager(keycloak_sim, initial_access_token=False)
    adapter = adapter_for(km)
    adapter.register_client(cc_config())
    token = next(iter(keycloak_sim.service_account_tokens))

    stored = cache.get(adapter._token_cache_key())

    assert stored and token not in stored
    assert crypto.decrypt(stored) == token
