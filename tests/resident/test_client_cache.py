"""The per-process cache of clients and their secrets (keymanagers/resident/cache.py), and the
lean request path of the OAuth API (portal/middleware.py).

The cache is used only outside transactions, so these tests are transactional: each request
commits, as under gunicorn.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keymanagers.models import ClientSecret, OAuthClient, ResidentStamp
from keymanagers.resident import cache
from portal import crypto
from tests.resident.conftest import token_request

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _warm(client, registered):
    # The first request loads the client; the second must come from the cache.
    for _ in range(2):
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200


def test_a_warm_cache_reads_neither_client_nor_secrets(client, make_client):
    _, registered = make_client()
    _warm(client, registered)
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    sql = " ".join(q["sql"] for q in queries)
    assert "keymanagers_residentstamp" in sql
    assert "keymanagers_oauthclient" not in sql
    assert "keymanagers_clientsecret" not in sql


@pytest.mark.parametrize("how", ["delete", "queryset delete", "raw SQL"])
def test_a_deleted_secret_stops_working_at_the_next_request(client, make_client, how):
    oauth_client, registered = make_client()
    _warm(client, registered)
    secrets = ClientSecret.objects.filter(client=oauth_client)
    if how == "delete":
        secrets.get().delete()
    elif how == "queryset delete":
        secrets.delete()
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {ClientSecret._meta.db_table} WHERE client_id = %s", [oauth_client.pk]
            )
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_an_expired_secret_stops_working_at_once(client, make_client):
    oauth_client, registered = make_client()
    ClientSecret.objects.filter(client=oauth_client).update(expires_at=timezone.now() + timedelta(minutes=5))
    _warm(client, registered)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 401


def test_a_new_secret_works_at_the_next_request(client, make_client):
    oauth_client, registered = make_client()
    _warm(client, registered)
    ClientSecret.objects.create(client=oauth_client, secret_hash=crypto.keyed_hash("dps_the-new-one"))
    assert token_request(client, registered.ref.client_id, "dps_the-new-one").status_code == 200


def test_a_changed_grant_rule_applies_at_the_next_request(client, make_client):
    oauth_client, registered = make_client()
    _warm(client, registered)
    OAuthClient.objects.filter(pk=oauth_client.pk).update(grant_types=["authorization_code"])
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "unauthorized_client"


def test_a_changed_lifetime_applies_at_the_next_request(client, make_client):
    oauth_client, registered = make_client()
    _warm(client, registered)
    OAuthClient.objects.filter(pk=oauth_client.pk).update(application_token_lifetime=120)
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.json()["expires_in"] == 120


def test_gated_grants_follow_the_key_manager_at_the_next_request(client, make_client, resident, owner):
    from tests.conftest import PASSWORD

    resident.available_grant_types = [*resident.available_grant_types, "password"]
    resident.save()
    _, registered = make_client(grant_types=["password", "client_credentials"])
    data = {"grant_type": "password", "username": owner.username, "password": PASSWORD}
    for _ in range(2):
        answer = token_request(client, registered.ref.client_id, registered.secret.value, **data)
        assert answer.status_code == 200, answer.content
    resident.available_grant_types = [g for g in resident.available_grant_types if g != "password"]
    resident.save()
    answer = token_request(client, registered.ref.client_id, registered.secret.value, **data)
    assert answer.json()["error"] == "unauthorized_client"


def test_each_request_gets_its_own_copy_of_the_client(make_client):
    oauth_client, _ = make_client()
    load = lambda: OAuthClient.objects.get(pk=oauth_client.pk)  # noqa: E731
    first = cache.client(oauth_client.client_id, load)
    first.name = "changed by one request"
    second = cache.client(oauth_client.client_id, load)
    assert second.name != "changed by one request"
    assert second is not first


def test_inside_a_transaction_the_cache_is_not_used(make_client):
    from django.db import transaction

    oauth_client, _ = make_client()
    with transaction.atomic():
        assert cache.current_version() is None


def test_api_responses_set_no_session_cookie_and_keep_security_headers(client, make_client):
    _, registered = make_client()
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 200
    assert not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
    assert answer["X-Frame-Options"] == "DENY"
    assert "default-src" in answer["Content-Security-Policy"]
    assert answer["X-Content-Type-Options"] == "nosniff"


def test_pages_keep_their_middleware(client):
    # The sign-in page of the authorization server still gets a CSRF cookie and form check.
    answer = client.get("/oauth2/sign-in")
    assert answer.status_code == 200
    assert "csrftoken" in answer.cookies
    refused = client.__class__(enforce_csrf_checks=True).post("/oauth2/sign-in", {"username": "x"})
    assert refused.status_code == 403


@pytest.mark.postgres
def test_only_the_token_transaction_skips_the_disk_flush(client, make_client, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    from django.db import transaction

    _, registered = make_client(token_type="OAUTH")  # stored: a client_credentials JWT is not
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    # One autocommit statement sets it for its own transaction (tests/resident/test_token_insert.py).
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "set_config('synchronous_commit', 'off', true)" in inserts[0]

    # Inside someone else's transaction (keys made with their first token) commits stay synchronous.
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    assert not any("synchronous_commit" in q["sql"] for q in queries)

    settings.RESIDENT_TOKEN_ASYNC_COMMIT = False
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    assert not any("synchronous_commit" in q["sql"] for q in queries)


def test_recording_use_leaves_the_cache_stamp_alone_and_a_real_change_bumps_it(make_client):
    # "Last used" is written once a minute per active secret: were it a change, every active client
    # would empty every instance's cache once a minute.
    row, _ = make_client()
    secret = ClientSecret.objects.filter(client=row).get()

    def stamp():
        return ResidentStamp.objects.values_list("version", flat=True).get(pk=1)

    before = stamp()
    ClientSecret.objects.filter(pk=secret.pk).update(last_used_at=timezone.now())
    OAuthClient.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    assert stamp() == before

    ClientSecret.objects.filter(pk=secret.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert stamp() != before
