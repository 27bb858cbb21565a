"""Every hook of the Resident adapter, on the real DOT models."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from keymanagers.base import ClientConfig, ClientRef, KeyManagerError, NotSupported, adapter_for
from keymanagers.models import ClientSecret, KeyManager, OAuthClient
from keymanagers.resident import signing
from keymanagers.resident.adapter import ResidentAdapter
from portal import crypto
from tests.resident.conftest import CALLBACK, token_request

pytestmark = pytest.mark.django_db


def test_resident_key_manager_gets_the_resident_adapter(resident):
    adapter = adapter_for(resident)
    assert isinstance(adapter, ResidentAdapter)
    assert adapter.supports_multiple_secrets is True


def test_register_client_stores_the_configuration(adapter, owner):
    expires = timezone.now() + timedelta(days=90)
    registered = adapter.register_client(
        ClientConfig(
            name="Weather app",
            grant_types=["authorization_code", "client_credentials", "refresh_token"],
            callback_url=f"{CALLBACK}, https://client.example.com/other",
            token_type="OAUTH",
            application_access_token_expiry_time=100,
            user_access_token_expiry_time=200,
            refresh_token_expiry_time=-1,
            id_token_expiry_time=300,
            pkce_mandatory=True,
            pkce_support_plain=True,
            owner=owner.username,
        ),
        secret_expires_at=expires,
    )
    client = OAuthClient.objects.get(client_id=registered.ref.client_id)
    assert len(client.client_id) >= 20
    assert client.client_secret == "" and client.hash_client_secret is False
    assert client.client_type == OAuthClient.CLIENT_CONFIDENTIAL
    assert client.authorization_grant_type == OAuthClient.GRANT_AUTHORIZATION_CODE
    assert client.grant_types == ["authorization_code", "client_credentials", "refresh_token"]
    assert client.redirect_uris == f"{CALLBACK} https://client.example.com/other"
    assert client.token_format == "OAUTH"
    assert (client.application_token_lifetime, client.user_token_lifetime) == (100, 200)
    assert (client.refresh_token_lifetime, client.id_token_lifetime) == (-1, 300)
    assert client.pkce_required and client.pkce_plain_allowed
    assert client.skip_authorization is False
    assert client.user == owner
    secret = ClientSecret.objects.get(client=client)
    assert registered.secret.value.startswith("dps_")
    assert registered.secret.remote_id == str(secret.id)
    assert registered.secret.expires_at == expires == secret.expires_at
    assert secret.secret_hash == crypto.keyed_hash(registered.secret.value)
    assert registered.secret.value not in secret.secret_hash


def test_public_client(adapter):
    registered = adapter.register_client(
        ClientConfig(
            name="SPA", grant_types=["authorization_code"], callback_url=CALLBACK, public_client=True
        )
    )
    client = OAuthClient.objects.get(client_id=registered.ref.client_id)
    assert client.client_type == OAuthClient.CLIENT_PUBLIC
    assert client.user is None


def test_regexp_callback_is_kept_whole(adapter):
    registered = adapter.register_client(
        ClientConfig(
            name="x", grant_types=["authorization_code"], callback_url=r"regexp=https://a\.com/(x|y){1,2}"
        )
    )
    assert (
        OAuthClient.objects.get(client_id=registered.ref.client_id).redirect_uris
        == r"regexp=https://a\.com/(x|y){1,2}"
    )


@pytest.mark.parametrize(
    "config, message",
    [
        ({"grant_types": []}, "at least one grant type"),
        ({"grant_types": ["password"]}, "not offered"),
        ({"grant_types": ["authorization_code"], "callback_url": ""}, "callback URL is required"),
        ({"grant_types": ["client_credentials"], "token_type": "SAML"}, "JWT or OAUTH"),
    ],
)
def test_register_client_refuses_bad_configurations(adapter, config, message):
    with pytest.raises(KeyManagerError) as error:
        adapter.register_client(ClientConfig(name="x", **config))
    assert message in error.value.message
    assert error.value.step == "register client"
    assert not OAuthClient.objects.exists()


def test_key_manager_token_format_overrides_the_applications(adapter, resident):
    resident.token_format = KeyManager.TokenFormat.OPAQUE
    resident.save()
    registered = adapter.register_client(
        ClientConfig(name="x", grant_types=["client_credentials"], token_type="JWT")
    )
    assert OAuthClient.objects.get(client_id=registered.ref.client_id).token_format == "OAUTH"


def test_update_client(adapter, make_client):
    _, registered = make_client()
    adapter.update_client(
        registered.ref,
        ClientConfig(
            name="Renamed", grant_types=["client_credentials"], application_access_token_expiry_time=50
        ),
    )
    client = OAuthClient.objects.get(client_id=registered.ref.client_id)
    assert client.name == "Renamed"
    assert list(client.grant_types) == ["client_credentials"]
    assert client.application_token_lifetime == 50
    assert client.secrets.count() == 1


def test_update_of_a_missing_client_is_a_clear_error(adapter):
    with pytest.raises(KeyManagerError) as error:
        adapter.update_client(ClientRef("nope"), ClientConfig(name="x", grant_types=["client_credentials"]))
    assert "no client" in error.value.message


def test_delete_client_takes_its_tokens_and_secrets(client, adapter, make_client):
    _, registered = make_client()
    token = adapter.issue_token(registered.ref, client_secret=registered.secret.value, scopes=[]).access_token
    adapter.delete_client(registered.ref)
    assert not OAuthClient.objects.exists()
    assert not ClientSecret.objects.exists()
    assert adapter.introspect(token) == {"active": False}
    adapter.delete_client(registered.ref)  # deleting a missing client is fine


def test_regenerate_secret_replaces_every_secret(client, adapter, make_client):
    _, registered = make_client()
    adapter.create_secret(registered.ref)
    fresh = adapter.regenerate_secret(registered.ref)
    assert ClientSecret.objects.count() == 1
    assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 401
    assert token_request(client, registered.ref.client_id, fresh.value).status_code == 200


def test_create_and_delete_secret(adapter, make_client):
    _, registered = make_client()
    expires = timezone.now() + timedelta(days=30)
    secret = adapter.create_secret(registered.ref, expires_at=expires)
    assert ClientSecret.objects.get(id=secret.remote_id).expires_at == expires
    adapter.delete_secret(registered.ref, secret.remote_id)
    assert not ClientSecret.objects.filter(id=secret.remote_id).exists()
    with pytest.raises(KeyManagerError) as gone:
        adapter.delete_secret(registered.ref, secret.remote_id)
    assert gone.value.status == 404
    with pytest.raises(KeyManagerError):
        adapter.delete_secret(registered.ref, "not-a-uuid")


def test_one_client_cannot_delete_another_clients_secret(adapter, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    with pytest.raises(KeyManagerError):
        adapter.delete_secret(mine.ref, other.secret.remote_id)
    assert ClientSecret.objects.filter(id=other.secret.remote_id).exists()


def test_issue_token_follows_the_token_endpoints_rules(adapter, make_client):
    from keys.models import Scope

    Scope.objects.create(name="weather:read")
    _, registered = make_client(application_access_token_expiry_time=1800)
    result = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=["weather:read"]
    )
    assert result.scopes == ["weather:read"]
    assert result.expires_in == 1800
    assert result.token_type == "Bearer"
    assert signing.verify(result.access_token)["scope"] == "weather:read"
    assert not AccessToken.objects.exists()  # a client_credentials JWT is not stored
    assert adapter.introspect(result.access_token)["client_id"] == registered.ref.client_id


def test_issue_token_validity_period_overrides_and_negative_means_never(adapter, make_client):
    _, registered = make_client()
    short = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=60
    )
    assert short.expires_in == 60
    never = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=-1
    )
    assert never.expires_in is None
    claims = signing.verify(never.access_token)
    assert claims["exp"] > (timezone.now() + timedelta(days=365 * 99)).timestamp()
    assert adapter.introspect(never.access_token)["active"] is True


def test_validity_override_does_not_leak_to_the_next_request(client, adapter, make_client):
    _, registered = make_client()
    adapter.issue_token(registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=60)
    assert (
        token_request(client, registered.ref.client_id, registered.secret.value).json()["expires_in"] == 3600
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scopes": ["nope"]}, "invalid_scope: unknown scope(s): nope"),
        ({"client_secret": "dps_wrong"}, "invalid_client"),
        ({"client_secret": ""}, "consumer secret is required"),
        ({"grant_type": "password"}, "only client_credentials"),
    ],
)
def test_issue_token_errors_are_clear(adapter, make_client, kwargs, message):
    _, registered = make_client()
    arguments = {"client_secret": registered.secret.value, "scopes": [], **kwargs}
    with pytest.raises(KeyManagerError) as error:
        adapter.issue_token(registered.ref, **arguments)
    assert message in error.value.message
    assert not AccessToken.objects.exists()


def test_issue_token_needs_the_client_credentials_grant(adapter, make_client):
    _, registered = make_client(grant_types=["authorization_code"])
    with pytest.raises(KeyManagerError) as error:
        adapter.issue_token(registered.ref, client_secret=registered.secret.value, scopes=[])
    assert "unauthorized_client" in error.value.message


def test_revoke_token_only_touches_the_clients_own_tokens(adapter, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    my_token = adapter.issue_token(mine.ref, client_secret=mine.secret.value, scopes=[]).access_token
    their_token = adapter.issue_token(other.ref, client_secret=other.secret.value, scopes=[]).access_token
    adapter.revoke_token(mine.ref, their_token)
    assert adapter.introspect(their_token)["active"] is True
    adapter.revoke_token(mine.ref, my_token)
    assert adapter.introspect(my_token) == {"active": False}


def test_revoke_client_tokens_counts_and_revokes_them_all(adapter, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    mine_tokens = [
        adapter.issue_token(mine.ref, client_secret=mine.secret.value, scopes=[]).access_token
        for _ in range(3)
    ]
    theirs = adapter.issue_token(other.ref, client_secret=other.secret.value, scopes=[]).access_token
    # The count is of stored tokens: client_credentials JWTs have no rows to count.
    assert adapter.revoke_client_tokens(mine.ref) == 0
    assert all(adapter.introspect(t) == {"active": False} for t in mine_tokens)
    assert adapter.introspect(theirs)["active"] is True
    fresh = adapter.issue_token(mine.ref, client_secret=mine.secret.value, scopes=[]).access_token
    assert adapter.introspect(fresh)["active"] is True


def test_revoke_client_tokens_counts_stored_opaque_tokens(adapter, make_client):
    _, mine = make_client(token_type="OAUTH")
    issued = [adapter.issue_token(mine.ref, client_secret=mine.secret.value, scopes=[]) for _ in range(3)]
    assert adapter.revoke_client_tokens(mine.ref) == 3
    assert all(adapter.introspect(t.access_token) == {"active": False} for t in issued)


def test_endpoints_are_absolute_urls_of_this_site(adapter, settings):
    endpoints = adapter.endpoints()
    assert endpoints["token"] == settings.SITE_URL + "/oauth2/token"
    assert set(endpoints) == {"token", "revoke", "userinfo", "introspect", "authorize", "jwks", "discovery"}
    assert endpoints["discovery"] == settings.SITE_URL + "/.well-known/openid-configuration"


def test_available_grant_types_are_the_key_managers(adapter, resident):
    resident.available_grant_types = ["client_credentials", "password"]
    resident.save()
    assert adapter.available_grant_types() == ["client_credentials", "password"]


def test_check_connection_reports_database_and_signing_key(adapter):
    checks = {check.step: check for check in adapter.check_connection()}
    assert checks["database"].ok
    assert checks["signing key"].ok and "RS256" in checks["signing key"].message


def test_mapping_existing_clients_is_not_supported(adapter):
    with pytest.raises(NotSupported):
        adapter.map_client("someone")
