"""Keycloak's own rules (initial access token counts, grant types before 26.1, PKCE and lifetimes
through the admin API, stale registration tokens): the simulator on its own, then the adapter."""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache

from keymanagers.base import ClientConfig, KeyManagerError, adapter_for
from tests.external.conftest import make_keycloak_key_manager
from tests.external.simulators.base import Seen
from tests.external.simulators.keycloak import KeycloakSimulator

pytestmark = pytest.mark.django_db

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
IAT = "kc-initial-access-token"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def cc_config(**kwargs) -> ClientConfig:
    return ClientConfig(name=kwargs.pop("name", "Weather app"), grant_types=["client_credentials"], **kwargs)


def _post(sim: KeycloakSimulator, body: dict, authorization: str = f"Bearer {IAT}"):
    seen = Seen(
        "POST", f"/realms/{sim.realm}/clients-registrations/openid-connect", authorization, {}, {}, body
    )
    return sim.register(seen)


# -- the simulator ---------------------------------------------------------------------------------


def test_sim_an_initial_access_token_is_spent_by_each_registration():
    sim = KeycloakSimulator()

    first = _post(sim, {"grant_types": ["client_credentials"], "response_types": []})
    second = _post(sim, {"grant_types": ["client_credentials"], "response_types": []})

    assert first.status_code == 201
    assert second.status_code == 401
    assert second.json()["error_description"] == "No remaining count on initial access token"


def test_sim_before_26_1_registration_ignores_grant_types_and_follows_response_types():
    sim = KeycloakSimulator(version=(25, 0))

    answer = _post(sim, {"grant_types": ["client_credentials", DEVICE], "response_types": []}).json()

    # An empty response_types means code; the device grant is never enabled at registration.
    assert sorted(answer["grant_types"]) == ["authorization_code", "client_credentials"]
    assert answer["response_types"] == ["code", "none"]


def test_sim_from_26_1_registration_follows_grant_types():
    sim = KeycloakSimulator(version=(26, 1))

    answer = _post(sim, {"grant_types": ["client_credentials", DEVICE], "response_types": []}).json()

    assert sorted(answer["grant_types"]) == ["client_credentials", DEVICE]


def test_sim_client_credentials_without_a_service_account_is_unauthorized_client_not_invalid_client():
    sim = KeycloakSimulator()
    client = _post(sim, {"grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb"]})
    body = client.json()
    basic = base64.b64encode(f"{body['client_id']}:{body['client_secret']}".encode()).decode()
    seen = Seen("POST", "/token", f"Basic {basic}", {}, {"grant_type": "client_credentials"}, None)

    answer = sim.token(seen)

    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized_client"


# -- the adapter -----------------------------------------------------------------------------------


def test_the_service_account_registers_and_the_initial_access_token_is_kept(
    keycloak_key_manager, keycloak_sim
):
    adapter = adapter_for(keycloak_key_manager)

    adapter.register_client(cc_config(name="one"))
    adapter.register_client(cc_config(name="two"))

    assert keycloak_sim.initial_access_tokens[IAT] == 1
    registrations = keycloak_sim.sent("POST", "/clients-registrations/openid-connect")
    assert all(r.authorization != f"Bearer {IAT}" for r in registrations)


def test_test_connection_never_spends_the_initial_access_token(db, keycloak_sim):
    km = make_keycloak_key_manager(keycloak_sim, service_account=False)

    checks = adapter_for(km).check_connection()
    client = adapter_for(km).register_client(cc_config())

    assert [(c.step, c.ok) for c in checks] == [("discovery", True), ("registration", True)]
    assert checks[-1].message.startswith("not tested")
    assert client.ref.client_id in keycloak_sim.clients
    assert keycloak_sim.initial_access_tokens[IAT] == 0


def test_test_connection_does_not_fall_back_to_the_initial_access_token(db, keycloak_sim):
    # A service account that may read clients but not create them.
    keycloak_sim.service_accounts["portal-admin"] = ("portal-admin-secret", {"view-clients"})
    km = make_keycloak_key_manager(keycloak_sim)

    checks = adapter_for(km).check_connection()

    assert ("registration", False) in [(c.step, c.ok) for c in checks]
    assert keycloak_sim.initial_access_tokens[IAT] == 1


def test_a_service_account_that_may_not_create_clients_falls_back_to_the_initial_access_token(
    db, keycloak_sim
):
    keycloak_sim.service_accounts["portal-admin"] = (
        "portal-admin-secret",
        {"view-clients", "manage-clients"},
    )
    km = make_keycloak_key_manager(keycloak_sim)

    client = adapter_for(km).register_client(cc_config())

    assert client.ref.client_id in keycloak_sim.clients
    assert keycloak_sim.initial_access_tokens[IAT] == 0


