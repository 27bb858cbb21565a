"""The Okta adapter against a simulated org: exact requests, names, two secrets, errors."""

from __future__ import annotations

import httpx
import pytest

from keymanagers.base import ClientConfig, ClientRef, InvalidScope, KeyManagerError, adapter_for
from keymanagers.okta import OktaAdapter
from tests.external.conftest import make_okta_key_manager
from tests.external.simulators.base import basic_credentials

pytestmark = pytest.mark.django_db

ORG = "https://dev-123.okta.com"
AUTH_SERVER = f"{ORG}/oauth2/aus1portal"


def cc_config(**kwargs) -> ClientConfig:
    return ClientConfig(name=kwargs.pop("name", "Weather app"), grant_types=["client_credentials"], **kwargs)


def test_the_registry_maps_okta_to_this_adapter_with_two_secrets_at_most(okta_key_manager):
    adapter = adapter_for(okta_key_manager)

    assert isinstance(adapter, OktaAdapter)
    assert adapter.supports_multiple_secrets is True
    assert adapter.max_secrets == 2


def test_endpoints_come_from_the_org_and_the_authorization_server(okta_key_manager):
    endpoints = adapter_for(okta_key_manager).endpoints()

    assert endpoints["token"] == f"{AUTH_SERVER}/v1/token"
    assert endpoints["introspect"] == f"{AUTH_SERVER}/v1/introspect"
    assert endpoints["revoke"] == f"{AUTH_SERVER}/v1/revoke"
    assert endpoints["jwks"] == f"{AUTH_SERVER}/v1/keys"


def test_the_authorization_server_defaults_to_default(db, okta_sim):
    km = make_okta_key_manager(okta_sim, config={"authorization_server_id": ""})

    assert adapter_for(km).endpoints()["token"] == f"{ORG}/oauth2/default/v1/token"


def test_a_client_credentials_key_becomes_a_service_app_named_as_the_portal_names_it(
    okta_key_manager, okta_sim
):
    client = adapter_for(okta_key_manager).register_client(cc_config())

    create = okta_sim.sent("POST", "/oauth2/v1/clients")[0]
    assert create.authorization == "SSWS okta-api-token"
    sent = dict(create.json)
    name = sent.pop("client_name")
    # Okta dropped client_name uniqueness in 2022: no random suffix.
    assert name == "Weather app"
    assert sent == {
        "grant_types": ["client_credentials"],
        "response_types": ["token"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "service",
    }
    remote = okta_sim.clients[client.ref.client_id]
    assert client.secret.value == remote.secrets[0].value
    assert client.secret.remote_id == remote.secrets[0].id
    assert client.ref.state == {
        "app_id": client.ref.client_id,
        "client_name": name,
        "secret_hash": client.ref.state["secret_hash"],
    }


def test_application_types_follow_the_configuration(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    adapter.register_client(
        ClientConfig(
            name="Web",
            grant_types=["authorization_code", "refresh_token"],
            callback_url="https://web.example/cb",
        )
    )
    adapter.register_client(
        ClientConfig(
            name="SPA",
            grant_types=["authorization_code"],
            public_client=True,
            callback_url="https://spa.example/cb",
        )
    )

    web, spa = (s.json for s in okta_sim.sent("POST", "/oauth2/v1/clients"))
    assert web["application_type"] == "web" and web["response_types"] == ["code"]
    assert web["redirect_uris"] == ["https://web.example/cb"]
    assert spa["application_type"] == "browser" and spa["token_endpoint_auth_method"] == "none"


def test_two_apps_with_the_same_name_both_register(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)

    first = adapter.register_client(cc_config())
    second = adapter.register_client(cc_config())

    assert first.ref.state["client_name"] == second.ref.state["client_name"] == "Weather app"
    assert first.ref.client_id != second.ref.client_id


def test_a_refused_registration_is_reported_with_oktas_words_and_not_retried(okta_key_manager, okta_sim):
    duplicate = {
        "error": "invalid_client_metadata",
        "error_description": "client_name: An object with this field already exists in the current organization",
    }
    okta_sim.fail("POST", "/oauth2/v1/clients", status=400, body=duplicate)

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(okta_key_manager).register_client(cc_config())

    assert caught.value.status == 400
    assert "already exists" in str(caught.value)
    assert okta_sim.clients == {}
    assert len(okta_sim.sent("POST", "/oauth2/v1/clients")) == 1


def test_a_wrong_api_token_gets_oktas_error_summary(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"api_token": "wrong"})

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).register_client(cc_config())

    assert str(caught.value) == "Okta: register client failed: E0000011: Invalid token provided (HTTP 401)"


def test_an_oauth_access_token_may_replace_the_api_token(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"access_token": "okta-oauth-token"})

    with pytest.raises(KeyManagerError):
        adapter_for(km).register_client(cc_config())  # the simulator only knows the API token

    assert okta_sim.requests[0].authorization == "Bearer okta-oauth-token"


