"""The generic OIDC Dynamic Client Registration adapter against a real server (oidc-provider)."""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from keymanagers.base import ClientConfig, ClientRef, KeyManagerError, NotSupported, adapter_for
from keymanagers.oidc_dcr import OidcDcrAdapter
from tests.external.conftest import make_dcr_key_manager, read_registration, registered

pytestmark = pytest.mark.django_db


def cc_config(**kwargs) -> ClientConfig:
    return ClientConfig(name=kwargs.pop("name", "Weather app"), grant_types=["client_credentials"], **kwargs)


def test_the_registry_maps_oidc_dcr_to_this_adapter(dcr_key_manager):
    assert isinstance(adapter_for(dcr_key_manager), OidcDcrAdapter)


def test_registering_a_client_gives_a_working_secret_and_keeps_the_management_token(
    dcr_key_manager, oidc_peer
):
    adapter = adapter_for(dcr_key_manager)

    client = adapter.register_client(cc_config())

    assert client.ref.client_id
    assert client.secret is not None and len(client.secret.value) > 20
    assert client.grant_types == ["client_credentials"]
    assert client.ref.state["registration_access_token"]
    assert client.ref.state["registration_client_uri"] == f"{oidc_peer.url}/reg/{client.ref.client_id}"
    # The secret itself is never kept in the state, only a keyed hash to notice server-side rotation.
    assert client.secret.value not in str(client.ref.state)
    # The peer really has the client, with the metadata we sent.
    remote = registered(client.ref)
    assert remote["client_name"] == "Weather app"
    assert remote["token_endpoint_auth_method"] == "client_secret_basic"
    assert remote["client_secret"] == client.secret.value  # the secret handed back is the one the peer keeps


def test_a_client_credentials_token_is_issued_introspected_and_revoked(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())
    secret = client.secret.value

    token = adapter.issue_token(client.ref, client_secret=secret, scopes=["default", "read"])

    assert token.access_token and token.expires_in == 3600
    assert token.scopes == ["default", "read"]
    answer = adapter.introspect(token.access_token)
    assert answer["active"] is True
    assert answer["client_id"] == client.ref.client_id
    assert answer["scope"] == "default read"

    adapter.revoke_token(client.ref, token.access_token, client_secret=secret)

    assert adapter.introspect(token.access_token) == {"active": False}


def test_without_introspection_credentials_the_client_introspects_its_own_token(db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer, with_introspection=False)
    adapter = adapter_for(km)
    client = adapter.register_client(cc_config())
    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])

    assert adapter.introspect(token.access_token, ref=client.ref, client_secret=client.secret.value)["active"]
    with pytest.raises(KeyManagerError, match="no introspection credentials"):
        adapter.introspect(token.access_token)


def test_a_wrong_secret_gets_the_servers_own_error(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())

    with pytest.raises(KeyManagerError) as caught:
        adapter.issue_token(client.ref, client_secret="not-the-secret", scopes=[])

    assert caught.value.status == 401
    assert str(caught.value).startswith("Peer IdP: generate token failed: invalid_client")


def test_a_resource_indicator_in_the_config_gives_rfc_9068_jwts_verifiable_with_the_jwks(db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer, config={"resource": oidc_peer.resource})
    adapter = adapter_for(km)
    client = adapter.register_client(cc_config())

    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=["read"])

    jwks = httpx.get(km.jwks_endpoint).json()
    header = jwt.get_unverified_header(token.access_token)
    assert header["typ"] == "at+jwt"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token.access_token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=oidc_peer.resource
    )
    assert claims["client_id"] == client.ref.client_id
    assert claims["iss"] == oidc_peer.url
    assert claims["scope"] == "read"


