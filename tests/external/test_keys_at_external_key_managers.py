"""The keys page and the REST API at Okta and Keycloak: what a key manager cannot honour is
disabled on the page (with the reason) and refused by the API with a 400, before anything is
created remotely; the page's defaults work."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from keys.models import ApplicationKey
from portal.models import Application
from tests.external.conftest import make_keycloak_key_manager, make_okta_key_manager

API = "/api/am/devportal/v3"
CLIENTS = "/oauth2/v1/clients"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def application(owner):
    return Application.objects.create(owner=owner, name="Weather App", token_type="JWT")


def generate(client, application, **body):
    return client.post(
        f"{API}/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION", **body},
        content_type="application/json",
    )


def page(client, application, km):
    url = reverse("application_keys", kwargs={"application_id": application.pk, "env": "production"})
    return client.get(f"{url}?km={km}").content.decode()


def field_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


# -- the API ---------------------------------------------------------------------------------------


def test_the_api_refuses_a_lifetime_okta_cannot_honour_before_creating_anything(
    owner_client, application, okta_sim
):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})

    response = generate(
        owner_client,
        application,
        keyManager="okta",
        grantTypesToBeSupported=["client_credentials"],
        additionalProperties={"refresh_token_expiry_time": 60},
    )

    assert response.status_code == 400, response.content
    assert (
        "Okta sets token lifetimes in the authorization server's access policies" in response.content.decode()
    )
    assert okta_sim.sent("POST", CLIENTS) == []
    assert not ApplicationKey.objects.exists()


def test_the_api_refuses_a_grant_combination_okta_has_no_app_type_for(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})

    response = generate(
        owner_client,
        application,
        keyManager="okta",
        grantTypesToBeSupported=["client_credentials", "refresh_token"],
    )

    assert response.status_code == 400
    assert "must also have Code" in response.content.decode()
    assert okta_sim.requests == []


def test_the_api_explains_a_missing_scope_before_creating_anything(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim)

    response = generate(owner_client, application, keyManager="okta")

    assert response.status_code == 400
    assert "Okta needs a scope for every Client Credentials token" in response.content.decode()
    assert okta_sim.requests == []


def test_the_api_may_name_the_tokens_scopes_instead_of_a_default_scope(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim)

    response = generate(owner_client, application, keyManager="okta", scopes=["write"])

    assert response.status_code == 200, response.content
    assert response.json()["token"]["tokenScopes"] == ["write"]


def test_the_api_defaults_generate_keys_and_a_token_at_okta(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})

    response = generate(owner_client, application, keyManager="okta")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["supportedGrantTypes"] == ["client_credentials"]
    assert body["token"]["tokenScopes"] == ["read"]
    assert okta_sim.clients[body["consumerKey"]].metadata["application_type"] == "service"


def test_the_api_refuses_pkce_at_keycloak_without_a_service_account(owner_client, application, keycloak_sim):
    make_keycloak_key_manager(keycloak_sim, service_account=False)

    response = generate(
        owner_client,
        application,
        keyManager="keycloak",
        grantTypesToBeSupported=["client_credentials"],
        additionalProperties={"pkceMandatory": True},
    )

    assert response.status_code == 400
    assert "configure a service account" in response.content.decode()
    assert keycloak_sim.requests == []
    assert keycloak_sim.initial_access_tokens["kc-initial-access-token"] == 1


# -- the page --------------------------------------------------------------------------------------


def test_the_page_disables_what_okta_cannot_honour_and_says_why(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})

    html = page(owner_client, application, "okta")

    refresh = field_tag(html, "refresh_token_expiry_time")
    assert "disabled" in refresh and 'value="86400"' in refresh
    plain = field_tag(html, "pkce_support_plain")
    assert "disabled" in plain and "data-unsupported" in plain
    assert "Okta accepts only the S256 code challenge method" in html
    assert "disabled" not in field_tag(html, "pkce_mandatory")  # Okta applies it (Apps API)


def test_the_pages_defaults_generate_keys_at_okta(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})
    html = page(owner_client, application, "okta")
    ticked = re.findall(r'<input[^>]*name="grant_types"[^>]*value="([^"]+)"[^>]*checked', html)
    assert ticked == ["client_credentials"]

    url = reverse(
        "keys_generate", kwargs={"application_id": application.pk, "env": "production", "km": "okta"}
    )
    response = owner_client.post(url, {"grant_types": ticked, "secret_expiry": "90"})

    assert response.status_code == 200
    assert 'id="generated-token"' in response.content.decode()
    key = ApplicationKey.objects.get()
    assert okta_sim.clients[key.consumer_key].metadata["application_type"] == "service"


def test_the_page_refuses_a_grant_combination_okta_would_refuse(owner_client, application, okta_sim):
    make_okta_key_manager(okta_sim, config={"default_scope": "read"})
    url = reverse(
        "keys_generate", kwargs={"application_id": application.pk, "env": "production", "km": "okta"}
    )

    response = owner_client.post(
        url, {"grant_types": ["client_credentials", "refresh_token"], "secret_expiry": "90"}
    )

    assert "must also have Code" in response.content.decode()
    assert okta_sim.requests == []
    assert not ApplicationKey.objects.exists()


def test_the_api_refuses_pkce_at_a_plain_dcr_server_whose_registration_has_no_such_field(
    owner_client, application, closed_port_url
):
    from keymanagers.models import KeyManager

    KeyManager.objects.create(
        name="dcr",
        display_name="Peer IdP",
        type=KeyManager.Type.OIDC_DCR,
        registration_endpoint=f"{closed_port_url}/reg",
        token_endpoint=f"{closed_port_url}/token",
        available_grant_types=["client_credentials", "authorization_code"],
        multiple_secrets_enabled=False,
    )

    response = generate(
        owner_client,
        application,
        keyManager="dcr",
        grantTypesToBeSupported=["client_credentials"],
        additionalProperties={"pkceMandatory": True},
    )

    # Refused before any request: the closed port would otherwise be a connection error (502).
    assert response.status_code == 400, response.content
    assert "Dynamic Client Registration has no PKCE setting" in response.content.decode()
