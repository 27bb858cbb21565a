"""The Keycloak adapter against a simulated realm: exact requests, RAT rotation, admin API, errors."""

from __future__ import annotations

import httpx
import pytest
from django.core.cache import cache

from keymanagers.base import ClientConfig, KeyManagerError, adapter_for
from keymanagers.keycloak import KeycloakAdapter
from tests.external.conftest import make_keycloak_key_manager
from tests.external.simulators.base import basic_credentials

pytestmark = pytest.mark.django_db

REALM = "https://sso.example.com/realms/devportal"
DCR = f"{REALM}/clients-registrations/openid-connect"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def cc_config(**kwargs) -> ClientConfig:
    return ClientConfig(name=kwargs.pop("name", "Weather app"), grant_types=["client_credentials"], **kwargs)


def test_the_registry_maps_keycloak_to_this_adapter(keycloak_key_manager):
    assert isinstance(adapter_for(keycloak_key_manager), KeycloakAdapter)


def test_endpoints_are_derived_from_base_url_and_realm(keycloak_key_manager):
    endpoints = adapter_for(keycloak_key_manager).endpoints()

    assert endpoints["token"] == f"{REALM}/protocol/openid-connect/token"
    assert endpoints["introspect"] == f"{REALM}/protocol/openid-connect/token/introspect"
    assert endpoints["revoke"] == f"{REALM}/protocol/openid-connect/revoke"
    assert endpoints["jwks"] == f"{REALM}/protocol/openid-connect/certs"
    assert endpoints["userinfo"] == f"{REALM}/protocol/openid-connect/userinfo"


