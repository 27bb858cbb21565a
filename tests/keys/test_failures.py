"""Failed generations never leave hidden half-made state (with an in-memory key manager that fails on demand)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import IntegrityError

from keymanagers.base import KeyManagerError
from keys import services, tokens
from keys.errors import KeysConflict, KeysError, KeysPartiallyCreated
from keys.models import ApplicationKey, ConsumerSecret
from portal.models import AuditEvent
from tests.keys.helpers import CC_CONFIG, FakeAdapter, key_url, keys_url


def generate(application, km, owner, key_type="PRODUCTION"):
    return services.keys_generate(
        application=application, key_type=key_type, key_manager=km, config=CC_CONFIG, actor=owner
    )


def test_when_the_key_manager_refuses_to_create_nothing_is_saved(application, fake_km, owner):
    FakeAdapter.fail["register client"] = "503 Service Unavailable"

    with pytest.raises(KeyManagerError) as caught:
        generate(application, fake_km, owner)

    assert str(caught.value) == "Fake KM: register client failed: 503 Service Unavailable"
    assert not ApplicationKey.objects.exists()
    assert not FakeAdapter.clients
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("keys.generate", "failure")


def test_when_the_token_fails_after_creation_the_client_is_removed_again(application, fake_km, owner):
    FakeAdapter.fail["generate token"] = "timed out after 10 s"

    with pytest.raises(KeyManagerError, match="Fake KM: generate token failed: timed out"):
        generate(application, fake_km, owner)

    assert FakeAdapter.calls == ["register client", "generate token", "delete client"]
    assert not FakeAdapter.clients
    assert not ApplicationKey.objects.exists()
    assert not ConsumerSecret.objects.exists()


def test_when_saving_fails_after_creation_the_client_is_removed_again(application, fake_km, owner):
    with mock.patch.object(services, "_store_secret", side_effect=RuntimeError("disk full")):
        with pytest.raises(KeysError, match="saving the keys in the portal failed.*removed again"):
            generate(application, fake_km, owner)

    assert "delete client" in FakeAdapter.calls
    assert not FakeAdapter.clients
    assert not ApplicationKey.objects.exists()


def test_a_concurrent_duplicate_is_removed_at_the_key_manager_and_reported_as_a_conflict(
    application, fake_km, owner
):
    with mock.patch.object(services, "_store_secret", side_effect=IntegrityError("unique")):
        with pytest.raises(KeysConflict, match="Keys already exist"):
            generate(application, fake_km, owner)
    assert not FakeAdapter.clients


def test_when_removing_the_client_fails_too_the_key_is_kept_partially_created(application, fake_km, owner):
    FakeAdapter.fail["generate token"] = "timed out"
    FakeAdapter.fail["delete client"] = "connection refused"

    with pytest.raises(KeysPartiallyCreated) as caught:
        generate(application, fake_km, owner)

    message = str(caught.value)
    assert "Keys are partially created" in message
    assert "Fake KM: generate token failed: timed out" in message
    assert "Fake KM: delete client failed: connection refused" in message
    key = ApplicationKey.objects.get()
    assert key.key_state == ApplicationKey.State.PARTIALLY_CREATED
    assert key.consumer_key in FakeAdapter.clients
    assert "connection refused" in key.failure_reason
    assert key.get_remote_state() == {"rat": "rat-1"}
    assert not key.secrets.exists()


def test_clean_up_removes_a_partially_created_key_everywhere(application, fake_km, owner):
    FakeAdapter.fail.update({"generate token": "timed out", "delete client": "connection refused"})
    with pytest.raises(KeysPartiallyCreated):
        generate(application, fake_km, owner)
    key = ApplicationKey.objects.get()

    FakeAdapter.fail.pop("delete client")  # the key manager is back
    services.keys_clean_up(key=key, actor=owner)

    assert not ApplicationKey.objects.exists()
    assert not FakeAdapter.clients
    assert AuditEvent.objects.filter(action="keys.clean_up", outcome="success").exists()


def test_clean_up_that_fails_keeps_the_key_for_another_try(application, fake_km, owner):
    FakeAdapter.fail.update({"generate token": "timed out", "delete client": "connection refused"})
    with pytest.raises(KeysPartiallyCreated):
        generate(application, fake_km, owner)
    key = ApplicationKey.objects.get()

    with pytest.raises(KeyManagerError, match="delete client failed"):
        services.keys_clean_up(key=key, actor=owner)

    assert ApplicationKey.objects.filter(pk=key.pk).exists()


def test_a_partially_created_key_cannot_be_updated_or_used_for_tokens(application, fake_km, owner):
    FakeAdapter.fail.update({"generate token": "timed out", "delete client": "connection refused"})
    with pytest.raises(KeysPartiallyCreated):
        generate(application, fake_km, owner)
    key = ApplicationKey.objects.get()
    with pytest.raises(KeysError, match="clean them up first"):
        services.keys_update(key=key, config=CC_CONFIG, actor=owner)
    with pytest.raises(KeysError, match="clean them up first"):
        tokens.token_generate(key=key, consumer_secret="x", actor=owner)


def test_the_adapter_state_is_saved_even_when_an_update_fails(application, fake_km, owner):
    key = generate(application, fake_km, owner).key
    FakeAdapter.fail["update client"] = "500"

    with pytest.raises(KeyManagerError):
        services.keys_update(key=key, config=CC_CONFIG, actor=owner)

    key.refresh_from_db()
    assert key.get_remote_state() == {"rat": "rat-1+"}  # the rotated token was kept


def test_removing_keys_stops_when_the_key_manager_fails_and_keeps_the_key(application, fake_km, owner):
    key = generate(application, fake_km, owner).key
    FakeAdapter.fail["delete client"] = "connection refused"

    with pytest.raises(KeyManagerError, match="Fake KM: delete client failed"):
        services.keys_delete(key=key, actor=owner)

    assert ApplicationKey.objects.filter(pk=key.pk).exists()
    assert AuditEvent.objects.filter(action="keys.delete", outcome="failure").exists()


def test_deleting_all_keys_propagates_the_key_manager_error(application, fake_km, owner):
    generate(application, fake_km, owner)
    FakeAdapter.fail["delete client"] = "connection refused"
    with pytest.raises(KeyManagerError, match="Fake KM"):
        services.keys_delete_all(application=application, actor=owner)
    assert application.keys.count() == 1


def test_mapping_existing_keys(application, fake_km, owner):
    key = services.keys_map(
        application=application,
        key_type="SANDBOX",
        key_manager=fake_km,
        consumer_key=" existing-client ",
        consumer_secret="right-secret",
        actor=owner,
    )
    assert key.mode == ApplicationKey.Mode.MAPPED
    assert key.consumer_key == "existing-client"
    assert key.secrets.count() == 1

    # The same client cannot be claimed twice.
    with pytest.raises(KeysConflict, match="already used"):
        services.keys_map(
            application=application,
            key_type="PRODUCTION",
            key_manager=fake_km,
            consumer_key="existing-client",
            consumer_secret="right-secret",
            actor=owner,
        )


def test_removing_mapped_keys_leaves_the_client_at_the_key_manager(application, fake_km, owner):
    key = services.keys_map(
        application=application,
        key_type="SANDBOX",
        key_manager=fake_km,
        consumer_key="existing-client",
        consumer_secret="right-secret",
        actor=owner,
    )
    services.keys_delete(key=key, actor=owner)
    assert "delete client" not in FakeAdapter.calls
    assert not ApplicationKey.objects.exists()


def test_mapping_with_a_wrong_secret_saves_nothing(application, fake_km, owner):
    with pytest.raises(KeyManagerError, match="invalid_client"):
        services.keys_map(
            application=application,
            key_type="SANDBOX",
            key_manager=fake_km,
            consumer_key="existing-client",
            consumer_secret="wrong",
            actor=owner,
        )
    assert not ApplicationKey.objects.exists()


def test_the_page_shows_partially_created_keys_with_clean_up(owner_client, application, fake_km, owner):
    FakeAdapter.fail.update({"generate token": "timed out", "delete client": "connection refused"})
    response = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/generate/",
        {
            "grant_types": ["client_credentials"],
            "application_access_token_expiry_time": 3600,
            "user_access_token_expiry_time": 3600,
            "refresh_token_expiry_time": 86400,
            "id_token_expiry_time": 3600,
        },
    )
    assert response.status_code == 502
    page = response.content.decode()
    assert "Keys are partially created" in page
    assert "connection refused" in page
    key = ApplicationKey.objects.get()
    assert key_url("keys_clean_up", key) in page

    FakeAdapter.fail.clear()
    response = owner_client.post(key_url("keys_clean_up", key))
    assert response.status_code == 302
    assert response["Location"] == keys_url(application, km="fake")
    assert not ApplicationKey.objects.exists()
    assert not FakeAdapter.clients


def test_the_page_names_the_key_manager_and_step_when_generation_fails(owner_client, application, fake_km):
    FakeAdapter.fail["register client"] = "401 invalid admin credentials"
    response = owner_client.post(
        f"/applications/{application.pk}/keys/production/fake/generate/",
        {
            "grant_types": ["client_credentials"],
            "application_access_token_expiry_time": 3600,
            "user_access_token_expiry_time": 3600,
            "refresh_token_expiry_time": 86400,
            "id_token_expiry_time": 3600,
        },
    )
    assert response.status_code == 502
    assert "Fake KM: register client failed: 401 invalid admin credentials" in response.content.decode()
    assert not ApplicationKey.objects.exists()