def test_update_is_a_full_replace_that_keeps_the_registered_name(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    adapter.update_client(
        client.ref,
        ClientConfig(
            name="Weather app",
            grant_types=["client_credentials", "authorization_code"],
            callback_url="https://weather.example/cb",
        ),
    )

    put = okta_sim.sent("PUT")[0]
    assert put.path == f"/oauth2/v1/clients/{client.ref.client_id}"
    assert put.json == {
        "client_id": client.ref.client_id,
        "client_name": client.ref.state["client_name"],
        "grant_types": ["client_credentials", "authorization_code"],
        "response_types": ["code"],
        "redirect_uris": ["https://weather.example/cb"],
        "token_endpoint_auth_method": "client_secret_basic",
        "application_type": "web",
    }
    assert okta_sim.clients[client.ref.client_id].metadata["application_type"] == "web"


def test_deleting_a_client_twice_is_fine_because_okta_says_404_e0000007(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    adapter.delete_client(client.ref)
    adapter.delete_client(client.ref)

    assert [s.method for s in okta_sim.sent(path_contains=client.ref.client_id)][-2:] == ["DELETE", "DELETE"]
    assert okta_sim.clients == {}


def test_deleting_with_a_refused_api_token_is_an_error_not_a_silent_success(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"api_token": "revoked"})

    with pytest.raises(KeyManagerError, match="delete client failed: E0000011"):
        adapter_for(km).delete_client(ClientRef("0oa123", {"app_id": "0oa123"}))


def test_updating_an_unknown_client_is_okta_404_e0000007(okta_key_manager):
    with pytest.raises(KeyManagerError) as caught:
        adapter_for(okta_key_manager).update_client(ClientRef("0oamissing"), cc_config())

    assert caught.value.status == 404
    assert "E0000007" in caught.value.message


def test_regenerating_the_secret_uses_new_secret_and_learns_its_id(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    new = adapter.regenerate_secret(client.ref)

    assert okta_sim.sent("POST", f"/oauth2/v1/clients/{client.ref.client_id}/lifecycle/newSecret")
    remote = okta_sim.clients[client.ref.client_id]
    assert new.value == remote.secrets[0].value != client.secret.value
    assert new.remote_id == remote.secrets[0].id


def test_a_second_secret_is_added_and_the_first_deleted_without_downtime(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    second = adapter.create_secret(client.ref)
    # Both secrets work at the same time.
    for value in (client.secret.value, second.value):
        assert adapter.issue_token(client.ref, client_secret=value, scopes=["read"]).access_token

    adapter.delete_secret(client.ref, client.secret.remote_id)

    calls = [(s.method, s.path) for s in okta_sim.requests[-2:]]
    secrets_path = f"/api/v1/apps/{client.ref.client_id}/credentials/secrets"
    assert calls == [
        ("POST", f"{secrets_path}/{client.secret.remote_id}/lifecycle/deactivate"),
        ("DELETE", f"{secrets_path}/{client.secret.remote_id}"),
    ]
    with pytest.raises(KeyManagerError, match="invalid_client"):
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["read"])
    assert adapter.issue_token(client.ref, client_secret=second.value, scopes=["read"]).access_token


def test_a_third_secret_is_refused_with_oktas_reason(okta_key_manager):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())
    adapter.create_secret(client.ref)

    with pytest.raises(KeyManagerError) as caught:
        adapter.create_secret(client.ref)

    assert caught.value.status == 400
    assert "more than two secrets" in caught.value.message


def test_the_only_active_secret_cannot_be_deleted(okta_key_manager):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    with pytest.raises(KeyManagerError, match="only active secret"):
        adapter.delete_secret(client.ref, client.secret.remote_id)


def test_deleting_a_secret_already_gone_is_fine(okta_key_manager):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    adapter.delete_secret(client.ref, "ocs-long-gone")


def test_disabling_a_client_deactivates_its_app_and_okta_then_refuses_its_secret(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    adapter.disable_client(client.ref)

    [call] = okta_sim.requests[-1:]
    assert (call.method, call.path, call.authorization) == (
        "POST",
        f"/api/v1/apps/{client.ref.client_id}/lifecycle/deactivate",
        "SSWS okta-api-token",
    )
    assert okta_sim.clients[client.ref.client_id].status == "INACTIVE"
    with pytest.raises(KeyManagerError) as caught:
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["read"])
    assert caught.value.status == 401 and "invalid_client" in caught.value.message
    # The app keeps its secret: it is only refused while the app is inactive.
    assert [s.value for s in okta_sim.clients[client.ref.client_id].secrets] == [client.secret.value]


def test_enabling_a_client_activates_its_app_and_its_secret_works_again(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())
    adapter.disable_client(client.ref)

    adapter.enable_client(client.ref)

    assert okta_sim.requests[-1].path == f"/api/v1/apps/{client.ref.client_id}/lifecycle/activate"
    assert okta_sim.clients[client.ref.client_id].status == "ACTIVE"
    assert adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["read"]).access_token


