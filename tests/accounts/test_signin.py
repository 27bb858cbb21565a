"""Sign-in through the form, sign-out by POST only, and the failed sign-in limit."""

from __future__ import annotations

import pytest

from portal.accounts.forms import SIGNIN_MAX_FAILURES
from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_signing_in_lands_on_applications(client, owner):
    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/applications/"
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_signing_in_returns_to_the_page_asked_for(client, owner):
    response = client.post(
        "/accounts/login/?next=/api-tokens/",
        {"username": "alice", "password": PASSWORD, "next": "/api-tokens/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/api-tokens/"


def test_signing_in_never_redirects_to_another_site(client, owner):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/applications/"


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = _login(client, "alice", "not the password")

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_page_that_needs_sign_in_redirects_to_the_login_page(client, db):
    response = client.get("/accounts/password/change/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


def test_too_many_failures_lock_the_username_even_with_the_right_password(client, owner):
    for _ in range(SIGNIN_MAX_FAILURES):
        assert _login(client, "alice", "wrong").status_code == 200

    response = _login(client, "ALICE ", PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock_anyone_out(client, owner):
    for _ in range(SIGNIN_MAX_FAILURES - 1):
        _login(client, "alice", "wrong")

    assert _login(client, "alice", PASSWORD).status_code == 302


def test_one_users_failures_do_not_lock_out_another(client, owner, other_developer):
    for _ in range(SIGNIN_MAX_FAILURES):
        _login(client, "alice", "wrong")

    assert _login(client, "mallory", PASSWORD).status_code == 302


def test_signing_out_by_get_is_refused(owner_client, owner):
    response = owner_client.get("/accounts/logout/")

    assert response.status_code == 405
    assert owner_client.session["_auth_user_id"] == str(owner.pk)


def test_signing_out_by_post_ends_the_session(owner_client):
    response = owner_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in owner_client.session


@pytest.mark.django_db
def test_signing_out_needs_the_csrf_token(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.post("/accounts/logout/").status_code == 403
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_the_menu_offers_sign_out_as_a_post_form_and_change_password(owner_client):
    content = owner_client.get("/accounts/password/change/").content.decode()

    assert '<form method="post" action="/accounts/logout/">' in content
    assert 'href="/accounts/password/change/"' in content
    assert ">alice<" in content


def test_the_admin_sign_in_form_shares_the_failure_limit(rf, admin_user):
    from portal.accounts.forms import RateLimitedAdminAuthenticationForm

    def attempt(password):
        form = RateLimitedAdminAuthenticationForm(
            rf.post("/admin/login/"), data={"username": "root", "password": password}
        )
        return form.is_valid(), form.non_field_errors()

    for _ in range(SIGNIN_MAX_FAILURES):
        valid, errors = attempt("wrong")
        assert not valid
        assert "for a staff account" in errors[0]

    valid, errors = attempt(PASSWORD)

    assert not valid
    assert "Too many failed sign-in attempts" in errors[0]


def test_the_admin_login_page_refuses_a_locked_out_username(client, admin_user):
    for _ in range(SIGNIN_MAX_FAILURES):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})

    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(client, owner):
    for _ in range(SIGNIN_MAX_FAILURES):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 302


def test_behind_trusted_proxies_the_forwarded_address_is_the_one_counted(client, owner, settings):
    settings.PORTAL_TRUSTED_PROXIES = 1
    for _ in range(SIGNIN_MAX_FAILURES):
        client.post(
            "/accounts/login/",
            {"username": "alice", "password": "wrong"},
            # The client's own spoofed entry comes first; our proxy appended the real address last.
            HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9",
        )

    blocked = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
    )
    elsewhere = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert "Too many failed sign-in attempts" in blocked.content.decode()
    assert elsewhere.status_code == 302


def test_guessing_spread_over_many_addresses_still_hits_a_limit(client, owner):
    from portal.accounts.forms import SIGNIN_MAX_FAILURES_ANY_ADDRESS

    for i in range(SIGNIN_MAX_FAILURES_ANY_ADDRESS):
        client.post(
            "/accounts/login/",
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=f"203.0.{i // 250}.{i % 250}",
        )

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    assert "Too many failed sign-in attempts" in response.content.decode()
