"""One OAuth client belongs to one key (constraint ``one_key_per_client``): a second application
mapping it, or a key manager handing it out again, gets a clear 409 and nothing half-written."""

from __future__ import annotations

import json

import pytest

from keymanagers.base import ClientRef, RegisteredClient, SecretInfo
from keys import services
from keys.errors import KeysConflict
from keys.models import ApplicationKey, ConsumerSecret
from portal.models import AuditEvent
from tests.keys.helpers import CC_CONFIG, FakeAdapter

API = "/api/am/devportal/v3"
IN_USE = "These OAuth keys are already used by an application"


def map_keys(application, key_manager, owner, consumer_key="shared-client"):
    return services.keys_map(
        application=application,
        key_type="PRODUCTION",
        key_manager=key_manager,
        consumer_key=consumer_key,
        consumer_secret="right-secret",
        actor=owner,
    )


@pytest.fixture
def mapped_by_another_request_meanwhile(monkeypatch, others_application, fake_km):
    """While the key manager checks the client, another request maps it for another application
    (what the checks before the call cannot see)."""
    real = FakeAdapter.map_client

    def map_client(self, client_id, client_secret="", state=None):
        registered = real(self, client_id, client_secret, state)
        ApplicationKey.objects.create(
            application=others_application,
            key_type="PRODUCTION",
            key_manager=fake_km,
            consumer_key=client_id,
            mode=ApplicationKey.Mode.MAPPED,
        )
        return registered

    monkeypatch.setattr(FakeAdapter, "map_client", map_client)


def test_a_second_application_cannot_map_a_client_already_mapped(
    owner_client, application, others_application, fake_km, other_developer
):
    map_keys(others_application, fake_km, other_developer)

    page = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/map/",
        {"map-consumer_key": "shared-client", "map-consumer_secret": "right-secret"},
    )
    api = owner_client.post(
        f"{API}/applications/{application.pk}/map-keys",
        json.dumps(
            {
                "consumerKey": "shared-client",
                "consumerSecret": "right-secret",
                "keyManager": "fake",
                "keyType": "PRODUCTION",
            }
        ),
        content_type="application/json",
    )

    assert page.status_code == 409
    assert IN_USE in page.content.decode()
    assert api.status_code == 409
    # 901409: the reference's KEY_MAPPING_ALREADY_EXIST.
    assert api.json()["code"] == 901409 and IN_USE in api.json()["description"]
    assert not application.keys.exists()


def test_mapping_a_client_that_another_request_mapped_meanwhile_is_a_conflict_and_saves_nothing(
    application, others_application, fake_km, owner, mapped_by_another_request_meanwhile
):
    with pytest.raises(KeysConflict, match=IN_USE) as caught:
        map_keys(application, fake_km, owner)

    assert caught.value.status == 409
    assert not application.keys.exists()
    assert not ConsumerSecret.objects.filter(key__application=application).exists()
    winner = ApplicationKey.objects.get(consumer_key="shared-client")
    assert winner.application_id == others_application.pk
    failure = AuditEvent.objects.get(action="keys.map")
    assert failure.outcome == AuditEvent.Outcome.FAILURE


def test_the_map_page_and_api_answer_409_when_another_request_mapped_the_client_meanwhile(
    owner_client, application, fake_km, mapped_by_another_request_meanwhile
):
    page = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/map/",
        {"map-consumer_key": "shared-client", "map-consumer_secret": "right-secret"},
    )
    assert page.status_code == 409
    assert IN_USE in page.content.decode()
    assert not application.keys.exists()

    ApplicationKey.objects.filter(consumer_key="shared-client").delete()
    api = owner_client.post(
        f"{API}/applications/{application.pk}/map-keys",
        json.dumps(
            {
                "consumerKey": "shared-client",
                "consumerSecret": "right-secret",
                "keyManager": "fake",
                "keyType": "PRODUCTION",
            }
        ),
        content_type="application/json",
    )
    assert api.status_code == 409
    assert IN_USE in api.json()["description"]
    assert not application.keys.exists()


def test_generating_keys_that_the_key_manager_hands_out_again_never_deletes_the_other_applications_client(
    owner_client, application, others_application, fake_km, other_developer, monkeypatch
):
    theirs = services.keys_generate(
        application=others_application,
        key_type="PRODUCTION",
        key_manager=fake_km,
        config=CC_CONFIG,
        actor=other_developer,
    )
    their_client = theirs.key.consumer_key

    def register_client(self, config, *, secret_expires_at=None):
        self._step("register client")
        return RegisteredClient(
            ref=ClientRef(their_client, {}),
            secret=SecretInfo(theirs.consumer_secret),
            grant_types=config.grant_types,
        )

    monkeypatch.setattr(FakeAdapter, "register_client", register_client)
    FakeAdapter.calls.clear()

    response = owner_client.post(
        f"{API}/applications/{application.pk}/generate-keys",
        json.dumps(
            {"keyType": "PRODUCTION", "keyManager": "fake", "grantTypesToBeSupported": ["client_credentials"]}
        ),
        content_type="application/json",
    )

    assert response.status_code == 409
    assert IN_USE in response.json()["description"]
    assert "delete client" not in FakeAdapter.calls
    assert their_client in FakeAdapter.clients
    assert not application.keys.exists()


def test_generating_keys_whose_client_another_request_saved_meanwhile_is_a_conflict(
    application, others_application, fake_km, owner, monkeypatch
):
    real = FakeAdapter.issue_token

    def issue_token(self, ref, **kwargs):
        # Another request saves a key for this very client between our check and our insert.
        ApplicationKey.objects.create(
            application=others_application,
            key_type="PRODUCTION",
            key_manager=fake_km,
            consumer_key=ref.client_id,
        )
        return real(self, ref, **kwargs)

    monkeypatch.setattr(FakeAdapter, "issue_token", issue_token)

    with pytest.raises(KeysConflict, match=IN_USE):
        services.keys_generate(
            application=application, key_type="PRODUCTION", key_manager=fake_km, config=CC_CONFIG, actor=owner
        )

    assert "delete client" not in FakeAdapter.calls
    assert not application.keys.exists()
    assert not ConsumerSecret.objects.filter(key__application=application).exists()
