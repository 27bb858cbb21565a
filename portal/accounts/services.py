"""Sign-up with e-mail verification, without telling a visitor which usernames or addresses exist.

The page answers "check your email" whatever happened; only the mailbox learns the outcome:
a verification link for a new account, "you already have an account" for a known address, "that
username is taken" when only the username clashes. Whoever can read the mailbox may learn that
much, which is what the reference portals and Django's own password reset accept too.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.models import PendingSignup

logger = logging.getLogger(__name__)


class VerificationTokenGenerator(PasswordResetTokenGenerator):
    # Its own salt: a password-reset token is never a verification token, nor the reverse.
    key_salt = "portal.accounts.services.VerificationTokenGenerator"


verification_tokens = VerificationTokenGenerator()


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def _send(template: str, email: str, context: dict) -> None:
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"registration/{template}_subject.txt", context).strip()
    body = render_to_string(f"registration/{template}_email.txt", context)
    send_mail(subject, body, None, [email])


def _send_verification(user) -> None:
    path = reverse(
        "signup_verify",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": verification_tokens.make_token(user),
        },
    )
    _send("signup_verify", user.email, {"user": user, "link": settings.SITE_URL + path})


def _drop_stale_pending(**lookup) -> None:
    """An unverified account past its link's lifetime no longer holds its username or address."""
    get_user_model().objects.filter(
        pending_signup__created_at__lt=_stale_before(), is_active=False, **lookup
    ).delete()


def signup_request(*, username: str, email: str, password: str) -> None:
    """Everything a sign-up POST does once the form is valid. Says nothing about what it found."""
    User = get_user_model()
    _drop_stale_pending(username__iexact=username)
    _drop_stale_pending(email__iexact=email)

    known = User.objects.filter(email__iexact=email).select_related("pending_signup").first()
    if known is not None:
        if hasattr(known, "pending_signup") and not known.is_active:
            _send_verification(known)  # signed up before and lost the mail: the same account's link again
        else:
            _send("signup_exists", known.email, {"user": known})
        return
    if User.objects.filter(username__iexact=username).exists():
        _send("signup_username_taken", email, {"username": username})
        return
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password, is_active=False
            )
            PendingSignup.objects.create(user=user)
    except IntegrityError:  # the same username signed up a moment ago
        _send("signup_username_taken", email, {"username": username})
        return
    _send_verification(user)


def pending_user(uidb64_user_id: str | None, token: str):
    """The unverified user a verification link is for, or None if the link is not (or no longer) valid."""
    if uidb64_user_id is None:
        return None
    user = (
        get_user_model()
        .objects.filter(pk=uidb64_user_id, is_active=False, pending_signup__isnull=False)
        .first()
    )
    if user is None or not verification_tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def verify_signup(user) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    PendingSignup.objects.filter(user=user).delete()
