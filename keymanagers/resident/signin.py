"""The authorization path's browser pages: when the user signed in, and where their forms may lead.

Chromium applies CSP ``form-action`` to every redirect that follows a form submission. The portal's
policy is ``form-action 'self'``, so a sign-in or consent form whose answer ends in a redirect to
the client's callback (another origin) would be blocked. The pages of the authorization path
therefore carry a response-specific policy that adds exactly one origin: the callback of the
authorization request they serve, and only after that callback was checked against the client's
registered callbacks. Every other page keeps ``form-action 'self'``.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.urls import reverse

from keymanagers import hooks
from keymanagers.callbacks import REGEXP_PREFIX
from keymanagers.models import OAuthClient
from portal.accounts.forms import RateLimitedAuthenticationForm

# Where ``user_logged_in`` records the moment of sign-in (OpenID Connect ``max_age``).
AUTH_TIME_SESSION_KEY = "resident_auth_time"


def record_auth_time(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: remember when this session signed in (seconds since the epoch)."""
    if request is not None and hasattr(request, "session"):
        request.session[AUTH_TIME_SESSION_KEY] = int(time.time())


def auth_time(request) -> int | None:
    """When the session's user signed in, or None when unknown (a session older than this code)."""
    value = request.session.get(AUTH_TIME_SESSION_KEY)
    return value if isinstance(value, int) else None


def origin_of(uri: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URI: a CSP source for exactly that origin."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def allow_form_redirect_to(response: HttpResponse, redirect_uri: str) -> HttpResponse:
    """Let this page's forms end in a redirect to ``redirect_uri``'s origin, and nowhere else new.

    Only call it with a callback already checked against the client's registered ones.
    """
    origin = origin_of(redirect_uri)
    if origin:
        response._csp_update = {"form-action": [origin]}
    return response


def authorization_request_in(next_url: str) -> tuple[OAuthClient, str] | None:
    """(client, checked callback) of the authorization request a sign-in will continue to, if any."""
    from keymanagers.resident.validator import _plain_redirect_allowed, redirect_uri_matches

    parts = urlsplit(next_url or "")
    if parts.scheme or parts.netloc or parts.path != reverse("resident-authorize"):
        return None
    query = parse_qs(parts.query)
    client_ids = query.get("client_id", [])
    if len(client_ids) != 1:
        return None
    client = OAuthClient.objects.filter(client_id=client_ids[0]).first()
    if client is None:
        return None
    registered = client.redirect_uris.split()
    uris = query.get("redirect_uri", [])
    if not uris and len(registered) == 1 and not registered[0].startswith(REGEXP_PREFIX):
        uris = registered
    if len(uris) != 1:
        return None
    allowed = redirect_uri_matches(
        registered, uris[0], lambda uri, plain: _plain_redirect_allowed(client, uri, plain)
    )
    return (client, uris[0]) if allowed else None


def consent_name(client: OAuthClient) -> str:
    """The name end users know the client by: its application's as it is now (renames included),
    else the one stored when the client was last written, else the client's own."""
    return (
        hooks.client_application(client.client_id)
        or client.application_name
        or client.name
        or client.client_id
    )


def developer_name(client: OAuthClient) -> str:
    user = client.user
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class AuthorizationSignInView(LoginView):
    """``/oauth2/sign-in``: the portal's sign-in form for a user on their way to a client.

    The same form and failure limit as ``/accounts/login/``; it posts to itself, names the
    application the user is signing in for, and its policy lets the sign-in's redirect chain reach
    that application's callback (when consent was given before, the chain ends there). It always
    asks, even a signed-in user: the authorization view sends users here for ``prompt=login`` and
    ``max_age``.
    """

    template_name = "oauth2_provider/sign_in.html"
    redirect_authenticated_user = False

    form_class = RateLimitedAuthenticationForm

    def _authorization_request(self):
        if not hasattr(self, "_target"):
            self._target = authorization_request_in(self.get_redirect_url())
        return self._target

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self._authorization_request()
        if target is not None:
            context["client_name"] = consent_name(target[0])
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        target = self._authorization_request()
        if target is not None:
            allow_form_redirect_to(response, target[1])
        return response
