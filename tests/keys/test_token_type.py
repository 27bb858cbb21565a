"""Changing an application's token type reaches its existing keys (page and REST API), all or nothing."""

from __future__ import annotations

import json

import pytest

from keymanagers.base import KeyManagerError
from keymanagers.models import OAuthClient
from keymanagers.resident.adapter import ResidentAdapter
from keys import services, tokens
from keys.models import ApplicationKey
from portal.applications import services as portal_services
from portal.models import AuditEvent
from tests.keys.helpers import CC_CONFIG, FakeAdapter

API = "/api/am/devportal/v3"


def generate(application, key_manager, owner, key_type="PRODUCTION"):
    return services.keys_generate(
        application=application, key_type=key_type, key_manager=key_manager, config=CC_CONFIG, actor=owner
    )


def put_application(client, application, **changes):
    body = {"name": application.name, "description": application.description, "tokenType": "JWT", **changes}
    return client.put(
        f"{API}/applications/{application.pk}", json.dumps(body), content_type="application/json"
    )


def token_via_api(client, generated):
    key = generated.key
    return client.post(
        f"{API}/applications/{key.application_id}/oauth-keys/{key.pk}/generate-token",
        json.dumps({"consumerSecret": generated.consumer_secret}),
        content_type="application/json",
    )


def is_jwt(token: str) -> bool:
    return token.count(".") == 2


def token_format(generated) -> str:
    return OAuthClient.objects.get(client_id=generated.key.consumer_key).token_format


def edit_page(client, application, token_type):
    return client.post(
        f"/applications/{application.pk}/edit/",
        {"name": application.name, "description": application.description, "token_type": token_type},
    )


@pytest.fixture
def fail_second_update(monkeypatch):
    """The Resident server fails on the second client update it is asked for, whatever it is."""
    calls = []
    real = ResidentAdapter.update_client

    def update_client(self, ref, config):
        calls.append(ref.client_id)
        if len(calls) == 2:
            raise self.error("update client", "database unavailable")
        return real(self, ref, config)

    monkeypatch.setattr(ResidentAdapter, "update_client", update_client)
    return calls


def test_changing_the_token_type_through_the_api_makes_existing_keys_issue_opaque_tokens(
    owner_client, application, resident, owner
):
    generated = generate(application, resident, owner)
    assert is_jwt(token_via_api(owner_client, generated).json()["accessToken"])

    response = put_application(owner_client, application, tokenType="OAUTH")

    assert response.status_code == 200, response.content
    assert response.json()["tokenType"] == "OAUTH"
    application.refresh_from_db()
    assert application.token_type == "OAUTH"
    assert token_format(generated) == "OAUTH"
    token = token_via_api(owner_client, generated).json()["accessToken"]
    assert not is_jwt(token)
    assert len(token) >= 43  # at least 256 random bits


def test_changing_the_token_type_on_the_edit_page_reaches_every_key(
    owner_client, application, resident, owner
):
    production = generate(application, resident, owner)
    sandbox = generate(application, resident, owner, key_type="SANDBOX")

    response = edit_page(owner_client, application, "OAUTH")

    assert response.status_code == 302
    assert (token_format(production), token_format(sandbox)) == ("OAUTH", "OAUTH")
    token = tokens.token_generate(key=sandbox.key, consumer_secret=sandbox.consumer_secret, actor=owner)
    assert not is_jwt(token.access_token)
    # And back again.
    application.refresh_from_db()
    assert edit_page(owner_client, application, "JWT").status_code == 302
    assert (token_format(production), token_format(sandbox)) == ("JWT", "JWT")


def test_when_a_key_manager_fails_the_token_type_stays_and_changed_keys_are_put_back(
    owner_client, application, resident, owner, fail_second_update
):
    production = generate(application, resident, owner)
    sandbox = generate(application, resident, owner, key_type="SANDBOX")

    response = put_application(owner_client, application, tokenType="OAUTH", description="changed")

    assert response.status_code == 502
    body = response.json()
    assert body["code"] == 502
    assert "update client failed: database unavailable" in body["description"]
    application.refresh_from_db()
    assert (application.token_type, application.description) == ("JWT", "")
    # The first key was changed, then put back when the second failed.
    assert fail_second_update == [
        production.key.consumer_key,
        sandbox.key.consumer_key,
        production.key.consumer_key,
    ]
    assert (token_format(production), token_format(sandbox)) == ("JWT", "JWT")
    assert is_jwt(token_via_api(owner_client, production).json()["accessToken"])
    failure = AuditEvent.objects.get(action="application.update")
    assert failure.outcome == AuditEvent.Outcome.FAILURE


