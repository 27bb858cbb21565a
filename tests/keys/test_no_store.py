"""Answers that may carry a consumer secret or a token are never stored by a cache (``no-store``),
and a key manager that cannot do something at all is the request's fault on the pages (400), as in the API."""

from __future__ import annotations

import json

import pytest

from keymanagers.base import RegisteredClient, SecretInfo
from keys import services
from tests.keys.helpers import CC_CONFIG, FakeAdapter, key_url
from tests.keys.test_pages import update_form

API = "/api/am/devportal/v3"


def api_post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def key_api(key, suffix=""):
    return f"{API}/applications/{key.application_id}/oauth-keys/{key.pk}{suffix}"


def make_key(application, km, owner):
    return services.keys_generate(
        application=application, key_type="PRODUCTION", key_manager=km, config=CC_CONFIG, actor=owner
    )


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_api_answers_carrying_secrets_or_tokens_are_not_stored(
    owner_client, application, single_secret_resident
):
    generated = api_post(
        owner_client,
        f"{API}/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"]},
    )
    assert generated.status_code == 200 and generated.json()["consumerSecret"]
    key_id = generated.json()["keyMappingId"]
    base = f"{API}/applications/{application.pk}/oauth-keys/{key_id}"

    token = api_post(owner_client, base + "/generate-token", {})
    regenerated = api_post(owner_client, base + "/regenerate-secret")
    updated = owner_client.put(
        base, json.dumps({"grantTypesToBeSupported": ["client_credentials"]}), content_type="application/json"
    )

    for response in (generated, token, regenerated, updated):
        assert response.status_code == 200, response.content
        assert response["Cache-Control"] == "no-store"


def test_an_api_error_from_those_operations_is_not_stored_either(owner_client, application, resident):
    response = api_post(
        owner_client,
        f"{API}/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION", "additionalProperties": {"expiresIn": 0}},
    )
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"


def test_a_secret_the_key_manager_rotates_on_update_is_not_stored_by_a_cache(
    owner_client, application, fake_km, owner, monkeypatch
):
    generated = make_key(application, fake_km, owner)
    monkeypatch.setattr(
        FakeAdapter, "update_client", lambda self, ref, config: SecretInfo("fks_rotated-secret")
    )

    page = owner_client.post(key_url("keys_update", generated.key), update_form())
    api = owner_client.put(
        key_api(generated.key),
        json.dumps({"grantTypesToBeSupported": ["client_credentials"]}),
        content_type="application/json",
    )

    assert page.status_code == 200
    assert "fks_rotated-secret" in page.content.decode()
    assert no_store(page)
    assert api.status_code == 200 and api.json()["consumerSecret"] == "fks_rotated-secret"
    assert api["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", ["keys_update", "keys_remove", "keys_clean_up", "keys_token"])
def test_every_keys_page_answer_is_not_stored(owner_client, application, single_secret_resident, owner, name):
    # Each renders the keys page on failure, and that page can reveal the stored secret.
    key = make_key(application, single_secret_resident, owner).key
    response = owner_client.post(key_url(name, key), update_form() if name == "keys_update" else {})
    assert no_store(response), (name, response.status_code)


def test_the_map_page_answer_is_not_stored(owner_client, application, fake_km):
    response = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/map/",
        {"map-consumer_key": "client", "map-consumer_secret": "wrong"},
    )
    assert response.status_code == 502
    assert no_store(response)


# -- a key manager that cannot do something ----------------------------------------------------------------


def test_regenerating_at_a_key_manager_that_cannot_is_a_400_on_the_page(
    owner_client, application, fake_km, owner, monkeypatch
):
    key = make_key(application, fake_km, owner).key

    def regenerate_secret(self, ref):
        raise self.not_supported("regenerate secret")

    monkeypatch.setattr(FakeAdapter, "regenerate_secret", regenerate_secret)

    response = owner_client.post(key_url("keys_regenerate_secret", key))

    assert response.status_code == 400
    assert "regenerate secret" in response.content.decode()


def test_removing_at_a_key_manager_that_cannot_is_a_400_on_the_confirmation_page(
    owner_client, application, fake_km, owner, monkeypatch
):
    key = make_key(application, fake_km, owner).key

    def delete_client(self, ref):
        raise self.not_supported("delete client")

    monkeypatch.setattr(FakeAdapter, "delete_client", delete_client)

    response = owner_client.post(key_url("keys_remove", key))

    assert response.status_code == 400
    assert "delete client" in response.content.decode()
    assert application.keys.count() == 1


def test_mapping_at_a_key_manager_that_cannot_is_a_400_on_the_page_and_in_the_api(
    owner_client, application, fake_km, monkeypatch
):
    def map_client(self, client_id, client_secret="", state=None) -> RegisteredClient:
        raise self.not_supported("map existing client")

    monkeypatch.setattr(FakeAdapter, "map_client", map_client)

    page = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/map/",
        {"map-consumer_key": "client", "map-consumer_secret": "right-secret"},
    )
    api = api_post(
        owner_client,
        f"{API}/applications/{application.pk}/map-keys",
        {
            "consumerKey": "client",
            "consumerSecret": "right-secret",
            "keyManager": "fake",
            "keyType": "PRODUCTION",
        },
    )

    assert page.status_code == 400
    assert "map existing client" in page.content.decode()
    assert api.status_code == 400
    assert not application.keys.exists()
