"""Okta's own rules (app types and their grants, scope on client_credentials, PKCE in the Apps API,
404 E0000007, rate limits): the simulator and the schema checker on their own, then the adapter."""

from __future__ import annotations

import base64
import re

import pytest

from keymanagers.base import ClientConfig, ClientRef, KeyManagerError, adapter_for
from tests.external.conftest import make_okta_key_manager
from tests.external.okta_schema import problems_with
from tests.external.simulators.base import Seen, basic_credentials
from tests.external.simulators.okta import OktaSimulator

pytestmark = pytest.mark.django_db

CLIENTS = "/oauth2/v1/clients"
TOKEN = "/oauth2/aus1portal/v1/token"


def _create(sim: OktaSimulator, body: dict):
    return sim.create(Seen("POST", CLIENTS, f"SSWS {sim.api_token}", {}, {}, body))


def web_config(**kwargs) -> ClientConfig:
    return ClientConfig(
        name=kwargs.pop("name", "Web"),
        grant_types=kwargs.pop("grant_types", ["authorization_code", "refresh_token"]),
        callback_url="https://web.example/cb",
        **kwargs,
    )


# -- the schema checker and the simulator ----------------------------------------------------------


def test_the_checker_refuses_a_client_credentials_request_without_scope():
    problems = problems_with("POST", TOKEN, {"grant_type": "client_credentials"}, 200, None)

    assert problems == [f"POST {TOKEN} request (body): 'scope' is a required property"]
    assert (
        problems_with("POST", TOKEN, {"grant_type": "client_credentials", "scope": "read"}, 200, None) == []
    )


def test_the_checker_refuses_read_only_members_and_undocumented_answers():
    sent = {"client_name": "x", "client_secret": "mine"}

    assert problems_with("POST", CLIENTS, sent, 201, {"client_name": "x"}) == [
        f"POST {CLIENTS} request client_secret: read-only in Okta's schema, must not be sent"
    ]
    assert problems_with("DELETE", f"{CLIENTS}/0oa1", None, 418, None)[0].startswith(
        f"DELETE {CLIENTS}/0oa1: status 418 is not documented"
    )


def test_sim_a_web_app_must_have_authorization_code():
    answer = _create(
        OktaSimulator(),
        {
            "client_name": "x",
            "application_type": "web",
            "grant_types": ["client_credentials", "refresh_token"],
            "redirect_uris": ["https://a.example/cb"],
        },
    )

    assert answer.status_code == 400
    assert "must have at least 'authorization_code'" in answer.json()["error_description"]


def test_sim_a_browser_app_has_no_refresh_token():
    answer = _create(
        OktaSimulator(),
        {
            "client_name": "x",
            "application_type": "browser",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["https://a.example/cb"],
            "token_endpoint_auth_method": "none",
        },
    )

    assert answer.status_code == 400
    assert (
        "refresh_token is not valid for the 'browser' application type" in answer.json()["error_description"]
    )


def test_sim_names_need_not_be_unique():
    sim = OktaSimulator()
    body = {"client_name": "same", "application_type": "service", "grant_types": ["client_credentials"]}

    assert _create(sim, dict(body)).status_code == _create(sim, dict(body)).status_code == 201


def test_sim_an_unknown_client_is_404_e0000007():
    sim = OktaSimulator()

    answer = sim.read(Seen("GET", f"{CLIENTS}/0oanope", f"SSWS {sim.api_token}", {}, {}, None), "0oanope")

    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "E0000007"


def test_sim_a_token_without_scope_needs_a_default_scope_on_the_server():
    sim = OktaSimulator()
    created = _create(
        sim, {"client_name": "x", "application_type": "service", "grant_types": ["client_credentials"]}
    ).json()
    basic = (
        "Basic " + base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
    )
    seen = Seen("POST", TOKEN, basic, {}, {"grant_type": "client_credentials"}, None)
    assert basic_credentials(seen)[0] == created["client_id"]

    assert sim.token(seen).json()["error"] == "invalid_scope"
    sim.default_scopes = {"default"}
    assert sim.token(seen).json()["scope"] == "default"


# -- the adapter -----------------------------------------------------------------------------------


def test_the_page_default_is_client_credentials_alone_at_okta(okta_key_manager):
    assert adapter_for(okta_key_manager).default_grant_types() == ["client_credentials"]


def test_client_credentials_without_any_scope_is_refused_before_anything_is_created(
    okta_key_manager, okta_sim
):
    adapter = adapter_for(okta_key_manager)

    def problems(token_scopes):
        config = ClientConfig(name="x", grant_types=["client_credentials"], token_scopes=token_scopes)
        return adapter.config_problems(config)

    # Generate Keys asks for a token at once: without any scope Okta would refuse it.
    assert set(problems([])) == {"additional_properties.scope"}
    assert "ask an admin" in problems([])["additional_properties.scope"]
    assert problems(["read"]) == {}  # the token's own scopes (REST API)
    assert problems(None) == {}  # an update asks for no token
    assert okta_sim.requests == []


