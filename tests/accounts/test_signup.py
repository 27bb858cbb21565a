"""Sign-up without e-mail verification (PORTAL_SIGNUP_EMAIL_VERIFICATION=false): immediate sign-in.

Sign-up is on by default, off with PORTAL_SIGNUP_ENABLED=false (404, and the link disappears).
With verification on (the default) see test_signup_verification.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD

User = get_user_model()


@pytest.fixture(autouse=True)
def _no_email_verification(settings):
    settings.PORTAL_SIGNUP_EMAIL_VERIFICATION = False


def _signup(client, **overrides):
    data = {"username": "newdev", "email": "newdev@example.com", "password1": PASSWORD, "password2": PASSWORD}
    data.update(overrides)
    return client.post("/accounts/signup/", data)


@pytest.mark.django_db
def test_signing_up_creates_the_account_signs_in_and_lands_on_applications(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/applications/"
    user = User.objects.get(username="newdev")
    assert user.email == "newdev@example.com"
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_the_signup_page_shows_the_form(client):
    response = client.get("/accounts/signup/")

    assert response.status_code == 200
    content = response.content.decode()
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in content


@pytest.mark.django_db
def test_signup_requires_an_email(client):
    response = _signup(client, email="")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not User.objects.filter(username="newdev").exists()


@pytest.mark.django_db
def test_signup_refuses_an_email_already_in_use_whatever_its_case(client, owner):
    response = _signup(client, email=owner.email.upper())

    assert response.status_code == 200
    assert "An account with this email address already exists." in response.content.decode()
    assert not User.objects.filter(username="newdev").exists()


@pytest.mark.django_db
def test_signup_refuses_a_taken_username(client, owner):
    response = _signup(client, username=owner.username)

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_signup_refuses_passwords_that_differ(client):
    response = _signup(client, password2=PASSWORD + "!")

    assert response.status_code == 200
    assert "The two password fields didn" in response.content.decode()
    assert not User.objects.filter(username="newdev").exists()


@pytest.mark.django_db
def test_signup_applies_the_password_validators(client):
    response = _signup(client, password1="qwerty", password2="qwerty")

    content = response.content.decode()
    assert response.status_code == 200
    assert "This password is too common." in content
    assert "This password is too short." in content
    assert not User.objects.filter(username="newdev").exists()


@pytest.mark.django_db
def test_a_signed_in_user_is_sent_to_applications_instead_of_signing_up_again(owner_client):
    response = owner_client.get("/accounts/signup/")

    assert response.status_code == 302
    assert response["Location"] == "/applications/"


@pytest.mark.django_db
def test_signup_is_a_404_when_switched_off(client, settings):
    settings.PORTAL_SIGNUP_ENABLED = False

    assert client.get("/accounts/signup/").status_code == 404
    assert _signup(client).status_code == 404
    assert not User.objects.filter(username="newdev").exists()


@pytest.mark.django_db
def test_the_signup_links_disappear_when_signup_is_switched_off(client, settings):
    assert 'href="/accounts/signup/"' in client.get("/accounts/login/").content.decode()

    settings.PORTAL_SIGNUP_ENABLED = False

    assert 'href="/accounts/signup/"' not in client.get("/accounts/login/").content.decode()


def test_sign_up_and_sign_in_labels_have_no_trailing_colon():
    from portal.accounts.forms import RateLimitedAuthenticationForm, SignupForm

    signup, signin = SignupForm(), RateLimitedAuthenticationForm()
    assert signup["email"].label_tag() == '<label for="id_email">Email</label>'
    assert signin["username"].label_tag() == '<label for="id_username">Username</label>'