def test_updating_replaces_the_metadata_and_keeps_the_newest_registration_token(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())
    first_rat = client.ref.state["registration_access_token"]

    rotated = adapter.update_client(
        client.ref,
        ClientConfig(
            name="Weather app v2",
            grant_types=["client_credentials", "authorization_code", "refresh_token"],
            callback_url="https://weather.example/cb https://weather.example/cb2",
        ),
    )

    assert rotated is None  # this peer keeps the secret on update
    new_rat = client.ref.state["registration_access_token"]
    assert new_rat != first_rat  # the peer rotates it, as Keycloak does
    remote = registered(client.ref)
    assert remote["client_name"] == "Weather app v2"
    assert remote["redirect_uris"] == ["https://weather.example/cb", "https://weather.example/cb2"]
    assert remote["response_types"] == ["code"]
    assert set(remote["grant_types"]) == {"client_credentials", "authorization_code", "refresh_token"}
    # The old registration access token is dead at the server: only the newest works.
    stale = ClientRef(client.ref.client_id, {**client.ref.state, "registration_access_token": first_rat})
    refused = read_registration(stale)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    # And the secret still works after the update.
    assert adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[]).access_token


def test_a_server_that_keeps_the_registration_token_is_fine_too(db, oidc_peer_fixed_rat):
    adapter = adapter_for(make_dcr_key_manager(oidc_peer_fixed_rat))
    client = adapter.register_client(cc_config())
    rat = client.ref.state["registration_access_token"]

    adapter.update_client(client.ref, cc_config(name="Renamed"))

    assert client.ref.state["registration_access_token"] == rat
    assert registered(client.ref)["client_name"] == "Renamed"


def test_a_public_client_is_registered_without_a_secret(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)

    client = adapter.register_client(
        ClientConfig(
            name="SPA",
            grant_types=["authorization_code"],
            callback_url="https://spa.example/cb",
            public_client=True,
        )
    )

    assert client.secret is None
    assert registered(client.ref)["token_endpoint_auth_method"] == "none"


def test_regexp_callback_urls_are_refused_before_anything_is_sent(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)

    with pytest.raises(KeyManagerError, match="regexp= cannot be registered"):
        adapter.register_client(
            ClientConfig(name="x", grant_types=["authorization_code"], callback_url="regexp=https://.*")
        )


def test_invalid_metadata_gets_the_servers_description(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)

    with pytest.raises(KeyManagerError) as caught:
        adapter.register_client(ClientConfig(name="x", grant_types=["authorization_code"]))  # no redirect URI

    assert caught.value.status == 400
    assert caught.value.step == "register client"
    assert "redirect_uris" in caught.value.message


def test_a_wrong_initial_access_token_is_refused(db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)
    km.set_credentials({"initial_access_token": "wrong"})
    km.save()

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).register_client(cc_config())

    assert caught.value.status == 401
    assert "invalid_token" in caught.value.message


def test_deleting_a_client_removes_it_at_the_server_and_a_second_delete_is_fine(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())

    adapter.delete_client(client.ref)

    with pytest.raises(KeyManagerError) as caught:
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])
    assert caught.value.status == 401
    adapter.delete_client(client.ref)  # RFC 7592: the server now answers 401; nothing left to delete


def test_regenerating_a_secret_is_refused_clearly_where_the_server_keeps_secrets(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())

    with pytest.raises(NotSupported, match="keeps the client secret when a client is updated"):
        adapter.regenerate_secret(client.ref)

    # Nothing broke: the old secret still works, and the newest registration token was kept.
    assert adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[]).access_token
    assert registered(client.ref)["client_name"] == "Weather app"


def test_regenerating_a_secret_works_where_the_server_rotates_it_on_update(db, oidc_peer_rotating_secrets):
    adapter = adapter_for(make_dcr_key_manager(oidc_peer_rotating_secrets))
    client = adapter.register_client(cc_config())
    old = client.secret.value

    new = adapter.regenerate_secret(client.ref)

    assert new.value and new.value != old
    assert adapter.issue_token(client.ref, client_secret=new.value, scopes=[]).access_token
    with pytest.raises(KeyManagerError, match="invalid_client"):
        adapter.issue_token(client.ref, client_secret=old, scopes=[])