def test_the_key_managers_default_scope_is_sent_with_client_credentials(db, okta_sim):
    km = make_okta_key_manager(okta_sim, config={"default_scope": "read"})
    adapter = adapter_for(km)
    config = ClientConfig(name="x", grant_types=["client_credentials"])
    assert adapter.config_problems(config) == {}
    client = adapter.register_client(config)

    token = adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])

    assert token.scopes == ["read"]
    assert okta_sim.sent("POST", TOKEN)[-1].form["scope"] == "read"


def test_the_keys_own_token_scopes_are_sent(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)
    config = ClientConfig(
        name="x", grant_types=["client_credentials"], additional_properties={"scope": "read write"}
    )
    client = adapter.register_client(config)

    adapter.issue_token(client.ref, client_secret=client.secret.value, scopes=[])

    assert okta_sim.sent("POST", TOKEN)[-1].form["scope"] == "read write"


@pytest.mark.parametrize(
    ("grants", "public", "expected"),
    [
        (["client_credentials", "refresh_token"], False, "must also have Code"),
        (["refresh_token"], True, "native app must have Code"),
        (
            ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
            False,
            "web app cannot use Device Code",
        ),
    ],
)
def test_grant_combinations_okta_refuses_are_explained_before_anything_is_created(
    okta_key_manager, okta_sim, grants, public, expected
):
    adapter = adapter_for(okta_key_manager)

    problems = adapter.config_problems(web_config(grant_types=grants, public_client=public))

    assert expected in problems["grant_types"]
    with pytest.raises(KeyManagerError, match=re.escape(expected)):
        adapter.register_client(web_config(grant_types=grants, public_client=public))
    assert okta_sim.sent("POST", CLIENTS) == []


def test_a_public_client_with_refresh_token_becomes_a_native_app(okta_key_manager, okta_sim):
    client = adapter_for(okta_key_manager).register_client(web_config(public_client=True))

    assert okta_sim.clients[client.ref.client_id].metadata["application_type"] == "native"


def test_enable_pkce_sets_pkce_required_in_the_apps_api_and_reads_it_back(okta_key_manager, okta_sim):
    adapter = adapter_for(okta_key_manager)

    client = adapter.register_client(web_config(pkce_mandatory=True))

    remote = okta_sim.clients[client.ref.client_id]
    assert remote.pkce_required is True
    put = okta_sim.sent("PUT", f"/api/v1/apps/{client.ref.client_id}")[0]
    assert put.json["credentials"]["oauthClient"]["pkce_required"] is True
    adapter.update_client(client.ref, web_config(pkce_mandatory=False))
    assert remote.pkce_required is False


def test_pkce_that_okta_does_not_keep_is_an_error_and_the_app_is_deleted(okta_key_manager, okta_sim):
    okta_sim.fail(
        "PUT",
        "/api/v1/apps/",
        status=200,
        body={"label": "x", "signOnMode": "OPENID_CONNECT", "credentials": {"oauthClient": {}}},
    )

    with pytest.raises(KeyManagerError, match="did not keep pkce_required=true"):
        adapter_for(okta_key_manager).register_client(web_config(pkce_mandatory=True))

    assert okta_sim.clients == {}


def test_lifetimes_and_plain_pkce_are_settings_okta_cannot_honour(okta_key_manager):
    problems = adapter_for(okta_key_manager).config_problems(
        web_config(pkce_mandatory=True, pkce_support_plain=True, refresh_token_expiry_time=60)
    )

    assert set(problems) == {"pkce_support_plain", "refresh_token_expiry_time"}
    assert "access policies" in problems["refresh_token_expiry_time"]


def test_a_refused_api_token_is_not_reported_as_a_missing_client(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"api_token": "revoked"})

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).map_client("0oa123", "secret")

    assert caught.value.status == 401
    assert "E0000011" in caught.value.message and "has no client" not in caught.value.message


def test_an_unknown_client_is_reported_as_missing(okta_key_manager):
    with pytest.raises(KeyManagerError, match="Okta has no client 0oanope") as caught:
        adapter_for(okta_key_manager).map_client("0oanope", "secret")

    assert caught.value.status == 404


def test_a_rate_limit_says_when_to_try_again(okta_key_manager, okta_sim):
    okta_sim.rate_limit("POST", CLIENTS, reset_in=42)

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(okta_key_manager).register_client(
            ClientConfig(name="x", grant_types=["client_credentials"])
        )

    assert caught.value.status == 429
    assert re.search(
        r"E0000047: .*rate limit resets at \d\d:\d\d:\d\d UTC \(in 4[12] s\)", caught.value.message
    )


def test_the_hint_names_oktas_oauth_scopes(db, okta_sim):
    km = make_okta_key_manager(okta_sim, credentials={"introspection_client_id": "x"})

    with pytest.raises(KeyManagerError) as caught:
        adapter_for(km).delete_client(ClientRef("0oa1"))

    assert "okta.clients.register, okta.clients.manage and okta.apps.manage" in caught.value.message
