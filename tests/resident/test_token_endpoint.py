"""The client_credentials grant at /oauth2/token: secrets, scopes, lifetimes, grant types."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import hashers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken

from keymanagers.base import ClientRef
from keymanagers.models import ClientSecret, KeyManager
from keymanagers.resident import signing, tokens
from tests.resident.conftest import basic, token_request

pytestmark = pytest.mark.django_db


def test_client_credentials_gives_a_bearer_token_that_is_not_cached(client, make_client):
    oauth_client, registered = make_client()
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "default"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # client_credentials never gets one
    assert answer["Cache-Control"] == "no-store"
    # A client_credentials JWT is not stored (README "Token storage and revocation").
    assert not AccessToken.objects.filter(application=oauth_client).exists()


def test_secret_in_the_body_works_too(client, make_client):
    _, registered = make_client()
    answer = client.post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.ref.client_id,
            "client_secret": registered.secret.value,
        },
    )
    assert answer.status_code == 200


def test_wrong_secret_is_invalid_client(client, make_client):
    _, registered = make_client()
    answer = token_request(client, registered.ref.client_id, "dps_not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("how", ["basic", "body", "missing"])
def test_empty_or_missing_secret_never_authenticates_a_confidential_client(client, make_client, how):
    oauth_client, registered = make_client()
    assert oauth_client.client_secret == ""  # DOT's own column is empty: it must not count as a secret
    client_id = registered.ref.client_id
    data = {"grant_type": "client_credentials"}
    if how == "basic":
        answer = client.post("/oauth2/token", data, HTTP_AUTHORIZATION=basic(client_id, ""))
    elif how == "body":
        answer = client.post("/oauth2/token", {**data, "client_id": client_id, "client_secret": ""})
    else:
        answer = client.post("/oauth2/token", {**data, "client_id": client_id})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_expired_secret_is_refused_with_401(client, make_client, adapter):
    _, registered = make_client()
    secret = adapter.create_secret(registered.ref, expires_at=timezone.now() + timedelta(days=1))
    assert token_request(client, registered.ref.client_id, secret.value).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        answer = token_request(client, registered.ref.client_id, secret.value)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        # the client's other, unexpired secret still works
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200


def test_deleted_secret_is_refused_but_its_tokens_stay_valid(client, make_client, adapter):
    _, registered = make_client()
    issued = token_request(client, registered.ref.client_id, registered.secret.value).json()["access_token"]
    second = adapter.create_secret(registered.ref)
    adapter.delete_secret(registered.ref, registered.secret.remote_id)
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 401
    assert token_request(client, registered.ref.client_id, second.value).status_code == 200
    assert adapter.introspect(issued)["active"] is True


def test_any_of_several_secrets_works(client, make_client, adapter):
    _, registered = make_client()
    others = [adapter.create_secret(registered.ref) for _ in range(3)]
    for secret in [registered.secret, *others]:
        assert token_request(client, registered.ref.client_id, secret.value).status_code == 200
    assert ClientSecret.objects.filter(client__client_id=registered.ref.client_id).count() == 4


def test_token_endpoint_never_uses_the_password_hasher(client, make_client, monkeypatch):
    _, registered = make_client()

    def forbidden(*args, **kwargs):
        raise AssertionError("the password hasher must not run on the token endpoint")

    for name in ("check_password", "make_password", "identify_hasher"):
        monkeypatch.setattr(hashers, name, forbidden)
    monkeypatch.setattr("oauth2_provider.oauth2_validators.check_password", forbidden)
    monkeypatch.setattr("oauth2_provider.oauth2_validators.identify_hasher", forbidden)
    monkeypatch.setattr("oauth2_provider.models.make_password", forbidden)
    monkeypatch.setattr("oauth2_provider.models.identify_hasher", forbidden)
    assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    assert token_request(client, registered.ref.client_id, "dps_wrong").status_code == 401


def test_token_endpoint_runs_a_small_constant_number_of_queries(client, make_client, adapter):
    _, registered = make_client(token_type="OAUTH")
    for _ in range(5):
        adapter.create_secret(registered.ref)
    token_request(client, registered.ref.client_id, registered.secret.value)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    # client, its secrets, savepoint + insert + release; however many secrets the client has (and no
    # read-back of the new row: nobody listens to app_authorized)
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_app_authorized_is_still_sent_to_a_receiver(client, make_client):
    from oauth2_provider.signals import app_authorized

    received = []

    def receiver(sender, request, token, **kwargs):
        received.append(token)

    _, registered = make_client()
    app_authorized.connect(receiver)
    try:
        answer = token_request(client, registered.ref.client_id, registered.secret.value)
    finally:
        app_authorized.disconnect(receiver)

    assert answer.status_code == 200
    assert [t.application.client_id for t in received] == [registered.ref.client_id]


def test_scopes_are_narrowed_to_what_was_asked(client, make_client):
    from keys.models import Scope

    Scope.objects.create(name="weather:read")
    Scope.objects.create(name="weather:write")
    _, registered = make_client()
    answer = token_request(client, registered.ref.client_id, registered.secret.value, scope="weather:read")
    assert answer.status_code == 200
    assert answer.json()["scope"] == "weather:read"
    assert signing.verify(answer.json()["access_token"])["scope"] == "weather:read"


def test_unknown_scope_is_invalid_scope(client, make_client):
    _, registered = make_client()
    answer = token_request(
        client, registered.ref.client_id, registered.secret.value, scope="default admin:all"
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.exists()


def test_client_without_the_grant_is_refused(client, make_client):
    _, registered = make_client(grant_types=["authorization_code"])
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "unauthorized_client"


def test_per_client_lifetime_is_honoured(client, make_client):
    _, registered = make_client(application_access_token_expiry_time=120)
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.json()["expires_in"] == 120
    token = answer.json()["access_token"]
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        hello = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert hello.status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        hello = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert hello.status_code == 401


def test_negative_lifetime_means_never_expires(client, make_client):
    _, registered = make_client(application_access_token_expiry_time=-1)
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == tokens.NEVER_SECONDS
    claims = signing.verify(answer.json()["access_token"])
    assert claims["exp"] > (timezone.now() + timedelta(days=365 * 99)).timestamp()
    hello = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
    assert hello.json()["expiresAt"] is None


def test_password_grant_needs_the_client_and_the_key_manager_to_allow_it(
    client, make_client, resident, owner
):
    from tests.conftest import PASSWORD

    resident.available_grant_types = [*resident.available_grant_types, "password"]
    resident.save()
    _, registered = make_client(grant_types=["password", "refresh_token"])
    data = {"grant_type": "password", "username": owner.username, "password": PASSWORD}
    answer = token_request(client, registered.ref.client_id, registered.secret.value, **data)
    assert answer.status_code == 200, answer.content
    assert "refresh_token" in answer.json()

    # An admin withdrawing the grant from the key manager stops it at once.
    resident.available_grant_types = ["client_credentials", "refresh_token", "authorization_code"]
    resident.save()
    answer = token_request(client, registered.ref.client_id, registered.secret.value, **data)
    assert answer.json()["error"] == "unauthorized_client"


def test_deleted_client_gets_invalid_client(client, make_client, adapter):
    _, registered = make_client()
    adapter.delete_client(ClientRef(registered.ref.client_id))
    answer = token_request(client, registered.ref.client_id, registered.secret.value)
    assert answer.status_code == 401
    assert KeyManager.objects.filter(type="resident").exists()


def test_tokens_are_stored_only_as_a_checksum(client, make_client):
    import hashlib

    _, registered = make_client(token_type="OAUTH")  # a client_credentials JWT is not stored at all
    value = token_request(client, registered.ref.client_id, registered.secret.value).json()["access_token"]
    row = AccessToken.objects.get()
    assert row.token == ""
    assert row.token_checksum == hashlib.sha256(value.encode()).hexdigest()


def test_a_bad_secret_over_basic_is_challenged_for_basic_not_bearer(client, make_client):
    _, registered = make_client()
    answer = token_request(client, registered.ref.client_id, "dps_not-the-secret")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Basic realm="resident"'
    assert answer.json()["error"] == "invalid_client"


def test_a_bad_secret_in_the_body_is_challenged_for_basic_too(client, make_client):
    _, registered = make_client()
    answer = client.post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.ref.client_id,
            "client_secret": "dps_not-the-secret",
        },
    )
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Basic realm="resident"'


def test_a_token_request_looks_up_only_the_scopes_it_names(client, make_client):
    from keys.models import Scope

    Scope.objects.bulk_create(Scope(name=f"area{n}:read") for n in range(200))
    _, registered = make_client()
    with CaptureQueriesContext(connection) as queries:
        answer = token_request(client, registered.ref.client_id, registered.secret.value, scope="area7:read")
    assert answer.status_code == 200
    assert answer.json()["scope"] == "area7:read"
    scope_queries = [q["sql"] for q in queries if "keys_scope" in q["sql"]]
    assert len(scope_queries) == 1
    # Filtered by name, not the whole table.
    assert "WHERE" in scope_queries[0] and " IN " in scope_queries[0]


def test_asking_for_the_default_scope_reads_no_scope_rows(client, make_client):
    _, registered = make_client()
    with CaptureQueriesContext(connection) as queries:
        assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200
    assert not [q["sql"] for q in queries if "keys_scope" in q["sql"]]


def test_discovery_still_lists_every_scope(client):
    from keys.models import Scope

    Scope.objects.create(name="weather:read")
    supported = client.get("/.well-known/openid-configuration").json()["scopes_supported"]
    assert {"default", "openid", "weather:read"} <= set(supported)