def test_without_a_service_account_registration_posts_metadata_with_the_initial_access_token(
    db, keycloak_sim
):
    km = make_keycloak_key_manager(keycloak_sim, service_account=False)
    client = adapter_for(km).register_client(
        ClientConfig(
            name="Weather app",
            grant_types=["client_credentials", "authorization_code"],
            callback_url="https://weather.example/cb",
        )
    )

    seen, read_back = keycloak_sim.requests
    assert (seen.method, seen.path) == ("POST", "/realms/devportal/clients-registrations/openid-connect")
    assert seen.authorization == "Bearer kc-initial-access-token"
    assert seen.json == {
        "client_name": "Weather app",
        "grant_types": ["client_credentials", "authorization_code"],
        "response_types": ["code"],
        "redirect_uris": ["https://weather.example/cb"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    remote = keycloak_sim.clients[client.ref.client_id]
    assert client.secret.value == remote.secret
    assert client.ref.state["registration_access_token"] == remote.rat
    assert client.ref.state["registration_client_uri"] == f"{DCR}/{client.ref.client_id}"
    # Without the admin API the portal reads the registration back to check its grant types.
    assert (read_back.method, read_back.path) == (
        "GET",
        f"/realms/devportal/clients-registrations/openid-connect/{client.ref.client_id}",
    )


def test_without_initial_access_token_the_service_account_registers(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim, initial_access_token=False)

    adapter_for(km).register_client(cc_config())

    token_request, registration = keycloak_sim.requests[:2]
    assert token_request.path.endswith("/protocol/openid-connect/token")
    assert basic_credentials(token_request) == ("portal-admin", "portal-admin-secret")
    assert token_request.form == {"grant_type": "client_credentials"}
    assert registration.authorization == f"Bearer {next(iter(keycloak_sim.service_account_tokens))}"


def test_with_neither_credential_registration_is_refused_clearly(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim, initial_access_token=False, service_account=False)

    with pytest.raises(KeyManagerError, match="needs an initial access token or a service account"):
        adapter_for(km).register_client(cc_config())
    assert keycloak_sim.requests == []


def test_every_management_call_uses_and_then_stores_the_rotated_registration_token(
    keycloak_key_manager, keycloak_sim
):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    ref = client.ref
    rats = [ref.state["registration_access_token"]]

    adapter.update_client(ref, cc_config(name="Renamed"))
    rats.append(ref.state["registration_access_token"])
    adapter.update_client(ref, cc_config(name="Renamed again"))
    rats.append(ref.state["registration_access_token"])
    adapter.delete_client(ref)

    management = keycloak_sim.sent(path_contains="/clients-registrations/openid-connect/")
    assert [(s.method, s.path.rsplit("/", 1)[-1]) for s in management] == [
        ("PUT", ref.client_id),
        ("PUT", ref.client_id),
        ("DELETE", ref.client_id),
    ]
    # Each call presented the token the previous answer handed out.
    assert [s.authorization for s in management] == [f"Bearer {rat}" for rat in rats]
    assert len(set(rats)) == 3
    assert ref.client_id not in keycloak_sim.clients


def test_update_sends_the_same_client_id_and_keeps_the_secret(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())

    rotated = adapter.update_client(client.ref, cc_config(name="Renamed"))

    put = keycloak_sim.sent("PUT", "/clients-registrations/")[0]
    assert put.json["client_id"] == client.ref.client_id
    assert put.json["client_name"] == "Renamed"
    assert rotated is None
    assert keycloak_sim.clients[client.ref.client_id].secret == client.secret.value


def test_a_modified_client_identifier_is_reported_with_keycloaks_words(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    keycloak_sim.fail(
        "PUT",
        client.ref.client_id,
        status=400,
        body={"error": "invalid_client_metadata", "error_description": "Client Identifier modified"},
    )

    with pytest.raises(KeyManagerError) as caught:
        adapter.update_client(client.ref, cc_config())

    assert str(caught.value) == (
        "Company SSO: update client failed: invalid_client_metadata: Client Identifier modified (HTTP 400)"
    )


def test_without_a_service_account_a_stale_registration_token_is_a_clear_401(db, keycloak_sim):
    adapter = adapter_for(make_keycloak_key_manager(keycloak_sim, service_account=False))
    client = adapter.register_client(cc_config())
    client.ref.state["registration_access_token"] = "stale"

    with pytest.raises(KeyManagerError) as caught:
        adapter.update_client(client.ref, cc_config(name="Renamed"))

    assert caught.value.status == 401
    assert "update client failed: invalid_token" in str(caught.value)
    assert keycloak_sim.clients[client.ref.client_id].metadata["client_name"] == "Weather app"


def test_regenerating_the_secret_uses_the_admin_api_and_caches_the_uuid(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    remote = keycloak_sim.clients[client.ref.client_id]

    new = adapter.regenerate_secret(client.ref)

    assert new.value == remote.secret != client.secret.value
    assert client.ref.state["uuid"] == remote.uuid
    lookups = [s for s in keycloak_sim.sent("GET") if s.path == "/admin/realms/devportal/clients"]
    assert lookups[0].query["clientId"] == client.ref.client_id
    assert keycloak_sim.sent("POST", f"/admin/realms/devportal/clients/{remote.uuid}/client-secret")
    # The new secret gets tokens; the old one no longer does.
    assert adapter.issue_token(client.ref, client_secret=new.value, scopes=[]).access_token
    with pytest.raises(KeyManagerError, match="invalid_client"):
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])

    adapter.regenerate_secret(client.ref)
    lookups = [s for s in keycloak_sim.sent("GET") if s.path == "/admin/realms/devportal/clients"]
    assert len(lookups) == 1  # the uuid came from the state


def test_the_service_account_token_is_cached_per_key_manager(db, keycloak_sim):
    first = make_keycloak_key_manager(keycloak_sim, name="kc-a")
    second = make_keycloak_key_manager(keycloak_sim, name="kc-b")
    client = adapter_for(first).register_client(cc_config())

    adapter_for(first).regenerate_secret(client.ref)
    adapter_for(first).regenerate_secret(client.ref)  # a new adapter instance, same cached token
    assert len(keycloak_sim.sent("POST", "/openid-connect/token")) == 1

    adapter_for(second).regenerate_secret(client.ref)
    assert len(keycloak_sim.sent("POST", "/openid-connect/token")) == 2


def test_a_revoked_cached_service_account_token_is_replaced_once(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    adapter.regenerate_secret(client.ref)
    keycloak_sim.end_service_account_sessions()

    adapter_for(keycloak_key_manager).regenerate_secret(client.ref)

    assert len(keycloak_sim.sent("POST", "/openid-connect/token")) == 2


def test_a_service_account_without_rights_gets_keycloaks_403(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim)
    client = adapter_for(km).register_client(cc_config())
    keycloak_sim.service_accounts["portal-admin"] = ("portal-admin-secret", {"create-client"})

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).regenerate_secret(client.ref)

    assert caught.value.status == 403
    assert caught.value.step == "regenerate secret"


def test_delete_falls_back_to_the_admin_api_when_the_registration_token_was_lost(
    keycloak_key_manager, keycloak_sim
):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    client.ref.state["registration_access_token"] = "lost-the-newest"

    adapter.delete_client(client.ref)

    assert client.ref.client_id not in keycloak_sim.clients
    adapter.delete_client(client.ref)  # gone: the admin API finds nothing, which is fine


def test_tokens_are_issued_introspected_with_the_service_account_and_revoked(
    keycloak_key_manager, keycloak_sim
):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())

    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["profile"])
    assert adapter.introspect(token.access_token)["active"] is True
    adapter.revoke_token(client.ref, token.access_token, client_secret=client.secret.value)
    assert adapter.introspect(token.access_token) == {"active": False}

    introspection = keycloak_sim.sent("POST", "/token/introspect")[0]
    assert basic_credentials(introspection) == ("portal-admin", "portal-admin-secret")
    revocation = keycloak_sim.sent("POST", "/revoke")[0]
    assert basic_credentials(revocation) == (client.ref.client_id, client.secret.value)
    assert revocation.form == {"token": token.access_token, "token_type_hint": "access_token"}


