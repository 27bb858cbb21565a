"""Admin pages of the resident server: no secret or private key is ever shown; rotation is confirmed."""

from __future__ import annotations

import pytest

import keymanagers.admin  # noqa: F401  (registers the admin classes, the resident ones included)
from keymanagers.models import SigningKey
from keymanagers.resident import signing

pytestmark = pytest.mark.django_db


def test_client_pages_never_show_a_secret(admin_client_, make_client):
    client, registered = make_client()
    listing = admin_client_.get("/admin/keymanagers/oauthclient/", {"q": registered.ref.client_id})
    assert listing.status_code == 200
    assert registered.ref.client_id in listing.content.decode()
    page = admin_client_.get(f"/admin/keymanagers/oauthclient/{client.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert registered.secret.value not in html
    assert client.secrets.get().secret_hash not in html
    assert 'name="client_secret"' not in html
    assert 'name="client_id"' not in html  # read-only


def test_secret_pages_show_no_hash(admin_client_, make_client):
    # issue 13: a client's secrets are shown inline on its page (the portal's Consumer secrets is the
    # one list of secrets), with their dates and last use, never their hash.
    client, _ = make_client()
    secret = client.secrets.get()
    assert admin_client_.get(f"/admin/keymanagers/clientsecret/{secret.pk}/change/").status_code == 404
    page = admin_client_.get(f"/admin/keymanagers/oauthclient/{client.pk}/change/")
    assert page.status_code == 200
    assert str(secret.pk) in page.content.decode()
    assert secret.secret_hash not in page.content.decode()


def test_signing_key_page_never_shows_the_private_key(admin_client_):
    signing.active_key()
    row = SigningKey.objects.get()
    page = admin_client_.get(f"/admin/keymanagers/signingkey/{row.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert row.private_key_encrypted not in html
    assert "PRIVATE KEY" not in html


def test_rotate_now_asks_first_then_rotates(admin_client_):
    signing.active_key()
    old = SigningKey.objects.get()
    action = {"action": "rotate_now", "_selected_action": [old.pk]}
    confirm = admin_client_.post("/admin/keymanagers/signingkey/", action)
    assert confirm.status_code == 200
    assert b"Rotate the resident signing key?" in confirm.content
    assert SigningKey.objects.count() == 1

    done = admin_client_.post("/admin/keymanagers/signingkey/", {**action, "confirm": "yes"})
    assert done.status_code == 302
    old.refresh_from_db()
    assert old.state == SigningKey.State.RETIRED
    assert SigningKey.objects.filter(state=SigningKey.State.ACTIVE).exclude(pk=old.pk).count() == 1


def test_developers_cannot_reach_the_admin(owner_client):
    assert owner_client.get("/admin/keymanagers/signingkey/").status_code == 302


# -- the resident clients admin changes nothing the portal owns -----------------------------


def client_change_form(admin_client_, oauth_client):
    page = admin_client_.get(f"/admin/keymanagers/oauthclient/{oauth_client.pk}/change/")
    assert page.status_code == 200
    return page


def test_client_page_edits_only_what_the_admin_decides(admin_client_, make_client):
    oauth_client, _ = make_client()
    page = client_change_form(admin_client_, oauth_client)
    form = page.context["adminform"].form
    assert set(form.fields) == {"is_resource_server", "skip_authorization"}
    assert "Change keys from the developer's application page or the REST API." in page.content.decode()
    # Made through the adapter alone, so no application's key points at it: the page says so.
    assert "no application holds this client" in page.content.decode()


def test_saving_the_client_page_changes_only_the_resource_server_flag(admin_client_, make_client):
    oauth_client, _ = make_client()
    url = f"/admin/keymanagers/oauthclient/{oauth_client.pk}/change/"
    answer = admin_client_.post(
        url,
        {
            "is_resource_server": "on",
            "grant_types": '["password"]',
            "redirect_uris": "https://evil.example/cb",
            "application_token_lifetime": "-1",
            "client_type": "public",
            "secrets-TOTAL_FORMS": "1",
            "secrets-INITIAL_FORMS": "1",
            "secrets-MIN_NUM_FORMS": "0",
            "secrets-MAX_NUM_FORMS": "1000",
            "secrets-0-id": str(oauth_client.secrets.get().pk),
            "secrets-0-DELETE": "on",
        },
    )
    assert answer.status_code == 302, answer.content
    before = oauth_client
    oauth_client = type(oauth_client).objects.get(pk=before.pk)
    assert oauth_client.is_resource_server is True
    assert oauth_client.grant_types == before.grant_types
    assert oauth_client.redirect_uris == before.redirect_uris
    assert oauth_client.application_token_lifetime == before.application_token_lifetime
    assert oauth_client.client_type == before.client_type
    assert oauth_client.secrets.count() == 1


def test_an_admin_decision_to_skip_consent_survives_a_key_update(admin_client_, adapter, make_client):
    from keymanagers.base import ClientConfig

    oauth_client, registered = make_client()
    url = f"/admin/keymanagers/oauthclient/{oauth_client.pk}/change/"
    data = {
        "skip_authorization": "on",
        "secrets-TOTAL_FORMS": "0",
        "secrets-INITIAL_FORMS": "0",
        "secrets-MIN_NUM_FORMS": "0",
        "secrets-MAX_NUM_FORMS": "1000",
    }
    assert admin_client_.post(url, data).status_code == 302
    adapter.update_client(
        registered.ref,
        ClientConfig(name="Weather app", grant_types=["client_credentials"], callback_url=""),
    )
    oauth_client.refresh_from_db()
    assert oauth_client.skip_authorization is True


def test_clients_cannot_be_added_or_deleted_in_the_admin(admin_client_, make_client):
    oauth_client, _ = make_client()
    assert admin_client_.get("/admin/keymanagers/oauthclient/add/").status_code == 403
    delete_url = f"/admin/keymanagers/oauthclient/{oauth_client.pk}/delete/"
    assert admin_client_.get(delete_url).status_code == 403
    assert admin_client_.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client_.post(
        "/admin/keymanagers/oauthclient/",
        {"action": "delete_selected", "_selected_action": [oauth_client.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert type(oauth_client).objects.filter(pk=oauth_client.pk).exists()


def test_secrets_cannot_be_deleted_in_the_admin(admin_client_, make_client):
    oauth_client, _ = make_client()
    secret = oauth_client.secrets.get()
    page = client_change_form(admin_client_, oauth_client)
    assert "secrets-0-DELETE" not in page.content.decode()
    delete_url = f"/admin/keymanagers/clientsecret/{secret.pk}/delete/"
    assert admin_client_.post(delete_url, {"post": "yes"}).status_code == 404  # no such admin (issue 13)
    assert oauth_client.secrets.filter(pk=secret.pk).exists()


def test_rotating_in_the_admin_says_until_when_the_old_key_is_published(admin_client_):
    signing.active_key()
    old = SigningKey.objects.get()
    action = {"action": "rotate_now", "_selected_action": [old.pk], "confirm": "yes"}
    done = admin_client_.post("/admin/keymanagers/signingkey/", action, follow=True)
    old.refresh_from_db()
    message = f"Retired key {old.kid} stays in the JWKS until {old.publish_until:%Y-%m-%d %H:%M}"
    assert message in done.content.decode()


# -- the Resident key manager offers only the grants its server serves ----------------------


def resident_change_data(admin_client_, resident):
    url = f"/admin/keymanagers/keymanager/{resident.pk}/change/"
    form = admin_client_.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: v for k, v in data.items() if v is not False}
    data.update(config="{}", secret_count="", timeout="")
    return url, data


def test_the_resident_key_manager_form_offers_only_served_grant_types(admin_client_, resident):
    url, _ = resident_change_data(admin_client_, resident)
    html = admin_client_.get(url).content.decode()
    assert 'value="client_credentials"' in html
    assert 'value="implicit"' in html
    assert "grant-type:device_code" not in html
    assert "grant-type:jwt-bearer" not in html
    assert "grant-type:token-exchange" not in html


def test_the_resident_key_manager_refuses_a_grant_it_cannot_serve(admin_client_, resident):
    url, data = resident_change_data(admin_client_, resident)
    data["available_grant_types"] = ["client_credentials", "urn:ietf:params:oauth:grant-type:device_code"]
    answer = admin_client_.post(url, data)
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors["available_grant_types"]
    assert "does not serve urn:ietf:params:oauth:grant-type:device_code" in errors[0]
    resident.refresh_from_db()
    assert "urn:ietf:params:oauth:grant-type:device_code" not in resident.available_grant_types


def test_the_resident_key_manager_saves_served_grant_types(admin_client_, resident):
    url, data = resident_change_data(admin_client_, resident)
    data["available_grant_types"] = ["client_credentials", "password"]
    assert admin_client_.post(url, data).status_code == 302
    resident.refresh_from_db()
    assert resident.available_grant_types == ["client_credentials", "password"]


def test_the_adapter_never_offers_a_grant_the_server_does_not_serve(adapter, resident):
    # A row written around the form (a data migration, the shell) is the second guard's case.
    resident.available_grant_types = [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    resident.save()
    from keymanagers.base import adapter_for

    assert adapter_for(resident).available_grant_types() == ["client_credentials"]


def test_the_admin_shows_what_revocation_of_unstored_jwts_keeps(admin_client_, adapter, make_client):
    from django.test import Client

    from tests.resident.conftest import basic, token_request

    client, registered = make_client()
    http = Client()
    token = token_request(http, registered.ref.client_id, registered.secret.value).json()["access_token"]
    http.post(
        "/oauth2/revoke",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )
    adapter.revoke_client_tokens(registered.ref)

    tokens_page = admin_client_.get("/admin/oauth2_provider/accesstoken/")
    assert tokens_page.status_code == 200
    assert "Client_credentials JWTs of applications are not stored" in tokens_page.content.decode()

    revoked_list = admin_client_.get("/admin/keymanagers/revokedtoken/")
    assert revoked_list.status_code == 200
    html = revoked_list.content.decode()
    assert signing.verify(token)["jti"] in html
    assert token not in html
    assert admin_client_.get("/admin/keymanagers/revokedtoken/add/").status_code == 403

    page = admin_client_.get(f"/admin/keymanagers/oauthclient/{client.pk}/change/")
    assert "Tokens revoked before" in page.content.decode()
    client.refresh_from_db()
    assert client.tokens_revoked_before is not None
