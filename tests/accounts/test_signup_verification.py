"""Sign-up with e-mail verification (the default): no sign-in before the address is confirmed, and
the same answer whether or not a username or address is known: only the mailbox learns which."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.models import PendingSignup
from tests.conftest import PASSWORD

User = get_user_model()
pytestmark = pytest.mark.django_db


def _signup(client, **overrides):
    data = {"username": "newdev", "email": "newdev@example.com", "password1": PASSWORD, "password2": PASSWORD}
    data.update(overrides)
    return client.post("/accounts/signup/", data)


def _link(mail) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/signup/verify/[^/\s]+/[^/\s]+/)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_signing_up_creates_an_inactive_account_and_mails_a_link_instead_of_signing_in(client, mailoutbox):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/sent/"
    user = User.objects.get(username="newdev")
    assert not user.is_active
    assert PendingSignup.objects.filter(user=user).exists()
    assert "_auth_user_id" not in client.session
    assert [m.to for m in mailoutbox] == [["newdev@example.com"]]
    assert client.post("/accounts/login/", {"username": "newdev", "password": PASSWORD}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_link_shows_a_button_and_the_post_activates_and_signs_in_once(client, mailoutbox):
    _signup(client)
    link = _link(mailoutbox[0])

    page = client.get(link)
    assert page.status_code == 200
    assert "Activate my account" in page.content.decode()
    assert not User.objects.get(username="newdev").is_active  # a mail scanner's GET activates nothing

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/applications/"
    user = User.objects.get(username="newdev")
    assert user.is_active
    assert not PendingSignup.objects.filter(user=user).exists()
    assert client.session["_auth_user_id"] == str(user.pk)

    client.logout()
    assert client.post(link).status_code == 400  # used up
    assert "_auth_user_id" not in client.session


def test_a_forged_link_is_refused(client, mailoutbox):
    _signup(client)
    uid = _link(mailoutbox[0]).split("/")[4]

    response = client.post(f"/accounts/signup/verify/{uid}/abc-0123456789abcdef/")

    assert response.status_code == 400
    assert not User.objects.get(username="newdev").is_active


def test_verification_never_reactivates_an_account_an_admin_switched_off(client, owner, mailoutbox):
    owner.is_active = False
    owner.save()
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from portal.accounts.services import verification_tokens

    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    response = client.post(f"/accounts/signup/verify/{uid}/{verification_tokens.make_token(owner)}/")

    assert response.status_code == 400
    owner.refresh_from_db()
    assert not owner.is_active


def _page_and_mail(client, mailoutbox, **fields):
    response = _signup(client, **fields)
    follow = client.get(response["Location"])
    return response.status_code, response["Location"], follow.content.decode(), mailoutbox[-1]


def test_a_known_address_gets_the_same_answer_and_a_mail_to_its_owner(client, owner, mailoutbox):
    fresh = _page_and_mail(client, mailoutbox, username="fresh", email="fresh@example.com")
    known = _page_and_mail(client, mailoutbox, username="another", email=owner.email.upper())

    assert known[:3] == fresh[:3]
    assert known[3].to == [owner.email]
    assert "already belongs to your account" in known[3].body
    assert not User.objects.filter(username="another").exists()


def test_a_taken_username_gets_the_same_answer_and_a_mail_to_the_new_address(client, owner, mailoutbox):
    fresh = _page_and_mail(client, mailoutbox, username="fresh", email="fresh@example.com")
    taken = _page_and_mail(client, mailoutbox, username=owner.username.upper(), email="someone@example.com")

    assert taken[:3] == fresh[:3]
    assert taken[3].to == ["someone@example.com"]
    assert "already taken" in taken[3].body
    assert User.objects.filter(email="someone@example.com").count() == 0


def test_signing_up_again_before_verifying_resends_the_link(client, mailoutbox):
    _signup(client)
    _signup(client, username="otherdev")

    assert User.objects.filter(email="newdev@example.com").count() == 1
    assert len(mailoutbox) == 2
    assert _link(mailoutbox[1]) and "Activate" in mailoutbox[1].body


def test_an_unverified_account_past_the_links_lifetime_gives_way_to_a_new_signup(
    client, mailoutbox, settings
):
    _signup(client)
    PendingSignup.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    )

    _signup(client, email="real-owner@example.com")

    assert User.objects.get(username="newdev").email == "real-owner@example.com"
    assert mailoutbox[-1].to == ["real-owner@example.com"]