def test_before_26_1_the_admin_api_gives_the_client_exactly_the_chosen_grants(db, _km_for):
    sim = KeycloakSimulator(version=(25, 0))
    km = _km_for(sim)

    client = adapter_for(km).register_client(
        ClientConfig(name="Device", grant_types=["client_credentials", DEVICE])
    )

    remote = sim.clients[client.ref.client_id]
    assert sorted(remote.grant_types) == ["client_credentials", DEVICE]
    assert remote.flags["standardFlowEnabled"] is False
    assert sorted(client.grant_types) == ["client_credentials", DEVICE]


def test_an_update_before_26_1_keeps_the_chosen_grants(db, _km_for):
    sim = KeycloakSimulator(version=(25, 0))
    adapter = adapter_for(_km_for(sim))
    client = adapter.register_client(cc_config())

    adapter.update_client(client.ref, cc_config(name="Renamed"))

    assert sim.clients[client.ref.client_id].grant_types == ["client_credentials"]


def test_before_26_1_without_a_service_account_a_wrong_registration_is_deleted_and_explained(db, _km_for):
    sim = KeycloakSimulator(version=(25, 0))
    km = _km_for(sim, service_account=False)

    with pytest.raises(KeyManagerError, match="before 26.1 ignores most grant types") as caught:
        adapter_for(km).register_client(cc_config())

    assert "configure a service account" in caught.value.message
    assert sim.clients == {}


def test_pkce_and_the_access_token_lifespan_are_set_and_read_back(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    config = ClientConfig(
        name="Web",
        grant_types=["authorization_code", "refresh_token"],
        callback_url="https://web.example/cb",
        pkce_mandatory=True,
        application_access_token_expiry_time=900,
        user_access_token_expiry_time=900,
    )

    client = adapter.register_client(config)

    remote = keycloak_sim.clients[client.ref.client_id]
    assert remote.attributes["pkce.code.challenge.method"] == "S256"
    assert remote.attributes["access.token.lifespan"] == "900"
    adapter.update_client(client.ref, ClientConfig(**{**config.__dict__, "pkce_mandatory": False}))
    assert "pkce.code.challenge.method" not in remote.attributes


def test_the_lifespan_is_what_keycloak_then_issues(keycloak_key_manager):
    adapter = adapter_for(keycloak_key_manager)
    config = cc_config(application_access_token_expiry_time=600, user_access_token_expiry_time=600)
    client = adapter.register_client(config)

    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])

    assert token.expires_in == 600


def test_without_a_service_account_pkce_and_lifetimes_are_refused_before_anything_is_created(
    db, keycloak_sim
):
    adapter = adapter_for(make_keycloak_key_manager(keycloak_sim, service_account=False))

    problems = adapter.config_problems(
        cc_config(pkce_mandatory=True, application_access_token_expiry_time=60)
    )

    assert set(problems) == {"pkce_mandatory", "application_access_token_expiry_time"}
    assert "service account" in problems["pkce_mandatory"]


def test_settings_keycloak_has_no_per_client_value_for_are_refused(keycloak_key_manager):
    adapter = adapter_for(keycloak_key_manager)

    problems = adapter.config_problems(
        cc_config(
            refresh_token_expiry_time=60,
            application_access_token_expiry_time=60,
            user_access_token_expiry_time=120,
            pkce_mandatory=True,
            pkce_support_plain=True,
        )
    )

    assert set(problems) == {
        "refresh_token_expiry_time",
        "user_access_token_expiry_time",
        "pkce_support_plain",
    }
    assert "one access token lifespan per client" in problems["user_access_token_expiry_time"]
    never = adapter.config_problems(cc_config(application_access_token_expiry_time=-1))
    assert never == {
        "application_access_token_expiry_time": "Keycloak access tokens always expire: give a number of seconds."
    }


def test_a_stale_registration_token_is_renewed_through_the_admin_api(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    client = adapter.register_client(cc_config())
    client.ref.state["registration_access_token"] = "lost-the-newest"

    adapter.update_client(client.ref, cc_config(name="Renamed"))

    remote = keycloak_sim.clients[client.ref.client_id]
    assert remote.metadata["client_name"] == "Renamed"
    assert client.ref.state["registration_access_token"] == remote.rat
    assert keycloak_sim.sent("POST", f"/clients/{remote.uuid}/registration-access-token")


def test_existing_keys_of_a_client_without_a_service_account_are_accepted(keycloak_key_manager, keycloak_sim):
    adapter = adapter_for(keycloak_key_manager)
    web = adapter.register_client(
        ClientConfig(name="Web", grant_types=["authorization_code"], callback_url="https://web.example/cb")
    )

    mapped = adapter.map_client(web.ref.client_id, web.secret.value)

    assert mapped.ref.client_id == web.ref.client_id
    with pytest.raises(KeyManagerError, match="does not accept this consumer key and secret"):
        adapter.map_client(web.ref.client_id, "wrong")


@pytest.fixture
def _km_for(monkeypatch):
    """A key manager at the given simulator (for simulators of another Keycloak version)."""
    from keymanagers.keycloak import KeycloakAdapter

    def make(sim: KeycloakSimulator, **kwargs):
        monkeypatch.setattr(KeycloakAdapter, "transport", sim.transport)
        return make_keycloak_key_manager(sim, **kwargs)

    return make
