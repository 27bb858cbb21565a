"""Account forms: sign-up with a required, unique email, and sign-in with a failure limit."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.cache import cache

from portal.ratelimit import client_address

# Failed sign-ins are counted in the cache (Redis in production, so every instance behind the load
# balancer shares the counts), twice: per username and client address, which stops guessing from
# one place without letting a stranger lock anyone else out; and per username alone, with a far
# higher limit, as a backstop against guessing spread over many addresses.
SIGNIN_MAX_FAILURES = 10
SIGNIN_MAX_FAILURES_ANY_ADDRESS = 100
# Failures from one address across all usernames: password spraying (one guess for each of many
# accounts) never reaches a per-username count.
SIGNIN_MAX_FAILURES_PER_ADDRESS = 30
SIGNIN_WINDOW_SECONDS = 15 * 60
TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Wait 15 minutes and try again."


class NoLabelSuffixMixin:
    """Labels without a trailing colon: the account pages put each label above its input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignupForm(NoLabelSuffixMixin, UserCreationForm):
    email = forms.EmailField(
        required=True,
        max_length=254,
        help_text="Used to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, verify_email: bool = False, **kwargs):
        # With e-mail verification the page must not tell whether a username or address is taken:
        # the form leaves both to portal.accounts.services.signup_request, which tells the mailbox.
        self.verify_email = verify_email
        super().__init__(*args, **kwargs)

    def clean_username(self):
        if self.verify_email:
            return self.cleaned_data.get("username")
        return super().clean_username()

    def validate_unique(self):
        if not self.verify_email:
            super().validate_unique()

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        # One account per address: a password reset must reach exactly one person.
        if not self.verify_email and get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


def _failure_key(*parts: str) -> str:
    # Hash what a visitor typed so it never becomes a raw cache key.
    digest = hashlib.sha256("\x00".join(p.strip().lower() for p in parts).encode()).hexdigest()[:32]
    return f"signin-failures:{len(parts)}:{digest}"


def _count_failure(key: str) -> None:
    # add() starts the window; incr() is atomic on Redis and on the local-memory cache.
    if not cache.add(key, 1, SIGNIN_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, SIGNIN_WINDOW_SECONDS)


class SigninFailureLimitMixin:
    """Refuses further sign-in attempts after too many failures (any auth form with a request)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(getattr(self, "request", None))
        here = _failure_key(username, address)
        anywhere = _failure_key(username)
        from_address = "signin-failures:address:" + _failure_key(address).rpartition(":")[2]
        # With Redis down the cache answers nothing and counts nothing (portal.cache logs it): the
        # limit is skipped rather than sign-in refused; SECURITY.md says why.
        counts = cache.get_many([here, anywhere, from_address])
        if (
            counts.get(here, 0) >= SIGNIN_MAX_FAILURES
            or counts.get(anywhere, 0) >= SIGNIN_MAX_FAILURES_ANY_ADDRESS
            or counts.get(from_address, 0) >= SIGNIN_MAX_FAILURES_PER_ADDRESS
        ):
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="too_many_attempts")
        try:
            return super().clean()
        except forms.ValidationError:
            _count_failure(here)
            _count_failure(anywhere)
            _count_failure(from_address)
            raise


class RateLimitedAuthenticationForm(NoLabelSuffixMixin, SigninFailureLimitMixin, AuthenticationForm):
    """The portal's sign-in form."""


class RateLimitedAdminAuthenticationForm(SigninFailureLimitMixin, AdminAuthenticationForm):
    """The Django admin's sign-in form with the same limit: ``admin.site.login_form = ...``.

    The count is shared with the portal's form, so switching forms does not reset it.
    """