def test_a_timeout_names_the_step_and_the_timeout(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim, timeout=2.5)
    keycloak_sim.fail("POST", "/clients-registrations/", exception=httpx.ReadTimeout)

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).register_client(cc_config())

    assert str(caught.value) == "Company SSO: register client failed: timed out after 2.5 s"


def test_a_server_error_keeps_its_status_and_summarises_a_plain_body(keycloak_key_manager, keycloak_sim):
    # Issue 9: a body that is not an OAuth-style JSON error is summarised, never quoted back.
    keycloak_sim.fail("POST", "/clients-registrations/", status=503, body="Service Unavailable")

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(keycloak_key_manager).register_client(cc_config())

    assert caught.value.message == "the server answered with a non-JSON body (19 bytes) (HTTP 503)"
    assert caught.value.status == 503


def test_a_redirect_to_another_host_is_never_followed(keycloak_key_manager):
    seen = []

    def redirecting(request):
        seen.append(request.url.host)
        return httpx.Response(307, headers={"Location": "https://elsewhere.example/steal"})

    adapter = KeycloakAdapter(keycloak_key_manager, transport=httpx.MockTransport(redirecting))

    with pytest.raises(KeyManagerError, match="redirected to another host"):
        adapter.register_client(cc_config())
    assert seen == ["sso.example.com"]


def test_check_connection_reports_every_step(keycloak_key_manager):
    checks = adapter_for(keycloak_key_manager).check_connection()

    assert [(c.step, c.ok) for c in checks] == [
        ("discovery", True),
        ("service account", True),
        ("registration", True),
        ("token", True),
        ("introspection", True),
        ("revocation", True),
        ("delete probe client", True),
    ]


def test_check_connection_names_a_missing_realm(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim)
    km.config = {"base_url": keycloak_sim.base_url}

    [check] = adapter_for(km).check_connection()

    assert (check.step, check.ok) == ("configuration", False)
    assert "realm" in check.message