def test_the_edit_page_shows_a_key_manager_failure_and_keeps_the_old_token_type(
    owner_client, application, resident, owner, fail_second_update
):
    generate(application, resident, owner)
    generate(application, resident, owner, key_type="SANDBOX")

    response = edit_page(owner_client, application, "OAUTH")

    assert response.status_code == 502
    text = response.content.decode()
    assert "The application was not changed" in text
    assert "update client failed: database unavailable" in text
    assert "keep the token type JWT" in text
    application.refresh_from_db()
    assert application.token_type == "JWT"
    assert set(OAuthClient.objects.values_list("token_format", flat=True)) == {"JWT"}


def test_when_putting_a_key_back_fails_too_the_error_says_so(application, resident, owner, monkeypatch):
    production = generate(application, resident, owner)
    generate(application, resident, owner, key_type="SANDBOX")
    real = ResidentAdapter.update_client
    calls = []

    def update_client(self, ref, config):
        calls.append(config.token_type)
        if len(calls) >= 2:
            raise self.error("update client", "connection refused")
        return real(self, ref, config)

    monkeypatch.setattr(ResidentAdapter, "update_client", update_client)

    with pytest.raises(KeyManagerError) as caught:
        portal_services.application_update(
            application=application, actor=owner, name=application.name, token_type="OAUTH"
        )

    message = str(caught.value)
    assert "putting the token type JWT back on the keys already changed also failed" in message
    assert "Production keys at Resident" in message
    # Nothing hidden: the application is unchanged, and the key that kept the new type is named.
    application.refresh_from_db()
    assert application.token_type == "JWT"
    assert token_format(production) == "OAUTH"


def test_a_disabled_key_manager_refuses_the_change_before_touching_any_key(
    owner_client, application, resident, owner, monkeypatch
):
    generated = generate(application, resident, owner)
    resident.enabled = False
    resident.save()
    updates = []
    monkeypatch.setattr(ResidentAdapter, "update_client", lambda self, ref, config: updates.append(ref))

    response = put_application(owner_client, application, tokenType="OAUTH")

    assert response.status_code == 400
    assert "disabled" in response.json()["description"]
    assert updates == []
    application.refresh_from_db()
    assert application.token_type == "JWT"
    assert token_format(generated) == "JWT"


def test_keys_at_external_key_managers_are_not_updated(application, fake_km, resident, owner):
    generate(application, fake_km, owner)
    FakeAdapter.calls.clear()

    portal_services.application_update(
        application=application, actor=owner, name=application.name, token_type="OAUTH"
    )

    # External servers choose their token format themselves: nothing to send them.
    assert "update client" not in FakeAdapter.calls
    application.refresh_from_db()
    assert application.token_type == "OAUTH"


def test_a_partially_created_key_is_skipped(application, resident, owner):
    generated = generate(application, resident, owner)
    ApplicationKey.objects.filter(pk=generated.key.pk).update(
        key_state=ApplicationKey.State.PARTIALLY_CREATED
    )

    portal_services.application_update(
        application=application, actor=owner, name=application.name, token_type="OAUTH"
    )

    application.refresh_from_db()
    assert application.token_type == "OAUTH"
    assert token_format(generated) == "JWT"


def test_when_saving_the_application_fails_its_keys_get_the_old_token_type_back(
    application, resident, owner, monkeypatch
):
    generated = generate(application, resident, owner)

    def lose_the_race(app):
        raise portal_services.DuplicateApplicationName(app.name)

    monkeypatch.setattr(portal_services, "_save_unique", lose_the_race)

    with pytest.raises(portal_services.DuplicateApplicationName):
        portal_services.application_update(
            application=application, actor=owner, name=application.name, token_type="OAUTH"
        )

    assert application.token_type == "JWT"
    assert token_format(generated) == "JWT"


def test_a_duplicate_name_is_refused_before_any_key_changes(application, resident, owner):
    generated = generate(application, resident, owner)
    portal_services.application_create(owner=owner, name="Taken")

    with pytest.raises(portal_services.DuplicateApplicationName):
        portal_services.application_update(
            application=application, actor=owner, name="taken", token_type="OAUTH"
        )

    assert token_format(generated) == "JWT"
