"""Password change (signed in) and password reset by email."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD

NEW_PASSWORD = "a new and longer passphrase 42"


def test_changing_the_password(owner_client, owner):
    response = owner_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/done/"
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    # The session that changed it stays signed in.
    assert owner_client.get("/accounts/password/change/done/").status_code == 200


def test_changing_the_password_needs_the_old_one(owner_client, owner):
    response = owner_client.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_changing_the_password_applies_the_validators(owner_client, owner):
    response = owner_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )

    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def _reset_link(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_password_reset_sends_a_link_that_sets_a_new_password(client, owner, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your Developer Portal password"

    # The link redirects once to a URL without the token (so it does not leak through Referer).
    response = client.get(_reset_link(message.body))
    assert response.status_code == 302
    form_url = response["Location"]
    assert client.get(form_url).status_code == 200

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)

    # Used once, the link is dead.
    response = client.get(_reset_link(message.body), follow=True)
    assert "This link does not work" in response.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mailoutbox == []


def test_a_forged_reset_link_does_not_work(client, owner):
    response = client.get("/accounts/password/reset/MQ/forged-token/", follow=True)

    assert response.status_code == 200
    assert "This link does not work" in response.content.decode()
    assert get_user_model().objects.get(pk=owner.pk).check_password(PASSWORD)
