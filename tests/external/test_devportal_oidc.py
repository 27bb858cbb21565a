"""A developer's keys at an OIDC DCR key manager, end to end: portal ⇄ real oidc-provider."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from keys.models import ApplicationKey, ConsumerSecret
from portal import crypto
from portal.models import Application
from tests.external.conftest import make_dcr_key_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(owner):
    return Application.objects.create(owner=owner, name="Weather App", token_type="OAUTH")


def api(path: str) -> str:
    return f"/api/am/devportal/v3/{path}"


def generate_keys(client, application, **body):
    return client.post(
        api(f"applications/{application.pk}/generate-keys"),
        {
            "keyType": "PRODUCTION",
            "keyManager": "peer",
            "grantTypesToBeSupported": ["client_credentials"],
            "scopes": ["default"],
            **body,
        },
        content_type="application/json",
    )


def peer_token(km, consumer_key: str, consumer_secret: str) -> httpx.Response:
    """What the developer's own service does: client credentials at the key manager's token endpoint."""
    return httpx.post(
        km.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(consumer_key, consumer_secret),
    )


def peer_introspect(peer, token: str) -> dict:
    return httpx.post(
        f"{peer.url}/token/introspection",
        data={"token": token},
        auth=(peer.introspection_client_id, peer.introspection_client_secret),
    ).json()


def test_production_keys_at_the_peer_work_for_tokens_and_are_removed_there_too(
    owner_client, application, dcr_key_manager, oidc_peer
):
    response = generate_keys(owner_client, application)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (
        body["keyManager"] == "peer" and body["keyType"] == "PRODUCTION" and body["keyState"] == "COMPLETED"
    )
    consumer_key, consumer_secret = body["consumerKey"], body["consumerSecret"]
    # The token the portal got at generation is live at the peer, for this client.
    issued = peer_introspect(oidc_peer, body["token"]["accessToken"])
    assert issued["active"] is True and issued["client_id"] == consumer_key
    # The developer's service gets its own token from the key manager's token endpoint.
    token = peer_token(dcr_key_manager, consumer_key, consumer_secret)
    assert token.status_code == 200 and token.json()["scope"] == "read"

    key = ApplicationKey.objects.get(pk=body["keyMappingId"])
    assert key.consumer_key == consumer_key and key.key_manager == dcr_key_manager
    state = key.get_remote_state()
    assert state["registration_client_uri"] == f"{oidc_peer.url}/reg/{consumer_key}"
    # The column itself holds ciphertext: the registration access token is not readable there.
    raw = ApplicationKey.objects.filter(pk=key.pk).values_list("remote_state_encrypted", flat=True).get()
    assert raw and state["registration_access_token"] not in raw
    [secret] = ConsumerSecret.objects.filter(key=key)
    assert crypto.hash_matches(consumer_secret, secret.secret_hash)

    removed = owner_client.delete(api(f"applications/{application.pk}/oauth-keys/{key.pk}"))

    assert removed.status_code == 200  # the reference's status for Remove Keys
    assert not ApplicationKey.objects.filter(pk=key.pk).exists()
    gone = peer_token(dcr_key_manager, consumer_key, consumer_secret)
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_client"


def test_generate_access_token_asks_the_peer(owner_client, application, dcr_key_manager, oidc_peer):
    key_id = generate_keys(owner_client, application).json()["keyMappingId"]

    response = owner_client.post(
        api(f"applications/{application.pk}/oauth-keys/{key_id}/generate-token"),
        {"scopes": ["read", "write"], "validityPeriod": 3600},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["tokenScopes"] == ["read", "write"]
    assert peer_introspect(oidc_peer, response.json()["accessToken"])["active"] is True


def test_updating_keys_changes_the_client_at_the_peer_and_keeps_the_newest_registration_token(
    owner_client, application, dcr_key_manager, oidc_peer
):
    body = generate_keys(owner_client, application).json()
    key = ApplicationKey.objects.get(pk=body["keyMappingId"])
    first_rat = key.get_remote_state()["registration_access_token"]

    response = owner_client.put(
        api(f"applications/{application.pk}/oauth-keys/{key.pk}"),
        {
            "grantTypesToBeSupported": ["client_credentials", "authorization_code"],
            "callbackUrl": "https://weather.example/cb",
            "keyType": "PRODUCTION",
        },
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    key.refresh_from_db()
    state = key.get_remote_state()
    assert state["registration_access_token"] != first_rat
    remote = httpx.get(
        state["registration_client_uri"],
        headers={"Authorization": f"Bearer {state['registration_access_token']}"},
    ).json()
    assert remote["redirect_uris"] == ["https://weather.example/cb"]
    assert set(remote["grant_types"]) == {"client_credentials", "authorization_code"}


def test_with_the_peer_stopped_generation_fails_clearly_and_saves_nothing(
    owner_client, application, dcr_key_manager, oidc_peer, stop_peer
):
    stop_peer(oidc_peer)

    response = generate_keys(owner_client, application)

    assert response.status_code == 502
    body = response.json()
    text = f"{body['message']} {body['description']}"
    assert "Peer IdP" in text and "register client" in text and "could not connect" in text
    assert not ApplicationKey.objects.filter(application=application).exists()
    assert not ConsumerSecret.objects.exists()


def test_the_keys_page_generates_keys_at_the_peer_with_the_adapters_extra_field(
    owner_client, application, dcr_key_manager, oidc_peer
):
    url = reverse("keys_generate", args=[application.pk, "sandbox", "peer"])

    response = owner_client.post(
        url,
        {
            "grant_types": ["client_credentials"],
            "callback_url": "",
            "application_access_token_expiry_time": "3600",
            "user_access_token_expiry_time": "3600",
            "refresh_token_expiry_time": "86400",
            "id_token_expiry_time": "3600",
            "ap_scope": "default read",
        },
    )

    assert response.status_code == 200
    key = ApplicationKey.objects.get(application=application, key_type="SANDBOX", key_manager=dcr_key_manager)
    page = response.content.decode()
    assert key.consumer_key in page
    remote = httpx.get(
        key.get_remote_state()["registration_client_uri"],
        headers={"Authorization": f"Bearer {key.get_remote_state()['registration_access_token']}"},
    ).json()
    assert remote["scope"] == "default read"  # the adapter's extra field reached the peer


def test_the_keys_page_says_which_key_manager_and_step_failed(
    owner_client, application, dcr_key_manager, oidc_peer, stop_peer
):
    stop_peer(oidc_peer)
    url = reverse("keys_generate", args=[application.pk, "production", "peer"])

    response = owner_client.post(
        url,
        {
            "grant_types": ["client_credentials"],
            "application_access_token_expiry_time": "3600",
            "user_access_token_expiry_time": "3600",
            "refresh_token_expiry_time": "86400",
            "id_token_expiry_time": "3600",
        },
    )

    assert response.status_code == 502
    assert "Peer IdP: register client failed: could not connect to 127.0.0.1" in response.content.decode()
    assert not ApplicationKey.objects.filter(application=application).exists()


def test_an_update_at_a_server_that_rotates_secrets_shows_the_new_secret_once(
    owner_client, application, oidc_peer_rotating_secrets
):
    km = make_dcr_key_manager(oidc_peer_rotating_secrets, name="peer")
    old = generate_keys(owner_client, application).json()
    key = ApplicationKey.objects.get(pk=old["keyMappingId"])

    response = owner_client.put(
        api(f"applications/{application.pk}/oauth-keys/{key.pk}"),
        # The reference's own field name for the grant list.
        {"supportedGrantTypes": ["client_credentials"], "callbackUrl": ""},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    new_secret = response.json()["consumerSecret"]
    assert new_secret and new_secret != old["consumerSecret"]
    assert peer_token(km, old["consumerKey"], new_secret).status_code == 200
    assert peer_token(km, old["consumerKey"], old["consumerSecret"]).status_code == 401
    # Only the new secret is on record, as a hash.
    stored = ConsumerSecret.objects.get(key=key)
    assert stored.secret_hash == crypto.keyed_hash(new_secret)
    # Afterwards the key reads back without any secret value.
    read_back = owner_client.get(api(f"applications/{application.pk}/oauth-keys/{key.pk}")).json()
    assert read_back.get("consumerSecret") is None
