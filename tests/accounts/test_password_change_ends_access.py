"""A new password ends what the old one let in: other sessions and every personal API token."""

from __future__ import annotations

import pytest
from django.test import Client

from portal.applications.services import api_token_create
from portal.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "a new and longer passphrase 42"
API = "/api/am/devportal/v3/applications"


def _token(owner) -> str:
    return api_token_create(user=owner, name="script", days=30)[1]


@pytest.mark.django_db
def test_changing_the_password_revokes_api_tokens_and_ends_other_sessions(owner, owner_client):
    token = _token(owner)
    prefix = ApiToken.objects.get(user=owner).prefix
    elsewhere = Client()
    elsewhere.force_login(owner)
    assert Client().get(API, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    owner_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert Client().get(API, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not ApiToken.objects.filter(user=owner).exists()
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.detail == {"token_prefix": prefix, "reason": "password changed"}
    assert elsewhere.get("/applications/").status_code == 302  # sent to sign in
    assert owner_client.get("/applications/").status_code == 200  # the session that changed it stays


@pytest.mark.django_db
def test_an_admin_setting_a_password_revokes_the_users_api_tokens(owner):
    _token(owner)
    owner.set_password(NEW_PASSWORD)
    owner.save()

    assert not ApiToken.objects.filter(user=owner).exists()


@pytest.mark.django_db
def test_saving_a_user_without_a_new_password_keeps_the_tokens(owner):
    _token(owner)
    owner.first_name = "Alice"
    owner.save()

    assert ApiToken.objects.filter(user=owner).count() == 1


@pytest.mark.django_db
def test_staff_sessions_are_shorter(client, admin_user, settings):
    settings.PORTAL_STAFF_SESSION_SECONDS = 3600
    client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    assert client.session.get_expiry_age() == 3600
