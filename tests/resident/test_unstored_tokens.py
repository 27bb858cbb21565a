"""Client_credentials JWTs are not stored, and every way of revoking one still refuses it at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from keymanagers.models import OAuthClient, RevokedToken, SigningKey
from keymanagers.resident import cleanup, signing, tokens
from tests.resident.conftest import CALLBACK, authorize, basic, token_request

pytestmark = pytest.mark.django_db


def issue(http, registered, **data) -> str:
    answer = token_request(http, registered.ref.client_id, registered.secret.value, **data)
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


def hello(http, token):
    return http.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")


def introspect(http, registered, token) -> dict:
    answer = http.post(
        "/oauth2/introspect",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def revoke(http, registered, token):
    return http.post(
        "/oauth2/revoke",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )


def test_a_client_credentials_jwt_is_not_stored_yet_works_and_introspects_active(client, make_client):
    row, registered = make_client()
    token = issue(client, registered)
    assert not AccessToken.objects.exists()
    answer = hello(client, token)
    assert answer.status_code == 200, answer.content
    assert answer.json()["clientId"] == registered.ref.client_id
    assert answer.json()["tokenType"] == "JWT"
    body = introspect(client, registered, token)
    claims = signing.verify(token)
    assert body == {
        "active": True,
        "token_type": "Bearer",
        "scope": "default",
        "client_id": registered.ref.client_id,
        "sub": registered.ref.client_id,
        "aud": registered.ref.client_id,
        "iss": claims["iss"],
        "iat": claims["iat"],
        "exp": claims["exp"],
        "jti": claims["jti"],
    }


def test_its_jti_dates_it_to_the_microsecond():
    now_ns = 1_795_000_000_123_456_789
    jti = tokens.time_ordered_jti(now_ns)
    assert abs(tokens.jti_issued_ns(jti) - now_ns) < 250  # 1/4096 ms
    assert tokens.jti_issued_ns("9b2f7a0e-8c1d-4e5f-9a6b-7c8d9e0f1a2b") is None  # uuid4: stored


def test_rfc7009_revocation_refuses_it_until_it_expires_then_the_record_is_purged(client, make_client):
    row, registered = make_client()
    token = issue(client, registered)
    kept = issue(client, registered)
    assert revoke(client, registered, token).status_code == 200
    assert revoke(client, registered, token).status_code == 200  # twice is fine
    assert hello(client, token).status_code == 401
    assert introspect(client, registered, token) == {"active": False}
    assert hello(client, kept).status_code == 200  # only that one
    record = RevokedToken.objects.get()
    assert record.client_id == row.pk
    assert record.jti == signing.verify(token)["jti"]
    assert int(record.expires_at.timestamp()) == signing.verify(token)["exp"]

    assert cleanup.clear_resident_tokens().revoked_jwts == 0  # still needed
    after_expiry = timezone.now() + timedelta(hours=1, days=1, minutes=1)
    assert cleanup.clear_resident_tokens(now=after_expiry).revoked_jwts == 1
    assert not RevokedToken.objects.exists()


def test_a_client_cannot_revoke_another_clients_jwt_but_a_resource_server_can(client, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    token = issue(client, mine)
    assert revoke(client, other, token).status_code == 200  # RFC 7009: silently nothing
    assert hello(client, token).status_code == 200
    assert not RevokedToken.objects.exists()

    gateway_row, gateway = make_client(name="Gateway")
    OAuthClient.objects.filter(pk=gateway_row.pk).update(is_resource_server=True)
    assert revoke(client, gateway, token).status_code == 200
    assert hello(client, token).status_code == 401


def test_the_adapters_revoke_token_refuses_it(client, adapter, make_client):
    _, registered = make_client()
    token = issue(client, registered)
    adapter.revoke_token(registered.ref, token)
    assert hello(client, token).status_code == 401
    assert adapter.introspect(token) == {"active": False}


def test_revoke_earlier_tokens_refuses_every_earlier_jwt_and_the_next_one_works(client, adapter, make_client):
    row, registered = make_client()
    earlier = [issue(client, registered) for _ in range(2)]
    adapter.revoke_client_tokens(registered.ref)
    # Issued at once after the revocation, in the same second: the jti's time tells them apart.
    fresh = issue(client, registered)
    assert signing.verify(fresh)["iat"] >= signing.verify(earlier[-1])["iat"]
    assert [hello(client, t).status_code for t in earlier] == [401, 401]
    assert [introspect(client, registered, t)["active"] for t in earlier] == [False, False]
    assert hello(client, fresh).status_code == 200
    row.refresh_from_db()
    assert row.tokens_revoked_before is not None


def test_a_token_issued_in_the_same_microsecond_as_the_revocation_is_refused(client, adapter, make_client):
    row, registered = make_client()
    moment = timezone.now() + timedelta(seconds=5)
    with time_machine.travel(moment, tick=False):
        adapter.revoke_client_tokens(registered.ref)
        same_instant = issue(client, registered)
    with time_machine.travel(moment + timedelta(microseconds=2), tick=False):
        next_instant = issue(client, registered)
    with time_machine.travel(moment + timedelta(seconds=1)):
        assert hello(client, same_instant).status_code == 401
        assert hello(client, next_instant).status_code == 200


def test_removing_the_keys_refuses_its_jwts_and_a_client_id_used_again_does_not_revive_them(
    client, adapter, make_client
):
    row, registered = make_client()
    token = issue(client, registered)
    adapter.delete_client(registered.ref)
    assert hello(client, token).status_code == 401
    # The same client_id registered again (by hand, in the admin) is a new client.
    OAuthClient.objects.create(client_id=registered.ref.client_id, name="again", token_format="JWT")
    assert hello(client, token).status_code == 401
    assert adapter.introspect(token) == {"active": False}


def test_deleting_or_regenerating_a_secret_keeps_its_jwts_valid(client, adapter, make_client):
    _, registered = make_client()
    token = issue(client, registered)
    second = adapter.create_secret(registered.ref)
    adapter.delete_secret(registered.ref, registered.secret.remote_id)
    assert hello(client, token).status_code == 200
    adapter.regenerate_secret(registered.ref)
    assert hello(client, token).status_code == 200
    assert token_request(client, registered.ref.client_id, second.value).status_code == 401


def test_an_expired_jwt_is_refused_and_cannot_be_revoked_into_a_record(client, make_client):
    _, registered = make_client(application_access_token_expiry_time=60)
    token = issue(client, registered)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert hello(client, token).status_code == 401
        assert revoke(client, registered, token).status_code == 200
    assert not RevokedToken.objects.exists()


def test_portal_tokens_with_a_chosen_validity_and_never_expiring_tokens_keep_their_row(
    client, adapter, make_client
):
    _, registered = make_client()
    chosen = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=60
    )
    assert AccessToken.objects.count() == 1
    _, forever = make_client(name="Forever", application_access_token_expiry_time=-1)
    issue(client, forever)
    assert AccessToken.objects.count() == 2
    adapter.revoke_token(registered.ref, chosen.access_token)
    assert hello(client, chosen.access_token).status_code == 401
    assert AccessToken.objects.count() == 1 and not RevokedToken.objects.exists()


def test_a_users_jwt_is_stored_and_a_code_used_twice_still_revokes_it(client, make_client, owner):
    from django.test import Client

    from tests.resident.conftest import pkce_pair

    _, registered = make_client()
    browser = Client()
    browser.force_login(owner)
    verifier, challenge = pkce_pair()
    params, _ = authorize(browser, registered.ref.client_id, challenge=challenge)
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    first = token_request(client, registered.ref.client_id, registered.secret.value, **exchange)
    assert first.status_code == 200, first.content
    access = first.json()["access_token"]
    assert AccessToken.objects.filter(user=owner).count() == 1
    assert hello(client, access).status_code == 200

    refreshed = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="refresh_token",
        refresh_token=first.json()["refresh_token"],
    )
    assert refreshed.status_code == 200, refreshed.content
    assert AccessToken.objects.filter(user=owner).count() == 1  # rotated: the old row went
    assert hello(client, access).status_code == 401

    again = token_request(client, registered.ref.client_id, registered.secret.value, **exchange)
    assert again.status_code == 400
    assert hello(client, refreshed.json()["access_token"]).status_code == 401
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_retired_key_stays_published_while_its_unstored_jwts_live(client, make_client):
    _, registered = make_client(application_access_token_expiry_time=30 * 86400)
    token = issue(client, registered)
    key = SigningKey.objects.get()
    assert key.unstored_expiry >= timezone.now() + timedelta(days=30) - timedelta(minutes=1)
    # The client's lifetime is shortened before the key is rotated: no row says how long the
    # 30-day token lives, the key does.
    OAuthClient.objects.update(application_token_lifetime=3600)
    signing.rotate()
    key.refresh_from_db()
    assert key.publish_until >= key.unstored_expiry
    assert hello(client, token).status_code == 200


def test_the_token_endpoint_writes_nothing_for_a_jwt_client(client, make_client, adapter, settings):
    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60  # the production default (tests run with 0)
    _, registered = make_client()
    for _ in range(3):
        adapter.create_secret(registered.ref)
    issue(client, registered)  # warm caches, and the key's expiry mark
    with CaptureQueriesContext(connection) as queries:
        issue(client, registered)
    statements = [q["sql"] for q in queries]
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    # client, its secrets and the signing key's mark (in a test's transaction nothing is cached);
    # an opaque token's request makes 5 (test_token_endpoint)
    assert len(statements) <= 3, statements


@pytest.mark.django_db(transaction=True)
def test_a_warm_worker_checks_a_jwt_with_one_query_and_still_sees_a_revocation(
    make_client, adapter, settings
):
    from django.test import Client

    from keymanagers.resident import cache
    from tests.conftest import reseed_migration_data

    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60  # the production default (tests run with 0)
    reseed_migration_data()
    cache.clear()
    http = Client()
    _, registered = make_client()
    token = issue(http, registered)
    assert hello(http, token).status_code == 200  # warms this worker's client cache
    with CaptureQueriesContext(connection) as queries:
        assert hello(http, token).status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]  # the stamp and the revoked jti, together
    with CaptureQueriesContext(connection) as queries:
        assert issue(http, registered)
    # The token request reads the cache stamp, and nothing else (it was 5 statements when the
    # JWT was stored: the stamp, BEGIN, SET LOCAL, INSERT, COMMIT).
    assert [q["sql"] for q in queries] == ["SELECT version FROM keymanagers_residentstamp WHERE id = 1"]

    adapter.revoke_client_tokens(registered.ref)
    assert hello(http, token).status_code == 401  # the stamp moved with tokens_revoked_before
    cache.clear()