def test_an_update_that_rotates_the_secret_hands_back_the_new_one(db, oidc_peer_rotating_secrets):
    adapter = adapter_for(make_dcr_key_manager(oidc_peer_rotating_secrets))
    client = adapter.register_client(cc_config())

    new = adapter.update_client(client.ref, cc_config(name="Renamed"))

    assert new is not None and new.value != client.secret.value
    assert adapter.issue_token(client.ref, client_secret=new.value, scopes=[]).access_token


def test_mapping_an_existing_client_checks_its_secret_and_never_deletes_it_remotely(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)
    existing = adapter.register_client(cc_config(name="Made elsewhere"))

    with pytest.raises(KeyManagerError, match="does not accept this consumer key and secret"):
        adapter.map_client(existing.ref.client_id, "wrong-secret")
    mapped = adapter.map_client(existing.ref.client_id, existing.secret.value)

    assert mapped.ref.state["mapped"] is True
    assert "registration_access_token" not in mapped.ref.state
    adapter.delete_client(mapped.ref)  # forgets only
    assert registered(existing.ref)["client_name"] == "Made elsewhere"
    with pytest.raises(NotSupported, match="mapped"):
        adapter.update_client(mapped.ref, cc_config())


def test_only_client_credentials_tokens_can_be_requested_by_the_portal(dcr_key_manager):
    adapter = adapter_for(dcr_key_manager)

    with pytest.raises(NotSupported, match="password"):
        adapter.issue_token(ClientRef("x"), client_secret="s", scopes=[], grant_type="password")


def test_the_peer_stopping_mid_operation_names_the_step_and_the_refused_connection(
    dcr_key_manager, oidc_peer, stop_peer
):
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())

    stop_peer(oidc_peer)

    with pytest.raises(KeyManagerError) as caught:
        adapter.update_client(client.ref, cc_config(name="later"))
    assert str(caught.value) == f"Peer IdP: update client failed: could not connect to {oidc_peer.url[7:]}"
    with pytest.raises(KeyManagerError, match="generate token failed: could not connect"):
        adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])


def test_a_server_that_never_answers_times_out_with_the_configured_timeout(db, oidc_peer, silent_server_url):
    km = make_dcr_key_manager(oidc_peer, timeout=0.3)
    km.registration_endpoint = f"{silent_server_url}/reg"
    km.save()

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).register_client(cc_config())

    assert str(caught.value) == "Peer IdP: register client failed: timed out after 0.3 s"


def test_logs_carry_method_path_and_status_but_no_secret_or_token(dcr_key_manager, oidc_peer, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = adapter_for(dcr_key_manager)
    client = adapter.register_client(cc_config())
    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])
    adapter.update_client(client.ref, cc_config(name="x"))
    adapter.delete_client(client.ref)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /reg -> 201" in logged
    assert "POST /token -> 200" in logged
    for value in (
        client.secret.value,
        token.access_token,
        oidc_peer.initial_access_token,
        client.ref.state["registration_access_token"],
    ):
        assert value not in logged


def test_check_connection_does_a_real_round_trip(dcr_key_manager):
    checks = adapter_for(dcr_key_manager).check_connection()

    assert [(c.step, c.ok) for c in checks] == [
        ("discovery", True),
        ("registration", True),
        ("token", True),
        ("introspection", True),
        ("revocation", True),
        ("delete probe client", True),
    ]


def test_check_connection_against_a_closed_port_fails_at_discovery(db, oidc_peer, closed_port_url):
    km = make_dcr_key_manager(oidc_peer)
    km.well_known_url = f"{closed_port_url}/.well-known/openid-configuration"

    checks = adapter_for(km).check_connection()

    assert len(checks) == 1
    assert checks[0].step == "discovery" and not checks[0].ok
    assert "could not connect" in checks[0].message
