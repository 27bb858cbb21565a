"""Django admin for users, applications, API tokens and the audit log."""

from __future__ import annotations

import pytest

from portal import services
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
