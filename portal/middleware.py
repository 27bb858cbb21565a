"""Page middleware that stays out of the way of the OAuth API (``PORTAL_API_PATHS``).

Authentication from the session cookie and messages are for pages. The token, introspection, revocation, JWKS, userinfo, metadata and
``/sample/*`` endpoints authenticate every request with a client secret or a bearer token and set
no cookies, so on those paths each of these wrappers passes the request straight on (a profile of
a token request showed their work for nothing). Security headers, CSP and the rate limits still
apply: ``SecurityMiddleware``, ``XFrameOptionsMiddleware`` and ``CSPMiddleware`` are not wrapped,
and the limits wrap the views themselves (``portal/ratelimit.py``).

Every other path, ``/oauth2/authorize`` and ``/oauth2/sign-in`` included (they use the browser's
session), gets the middleware exactly as before.

``CommonMiddleware`` stays as it is: it sets ``Content-Length``, which keeps HTTP/1.0 clients'
connections alive. ``SessionMiddleware`` and ``CsrfViewMiddleware`` stay Django's own, unwrapped: ``check --deploy``
looks for them by their exact names (security.W003, W012), and on the API they cost little: the
session is a lazy object nobody opens (no query, no cookie, no ``Vary``), and the CSRF check is a
``process_view`` hook that returns at once for the API's ``csrf_exempt`` views.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware


def is_api_path(path: str) -> bool:
    """Whether ``path`` is one of the OAuth API's (exact) paths or under one of its prefixes."""
    if path in settings.PORTAL_API_PATHS:
        return True
    return path.startswith(settings.PORTAL_API_PATH_PREFIXES)


class _PagesOnly:
    """Mixed into one of Django's middleware classes: the class as it is, except on the API's paths.

    Subclasses, so that Django's checks (the admin's "AuthenticationMiddleware must be in
    MIDDLEWARE", …) still recognise them.
    """

    def __call__(self, request):
        if is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class AuthenticationMiddleware(_PagesOnly, auth_middleware.AuthenticationMiddleware):
    def __call__(self, request):
        if is_api_path(request.path_info):
            # No session is read on the API: nobody is signed in there (tokens say who calls).
            request.user = AnonymousUser()
        return super().__call__(request)


class MessageMiddleware(_PagesOnly, messages_middleware.MessageMiddleware):
    pass
