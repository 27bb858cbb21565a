"""Django admin for users, applications, API tokens and the audit log."""

from __future__ import annotations

import pytest

from portal.applications import services
from portal.audit import audit
from portal.models import ApiToken, Application

pytestmark = pytest.mark.django_db


def test_developers_cannot_open_the_admin(owner_client):
    response = owner_client.get("/admin/portal/application/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_applications_changelist_lists_and_searches(
    admin_client_, owner, other_developer, make_application
):
    make_application(owner, "Weather App")
    make_application(other_developer, "Payments")
    response = admin_client_.get("/admin/portal/application/")
    assert response.status_code == 200
    assert "Weather App" in response.text and "Payments" in response.text
    searched = admin_client_.get("/admin/portal/application/", {"q": "mallory"})
    assert "Payments" in searched.text and "Weather App" not in searched.text


def test_searching_applications_by_id_finds_exactly_one(admin_client_, owner, make_application):
    wanted = make_application(owner, "Weather App")
    make_application(owner, "Payments")
    response = admin_client_.get("/admin/portal/application/", {"q": str(wanted.pk)})
    assert response.status_code == 200
    assert "Weather App" in response.text and "Payments" not in response.text


def test_the_applications_changelist_filters_by_token_type(admin_client_, owner, make_application):
    make_application(owner, "Weather App", token_type="JWT")
    make_application(owner, "Opaque One", token_type="OAUTH")
    response = admin_client_.get("/admin/portal/application/", {"token_type__exact": "OAUTH"})
    assert "Opaque One" in response.text and "Weather App" not in response.text


def test_the_application_change_page_shows_the_id_read_only(admin_client_, application):
    response = admin_client_.get(f"/admin/portal/application/{application.pk}/change/")
    assert response.status_code == 200
    assert str(application.pk) in response.text
    assert 'name="id"' not in response.text
    assert 'name="name"' in response.text


def test_the_users_changelist_counts_applications(admin_client_, owner, make_application):
    make_application(owner, "Weather App")
    response = admin_client_.get("/admin/auth/user/", {"q": "alice"})
    assert response.status_code == 200
    assert "alice" in response.text
    assert response.context["cl"].result_list[0].application_count == 1


def test_the_user_change_page_lists_their_applications(admin_client_, owner, make_application):
    make_application(owner, "Weather App")
    response = admin_client_.get(f"/admin/auth/user/{owner.pk}/change/")
    assert response.status_code == 200
    assert "Weather App" in response.text


def test_the_api_token_admin_never_shows_the_hash_and_cannot_add(admin_client_, owner):
    token, _ = services.api_token_create(user=owner, name="ci", days=30)
    response = admin_client_.get(f"/admin/portal/apitoken/{token.pk}/change/")
    assert response.status_code == 200
    assert token.prefix in response.text
    assert token.token_hash not in response.text
    assert admin_client_.get("/admin/portal/apitoken/add/").status_code == 403


def test_an_admin_can_revoke_a_token_by_deleting_it(admin_client_, owner):
    token, _ = services.api_token_create(user=owner, name="ci", days=30)
    response = admin_client_.post(f"/admin/portal/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_the_audit_log_is_searchable_and_read_only(admin_client_, owner, application):
    event = audit(actor=owner, action="keys.generate", application=application)
    response = admin_client_.get("/admin/portal/auditevent/", {"q": "keys.generate"})
    assert response.status_code == 200
    assert "keys.generate" in response.text
    assert admin_client_.get("/admin/portal/auditevent/add/").status_code == 403
    change = admin_client_.post(f"/admin/portal/auditevent/{event.pk}/change/", {"action": "forged"})
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.action == "keys.generate"


def test_the_admin_refuses_a_duplicate_name_for_the_same_owner(admin_client_, owner, application):
    response = admin_client_.post(
        "/admin/portal/application/add/",
        {
            "owner": owner.pk,
            "name": "WEATHER APP",
            "description": "",
            "token_type": "JWT",
            "throttling_policy": "Unlimited",
            "status": "APPROVED",
        },
    )
    assert response.status_code == 200
    assert "alice already has an application named &#x27;WEATHER APP&#x27;." in response.text
    assert Application.objects.count() == 1


def _resident_keys(application, owner):
    from keymanagers.models import KeyManager
    from keys.services import keys_generate

    generated = keys_generate(
        application=application,
        key_type="PRODUCTION",
        key_manager=KeyManager.objects.get(name="Resident"),
        config={"grant_types": ["client_credentials"]},
        actor=owner,
    )
    return generated.key.consumer_key, generated.consumer_secret


def _token(client, consumer_key, consumer_secret):
    return client.post(
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(consumer_key, consumer_secret),
    )


def _basic(user, password):
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_deleting_an_application_in_the_admin_removes_its_clients_too(
    admin_client_, client, owner, application
):
    from keymanagers.models import OAuthClient

    consumer_key, secret = _resident_keys(application, owner)
    assert _token(client, consumer_key, secret).status_code == 200

    response = admin_client_.post(
        "/admin/portal/application/",
        {"action": "delete_applications", "_selected_action": [application.pk]},
        follow=True,
    )

    assert "Deleted 1 application(s)" in response.content.decode()
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not OAuthClient.objects.filter(client_id=consumer_key).exists()
    assert _token(client, consumer_key, secret).status_code == 401


def test_deleting_a_user_in_the_admin_removes_their_clients_too(admin_client_, client, owner, application):
    from django.contrib.auth import get_user_model

    consumer_key, secret = _resident_keys(application, owner)

    admin_client_.post("/admin/auth/user/", {"action": "delete_users", "_selected_action": [owner.pk]})

    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    assert _token(client, consumer_key, secret).status_code == 401


def test_the_admin_offers_no_plain_delete_that_would_skip_the_key_managers(admin_client_, application, owner):
    assert admin_client_.get(f"/admin/portal/application/{application.pk}/delete/").status_code == 403
    assert admin_client_.get(f"/admin/auth/user/{owner.pk}/delete/").status_code == 403
    changelist = admin_client_.get("/admin/portal/application/").content.decode()
    assert 'value="delete_selected"' not in changelist


def test_the_token_type_is_read_only_in_the_admin_once_an_application_exists(admin_client_, application):
    change = f"/admin/portal/application/{application.pk}/change/"
    form = admin_client_.get(change).context["adminform"].form

    assert "token_type" not in form.fields


def test_the_admin_wears_the_portals_name_and_logo(admin_client_):
    text = admin_client_.get("/admin/").text
    assert "<title>Administration | Developer Portal admin</title>" in text
    assert "Developer Portal administration</a>" in text
    assert "Django administration" not in text
    assert '<link rel="icon" href="/static/img/logo.svg" type="image/svg+xml">' in text
    # Personal tokens are "API tokens" in the admin too, not "Api tokens".
    assert ">API tokens</a>" in text
    assert ApiToken._meta.verbose_name == "API token"


def test_the_admin_sign_in_page_has_the_portals_header_too(client, db):
    text = client.get("/admin/login/").text
    assert "Developer Portal administration" in text
    assert 'href="/static/img/logo.svg"' in text
