"""Key managers in the Django admin: create each type, write-only credentials, discovery, Test connection."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from keymanagers.models import KeyManager
from tests.external.conftest import make_dcr_key_manager

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:keymanagers_keymanager_add")


def change_url(km) -> str:
    return reverse("admin:keymanagers_keymanager_change", args=[km.pk])


def form_data(**overrides) -> dict:
    data = {
        "name": "idp",
        "display_name": "Company IdP",
        "type": "oidc-dcr",
        "enabled": "on",
        "order": "10",
        "description": "",
        "well_known_url": "",
        "issuer": "",
        "authorize_endpoint": "",
        "token_endpoint": "",
        "revoke_endpoint": "",
        "introspection_endpoint": "",
        "userinfo_endpoint": "",
        "jwks_endpoint": "",
        "registration_endpoint": "",
        "available_grant_types": ["client_credentials"],
        "token_format": "DIRECT",
        "enable_oauth_app_creation": "on",
        "enable_token_generation": "on",
        "secret_count": "",
        "config": "{}",
        "timeout": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def raw_credentials_column(km) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM keymanagers_keymanager WHERE id = %s", [km.pk])
        return cursor.fetchone()[0]


def errors_of(response) -> dict:
    return response.context["adminform"].form.errors


def test_an_admin_adds_an_oidc_dcr_key_manager_importing_endpoints_from_the_peer(admin_client_, oidc_peer):
    response = admin_client_.post(
        ADD_URL,
        form_data(
            well_known_url=oidc_peer.well_known_url,
            import_well_known="on",
            initial_access_token=oidc_peer.initial_access_token,
            introspection_client_id=oidc_peer.introspection_client_id,
            introspection_client_secret=oidc_peer.introspection_client_secret,
        ),
    )

    assert response.status_code == 302, errors_of(response)
    km = KeyManager.objects.get(name="idp")
    assert km.type == "oidc-dcr"
    assert km.issuer == oidc_peer.url
    assert km.token_endpoint == f"{oidc_peer.url}/token"
    assert km.registration_endpoint == f"{oidc_peer.url}/reg"
    assert km.introspection_endpoint == f"{oidc_peer.url}/token/introspection"
    assert km.revoke_endpoint == f"{oidc_peer.url}/token/revocation"
    assert km.jwks_endpoint == f"{oidc_peer.url}/jwks"
    # The peer supports implicit too, but it is left out unless the admin allowed it.
    assert km.available_grant_types == ["client_credentials", "refresh_token", "authorization_code"]
    assert km.get_credentials() == {
        "initial_access_token": oidc_peer.initial_access_token,
        "introspection_client_id": oidc_peer.introspection_client_id,
        "introspection_client_secret": oidc_peer.introspection_client_secret,
    }
    raw = raw_credentials_column(km)
    assert (
        raw and oidc_peer.initial_access_token not in raw and oidc_peer.introspection_client_secret not in raw
    )


def test_stored_credentials_are_never_rendered_back(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)

    page = admin_client_.get(change_url(km)).content.decode()

    assert oidc_peer.initial_access_token not in page
    assert oidc_peer.introspection_client_secret not in page
    assert oidc_peer.introspection_client_id not in page
    assert 'name="initial_access_token"' in page and 'type="password"' in page
    assert "A value is stored; leave empty to keep it." in page
    assert 'name="clear_initial_access_token"' in page


def test_an_empty_credential_input_keeps_the_stored_value_and_clear_removes_it(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)
    base = form_data(
        name=km.name,
        display_name=km.display_name,
        token_endpoint=km.token_endpoint,
        registration_endpoint=km.registration_endpoint,
    )
    base.pop("type")  # read-only once created

    response = admin_client_.post(change_url(km), {**base, "introspection_client_secret": ""})
    assert response.status_code == 302, errors_of(response)
    km.refresh_from_db()
    assert km.get_credentials()["introspection_client_secret"] == oidc_peer.introspection_client_secret

    # Clearing half of a pair is refused: a client id without its secret cannot authenticate.
    response = admin_client_.post(change_url(km), {**base, "clear_introspection_client_secret": "on"})
    assert response.status_code == 200
    assert errors_of(response)["introspection_client_secret"] == [
        "Give the introspection client secret too, or neither."
    ]

    response = admin_client_.post(
        change_url(km),
        {
            **base,
            "clear_introspection_client_id": "on",
            "clear_introspection_client_secret": "on",
            "initial_access_token": "new-iat",
        },
    )
    assert response.status_code == 302, errors_of(response)
    km.refresh_from_db()
    assert km.get_credentials() == {"initial_access_token": "new-iat"}


def test_okta_cannot_be_saved_without_api_credentials(admin_client_, db):
    response = admin_client_.post(
        ADD_URL, form_data(type="okta", config=json.dumps({"base_url": "https://dev-1.okta.com"}))
    )

    assert response.status_code == 200
    assert errors_of(response)["api_token"] == [
        "Okta needs an API token (or an OAuth access token) to manage clients."
    ]


def test_keycloak_needs_an_initial_access_token_or_a_whole_service_account(admin_client_, db):
    config = json.dumps({"base_url": "https://sso.example.com", "realm": "demo"})

    response = admin_client_.post(
        ADD_URL, form_data(type="keycloak", config=config, client_id="portal-admin")
    )

    assert response.status_code == 200
    errors = errors_of(response)
    assert "initial access token or a service account" in errors["initial_access_token"][0]
    assert errors["client_secret"] == ["Give the service account client secret too, or neither."]
    ok = admin_client_.post(
        ADD_URL, form_data(type="keycloak", config=config, client_id="portal-admin", client_secret="s")
    )
    assert ok.status_code == 302


def test_an_admin_adds_a_keycloak_key_manager(admin_client_, keycloak_sim):
    response = admin_client_.post(
        ADD_URL,
        form_data(
            name="sso",
            type="keycloak",
            config=json.dumps({"base_url": keycloak_sim.base_url, "realm": keycloak_sim.realm}),
            well_known_url=f"{keycloak_sim.realm_url}/.well-known/openid-configuration",
            import_well_known="on",
            initial_access_token="kc-initial-access-token",
            client_id="portal-admin",
            client_secret="portal-admin-secret",
        ),
    )

    assert response.status_code == 302, errors_of(response)
    km = KeyManager.objects.get(name="sso")
    assert km.registration_endpoint == f"{keycloak_sim.realm_url}/clients-registrations/openid-connect"
    # Password was offered by the server but not allowed by the admin; device code is known and kept.
    assert "password" not in km.available_grant_types
    assert "urn:ietf:params:oauth:grant-type:device_code" in km.available_grant_types
    assert km.get_credentials()["client_secret"] == "portal-admin-secret"
    assert "portal-admin-secret" not in raw_credentials_column(km)


def test_keycloak_needs_base_url_and_realm(admin_client_, db):
    response = admin_client_.post(
        ADD_URL, form_data(type="keycloak", config=json.dumps({"base_url": "https://x"}))
    )

    assert response.status_code == 200
    assert "Keycloak needs realm in the adapter config" in str(errors_of(response)["config"])
    assert not KeyManager.objects.filter(name="idp").exists()


def test_an_admin_adds_an_okta_key_manager_with_two_secrets(admin_client_, okta_sim):
    response = admin_client_.post(
        ADD_URL,
        form_data(
            name="okta",
            type="okta",
            config=json.dumps(
                {"base_url": okta_sim.base_url, "authorization_server_id": okta_sim.authorization_server_id}
            ),
            multiple_secrets_enabled="on",
            secret_count="2",
            api_token=okta_sim.api_token,
        ),
    )

    assert response.status_code == 302, errors_of(response)
    km = KeyManager.objects.get(name="okta")
    assert km.multiple_secrets_enabled and km.secret_count == 2
    assert km.get_credentials() == {"api_token": okta_sim.api_token}
    assert okta_sim.api_token not in raw_credentials_column(km)


@pytest.mark.parametrize("secret_count", ["3", ""])
def test_okta_refuses_more_than_two_secrets_or_unlimited(admin_client_, db, secret_count):
    response = admin_client_.post(
        ADD_URL,
        form_data(
            type="okta",
            config=json.dumps({"base_url": "https://dev-1.okta.com"}),
            multiple_secrets_enabled="on",
            secret_count=secret_count,
            api_token="t",
        ),
    )

    assert response.status_code == 200
    assert "Okta keeps at most 2 secrets per client" in str(errors_of(response)["secret_count"])
    assert not KeyManager.objects.filter(type="okta").exists()


def test_a_dcr_key_manager_cannot_switch_on_multiple_secrets(admin_client_, db):
    response = admin_client_.post(ADD_URL, form_data(multiple_secrets_enabled="on"))

    assert response.status_code == 200
    assert "keeps one secret per client" in str(errors_of(response)["multiple_secrets_enabled"])


def test_import_fails_with_a_clear_message_on_a_closed_port(admin_client_, db, closed_port_url):
    response = admin_client_.post(
        ADD_URL,
        form_data(
            well_known_url=f"{closed_port_url}/.well-known/openid-configuration", import_well_known="on"
        ),
    )

    assert response.status_code == 200
    assert "could not connect to 127.0.0.1" in str(errors_of(response)["well_known_url"])
    assert not KeyManager.objects.filter(name="idp").exists()


def test_the_import_button_updates_endpoints_from_the_peer(admin_client_, db, oidc_peer):
    km = KeyManager.objects.create(
        name="idp",
        display_name="IdP",
        type="oidc-dcr",
        well_known_url=oidc_peer.well_known_url,
        multiple_secrets_enabled=False,
    )

    response = admin_client_.post(
        reverse("admin:keymanagers_keymanager_import_well_known", args=[km.pk]), follow=True
    )

    km.refresh_from_db()
    assert km.token_endpoint == f"{oidc_peer.url}/token"
    assert km.issuer == oidc_peer.url
    assert "imported" in response.content.decode()


def test_test_connection_against_the_peer_lists_every_step_ok(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)

    response = admin_client_.post(reverse("admin:keymanagers_keymanager_test_connection", args=[km.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "connection OK" in page
    for step in ("discovery", "registration", "token", "introspection", "revocation", "delete probe client"):
        assert f"<td>{step}</td>" in page
    assert "failed" not in page


def test_test_connection_against_a_closed_port_fails_with_the_reason(
    admin_client_, db, oidc_peer, closed_port_url
):
    km = make_dcr_key_manager(oidc_peer, timeout=2)
    km.well_known_url = f"{closed_port_url}/.well-known/openid-configuration"
    km.save()

    page = admin_client_.post(
        reverse("admin:keymanagers_keymanager_test_connection", args=[km.pk])
    ).content.decode()

    assert "connection FAILED" in page
    assert "could not connect to 127.0.0.1" in page


def test_the_test_connection_action_covers_several_key_managers(admin_client_, db, oidc_peer, okta_sim):
    from tests.external.conftest import make_okta_key_manager

    dcr = make_dcr_key_manager(oidc_peer)
    okta = make_okta_key_manager(okta_sim)

    response = admin_client_.post(
        reverse("admin:keymanagers_keymanager_changelist"),
        {"action": "test_connection", "_selected_action": [dcr.pk, okta.pk]},
    )

    page = response.content.decode()
    assert page.count("connection OK") == 2
    assert "client management API" in page


def test_test_connection_is_post_only(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)

    response = admin_client_.get(reverse("admin:keymanagers_keymanager_test_connection", args=[km.pk]))

    assert response.status_code == 405


def test_enable_and_disable_actions(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)
    changelist = reverse("admin:keymanagers_keymanager_changelist")

    admin_client_.post(changelist, {"action": "disable", "_selected_action": [km.pk]})
    km.refresh_from_db()
    assert km.enabled is False
    admin_client_.post(changelist, {"action": "enable", "_selected_action": [km.pk]})
    km.refresh_from_db()
    assert km.enabled is True


def test_the_resident_key_manager_cannot_be_deleted_nor_change_type(admin_client_, db):
    resident = KeyManager.objects.get(type="resident")

    assert (
        admin_client_.get(reverse("admin:keymanagers_keymanager_delete", args=[resident.pk])).status_code
        == 403
    )
    page = admin_client_.get(change_url(resident)).content.decode()
    assert 'name="type"' not in page  # read-only
    assert (
        "delete_selected"
        not in admin_client_.get(reverse("admin:keymanagers_keymanager_changelist")).content.decode()
    )
    assert KeyManager.objects.filter(pk=resident.pk, type="resident").exists()


def test_a_second_resident_key_manager_cannot_be_added(admin_client_, db):
    response = admin_client_.post(ADD_URL, form_data(type="resident", name="resident-2"))

    assert response.status_code == 200
    assert "only one Resident key manager" in str(errors_of(response)["type"])


def test_an_external_key_manager_can_be_deleted(admin_client_, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)

    response = admin_client_.post(
        reverse("admin:keymanagers_keymanager_delete", args=[km.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not KeyManager.objects.filter(pk=km.pk).exists()


def test_developers_cannot_reach_the_key_manager_admin(owner_client, db, oidc_peer):
    km = make_dcr_key_manager(oidc_peer)

    for url in (reverse("admin:keymanagers_keymanager_changelist"), change_url(km)):
        assert owner_client.get(url).status_code == 302  # to the admin login
    response = owner_client.post(reverse("admin:keymanagers_keymanager_test_connection", args=[km.pk]))
    assert response.status_code == 302


def test_the_resident_change_page_hides_endpoints_connection_and_credentials_and_still_saves(
    admin_client_, db, oidc_peer
):
    resident = KeyManager.objects.get(type="resident")
    resident.token_endpoint = "https://kept.example/oauth2/token"
    resident.config = {"resource": "https://api.example"}
    resident.save()

    page = admin_client_.get(change_url(resident)).content.decode()

    assert 'name="display_name"' in page
    assert 'name="available_grant_types"' in page
    for hidden in ('name="token_endpoint"', 'name="well_known_url"', 'name="config"', 'name="timeout"'):
        assert hidden not in page
    assert 'name="initial_access_token"' not in page
    assert "Credentials (write-only" not in page
    # An external key manager still shows all of them.
    external = admin_client_.get(change_url(make_dcr_key_manager(oidc_peer))).content.decode()
    for shown in ('name="token_endpoint"', 'name="config"', 'name="initial_access_token"'):
        assert shown in external

    response = admin_client_.post(
        change_url(resident),
        {
            "name": resident.name,
            "display_name": "Built-in server",
            "enabled": "on",
            "order": "0",
            "description": "",
            "available_grant_types": ["client_credentials"],
            "token_format": "DIRECT",
            "enable_oauth_app_creation": "on",
            "enable_token_generation": "on",
            "secret_count": "",
        },
    )

    assert response.status_code == 302, errors_of(response)
    resident.refresh_from_db()
    assert resident.display_name == "Built-in server"
    assert resident.available_grant_types == ["client_credentials"]
    # What the page no longer shows is left as it was.
    assert resident.token_endpoint == "https://kept.example/oauth2/token"
    assert resident.config == {"resource": "https://api.example"}
