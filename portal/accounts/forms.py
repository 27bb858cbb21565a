"""Account forms: sign-up with a required, unique email, and sign-in with a failure limit."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.cache import cache

# Failed sign-ins allowed per username within the window. Counted in the cache (Redis in
# production) so every instance behind the load balancer shares the count. Not per client address:
# behind a load balancer REMOTE_ADDR is the balancer's, and one count would lock everyone out.
SIGNIN_MAX_FAILURES = 10
SIGNIN_WINDOW_SECONDS = 15 * 60
TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Wait 15 minutes and try again."


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True,
        max_length=254,
        help_text="Used to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        # One account per address: a password reset must reach exactly one person.
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


def _failure_key(username: str) -> str:
    # Hash the username so whatever a visitor types never becomes a raw cache key.
    return "signin-failures:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


class SigninFailureLimitMixin:
    """Refuses further sign-in attempts for a username after too many failures (any auth form)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        key = _failure_key(username)
        if (cache.get(key) or 0) >= SIGNIN_MAX_FAILURES:
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="too_many_attempts")
        try:
            return super().clean()
        except forms.ValidationError:
            # add() starts the window; incr() is atomic on Redis and on the local-memory cache.
            if not cache.add(key, 1, SIGNIN_WINDOW_SECONDS):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add() and incr()
                    cache.add(key, 1, SIGNIN_WINDOW_SECONDS)
            raise


class RateLimitedAuthenticationForm(SigninFailureLimitMixin, AuthenticationForm):
    """The portal's sign-in form."""


class RateLimitedAdminAuthenticationForm(SigninFailureLimitMixin, AdminAuthenticationForm):
    """The Django admin's sign-in form with the same limit: ``admin.site.login_form = ...``.

    The count is shared with the portal's form, so switching forms does not reset it.
    """
