"""Abuse limits: 429 with Retry-After, in each endpoint's own format, counted in the shared cache.

The rates are lowered through their settings so that a handful of requests reaches them.
"""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from portal.applications.services import api_token_create

pytestmark = pytest.mark.django_db


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _assert_retry_after(response, at_most: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= at_most


@pytest.mark.parametrize("endpoint", ["token", "introspect", "revoke"])
def test_bad_secret_guessing_on_an_oauth_endpoint_gets_an_oauth_429(endpoint, client, settings):
    settings.PORTAL_RATELIMIT_OAUTH_CLIENT = settings.PORTAL_RATELIMIT_INTROSPECT_CLIENT = "3/m"
    auth = _basic("victim-client", "guess")

    answers = [
        client.post(
            f"/oauth2/{endpoint}", {"grant_type": "client_credentials", "token": "x"}, HTTP_AUTHORIZATION=auth
        )
        for _ in range(4)
    ]

    assert all(a.status_code != 429 for a in answers[:3])
    _assert_retry_after(answers[3], 60)
    assert answers[3].json()["error"] == "too_many_requests"
    assert "retry after" in answers[3].json()["error_description"]
    assert answers[3]["Cache-Control"] == "no-store"
    # Another client from elsewhere is not affected.
    other = Client(REMOTE_ADDR="203.0.113.9").post(
        f"/oauth2/{endpoint}", {"token": "x"}, HTTP_AUTHORIZATION=_basic("other-client", "guess")
    )
    assert other.status_code != 429


def test_the_client_limit_counts_a_client_id_in_the_form_too(client, settings):
    settings.PORTAL_RATELIMIT_OAUTH_CLIENT = "2/m"
    data = {"grant_type": "client_credentials", "client_id": "victim", "client_secret": "guess"}

    statuses = [client.post("/oauth2/token", data).status_code for _ in range(3)]

    assert statuses[-1] == 429 and 429 not in statuses[:2]


def test_one_address_trying_many_clients_hits_the_address_limit(client, settings):
    settings.PORTAL_RATELIMIT_OAUTH_ADDRESS = "5/m"

    statuses = [
        client.post(
            "/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(f"c{i}", "x")
        ).status_code
        for i in range(6)
    ]

    assert 429 not in statuses[:5]
    assert statuses[5] == 429


def test_the_rest_api_limits_each_user_across_their_tokens(owner, settings):
    settings.PORTAL_RATELIMIT_API_USER = "3/m"
    tokens = [api_token_create(user=owner, name=f"t{i}", days=30)[1] for i in range(2)]
    api = Client()

    answers = [
        api.get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {tokens[i % 2]}")
        for i in range(4)
    ]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    _assert_retry_after(answers[3], 60)
    assert answers[3].json()["code"] == 429
    assert answers[3].json()["message"] == "Too Many Requests"


def test_the_rest_api_limit_is_per_user(owner, other_developer, settings):
    settings.PORTAL_RATELIMIT_API_USER = "1/m"
    mine = api_token_create(user=owner, name="t", days=30)[1]
    theirs = api_token_create(user=other_developer, name="t", days=30)[1]
    api = Client()

    api.get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {mine}")

    assert (
        api.get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {mine}").status_code == 429
    )
    assert (
        api.get("/api/am/devportal/v3/applications", HTTP_AUTHORIZATION=f"Bearer {theirs}").status_code == 200
    )


def test_password_reset_is_limited_per_email_address(client, owner, settings, mailoutbox):
    settings.PORTAL_RATELIMIT_RESET_EMAIL = "2/h"

    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(
            "/accounts/password/reset/", {"email": "Alice@example.com"}
        )
        for i in range(3)
    ]

    assert [a.status_code for a in answers[:2]] == [302, 302]
    _assert_retry_after(answers[2], 3600)
    assert "Too many requests" in answers[2].content.decode()
    assert len(mailoutbox) == 2


def test_password_reset_is_limited_per_client_address(client, settings, mailoutbox):
    settings.PORTAL_RATELIMIT_RESET_ADDRESS = "2/h"

    statuses = [
        client.post("/accounts/password/reset/", {"email": f"user{i}@example.com"}).status_code
        for i in range(3)
    ]

    assert statuses == [302, 302, 429]


def test_signup_is_limited_per_address_and_per_email(client, settings, mailoutbox):
    settings.PORTAL_RATELIMIT_SIGNUP_ADDRESS = "2/h"
    settings.PORTAL_RATELIMIT_SIGNUP_EMAIL = "1/h"
    password = "correct horse battery staple"

    def signup(http, n, email):
        return http.post(
            "/accounts/signup/",
            {"username": f"dev{n}", "email": email, "password1": password, "password2": password},
        )

    assert signup(client, 1, "one@example.com").status_code == 302
    assert signup(Client(REMOTE_ADDR="198.51.100.7"), 2, "one@example.com").status_code == 429
    assert signup(client, 3, "two@example.com").status_code == 302
    answer = signup(client, 4, "three@example.com")
    _assert_retry_after(answer, 3600)
    assert "Too many requests" in answer.content.decode()


def test_password_spraying_from_one_address_is_stopped(client, db):
    from django.contrib.auth import get_user_model

    from portal.accounts.forms import SIGNIN_MAX_FAILURES_PER_ADDRESS, TOO_MANY_ATTEMPTS

    User = get_user_model()
    for i in range(SIGNIN_MAX_FAILURES_PER_ADDRESS + 1):
        User.objects.create_user(f"user{i}", password="the real one 2026")
    for i in range(SIGNIN_MAX_FAILURES_PER_ADDRESS):
        client.post("/accounts/login/", {"username": f"user{i}", "password": "Summer2026!"})

    # Even the right password of an untouched account waits: the address is paused.
    response = client.post(
        "/accounts/login/",
        {"username": f"user{SIGNIN_MAX_FAILURES_PER_ADDRESS}", "password": "the real one 2026"},
    )
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    elsewhere = Client(REMOTE_ADDR="203.0.113.5")
    elsewhere.post(
        "/accounts/login/",
        {"username": f"user{SIGNIN_MAX_FAILURES_PER_ADDRESS}", "password": "the real one 2026"},
    )
    assert "_auth_user_id" in elsewhere.session