def test_disabling_or_enabling_twice_is_fine(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    adapter.disable_client(client.ref)
    adapter.disable_client(client.ref)
    assert okta_sim.clients[client.ref.client_id].status == "INACTIVE"
    adapter.enable_client(client.ref)
    adapter.enable_client(client.ref)
    assert okta_sim.clients[client.ref.client_id].status == "ACTIVE"


def test_disabling_an_app_okta_does_not_know_is_an_error(okta_key_manager):
    with pytest.raises(KeyManagerError, match="disable client failed: E0000007") as caught:
        adapter_for(okta_key_manager).disable_client(ClientRef("0oagone", {"app_id": "0oagone"}))

    assert caught.value.status == 404


def test_a_mapped_client_is_neither_disabled_nor_enabled_by_the_portal(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    existing = adapter.register_client(cc_config(name="Made in the Okta console"))
    mapped = adapter.map_client(existing.ref.client_id, existing.secret.value)
    sent = len(okta_sim.requests)

    with pytest.raises(KeyManagerError, match="provided as existing keys: deactivate it in the Okta admin"):
        adapter.disable_client(mapped.ref)
    with pytest.raises(KeyManagerError, match="activate it in the Okta admin console"):
        adapter.enable_client(mapped.ref)

    assert len(okta_sim.requests) == sent
    assert okta_sim.clients[existing.ref.client_id].status == "ACTIVE"


def test_disabling_with_a_refused_api_token_is_oktas_error(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"api_token": "revoked"})

    with pytest.raises(KeyManagerError, match="disable client failed: E0000011"):
        adapter_for(km).disable_client(ClientRef("0oa123", {"app_id": "0oa123"}))


def test_tokens_need_a_scope_and_the_portal_says_so_before_asking_okta(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    client = adapter.register_client(cc_config())

    with pytest.raises(KeyManagerError, match="Okta needs a scope for a Client Credentials token"):
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])
    assert okta_sim.sent("POST", "/v1/token") == []
    with pytest.raises(InvalidScope, match="invalid_scope") as refused:
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["unknown"])
    # The request's fault, like the built-in server's: 400 everywhere, not a failure's 502.
    assert refused.value.answer().status == 400
    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["read"])

    assert token.scopes == ["read"] and token.expires_in == 3600
    assert adapter.introspect(token.access_token, ref=client.ref, client_secret=client.secret.value)["active"]
    adapter.revoke_token(client.ref, token.access_token, client_secret=client.secret.value)
    assert not adapter.introspect(token.access_token, ref=client.ref, client_secret=client.secret.value)[
        "active"
    ]


def test_mapping_checks_the_client_exists_and_its_secret_works(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    existing = adapter.register_client(cc_config(name="Made in the Okta console"))

    with pytest.raises(KeyManagerError, match="Okta has no client"):
        adapter.map_client("0oanothere", "whatever")
    with pytest.raises(KeyManagerError, match="does not accept this consumer key and secret"):
        adapter.map_client(existing.ref.client_id, "wrong")
    mapped = adapter.map_client(existing.ref.client_id, existing.secret.value)

    assert mapped.ref.state["mapped"] is True
    assert mapped.grant_types == ["client_credentials"]
    adapter.delete_client(mapped.ref)
    assert existing.ref.client_id in okta_sim.clients  # mapped clients are only forgotten


def test_a_timeout_while_registering_names_the_step(db, okta_sim):
    km = make_okta_key_manager(okta_sim, timeout=1)
    okta_sim.fail("POST", "/oauth2/v1/clients", exception=httpx.ConnectTimeout)

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).register_client(cc_config())

    assert str(caught.value) == "Okta: register client failed: timed out after 1 s"


def test_if_the_secret_id_cannot_be_read_the_new_client_is_deleted_again(okta_key_manager, okta_sim):
    okta_sim.fail(
        "GET",
        "/credentials/secrets",
        status=500,
        body={"errorCode": "E0000009", "errorSummary": "Internal Server Error"},
    )

    with pytest.raises(KeyManagerError, match="find secret id"):
        adapter_for(okta_key_manager).register_client(cc_config())

    assert okta_sim.clients == {}


def test_check_connection_reports_discovery_api_and_token_endpoint(okta_key_manager):
    checks = adapter_for(okta_key_manager).check_connection()

    assert [(c.step, c.ok) for c in checks] == [
        ("discovery", True),
        ("client management API", True),
        ("token", True),
    ]


def test_check_connection_with_a_wrong_api_token_fails_at_the_api_step(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"api_token": "wrong"})

    checks = adapter_for(km).check_connection()

    assert [(c.step, c.ok) for c in checks] == [("discovery", True), ("client management API", False)]
    assert "Invalid token provided" in checks[-1].message


def test_check_connection_without_credentials_says_what_is_missing(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"unrelated": "x"})

    [check] = adapter_for(km).check_connection()

    assert check.step == "configuration" and "API token" in check.message


def test_introspection_uses_dedicated_credentials_when_given(db, okta_sim):
    km = make_okta_key_manager(
        okta_sim,
        credentials={
            "api_token": okta_sim.api_token,
            "introspection_client_id": "0oaresource",
            "introspection_client_secret": "rs-secret",
        },
    )

    with pytest.raises(KeyManagerError, match="introspect token failed: invalid_client"):
        adapter_for(km).introspect("some-token")

    assert basic_credentials(okta_sim.requests[-1]) == ("0oaresource", "rs-secret")
