"""Page middleware that stays out of the way of the OAuth API (``PORTAL_API_PATHS``).

Sessions, CSRF, authentication from the session cookie, messages and ``CommonMiddleware``'s URL
rules are for pages. The token, introspection, revocation, JWKS, userinfo, metadata and
``/sample/*`` endpoints authenticate every request with a client secret or a bearer token and set
no cookies, so on those paths each of these wrappers passes the request straight on (a profile of
a token request showed their work for nothing). Security headers, CSP and the rate limits still
apply: ``SecurityMiddleware``, ``XFrameOptionsMiddleware`` and ``CSPMiddleware`` are not wrapped,
and the limits wrap the views themselves (``portal/ratelimit.py``).

Every other path, ``/oauth2/authorize`` and ``/oauth2/sign-in`` included (they use the browser's
session), gets the wrapped middleware exactly as before, its ``process_view`` (the CSRF check),
``process_exception`` and ``process_template_response`` hooks included.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string

HOOKS = ("process_view", "process_exception", "process_template_response")


def is_api_path(path: str) -> bool:
    """Whether ``path`` is one of the OAuth API's (exact) paths or under one of its prefixes."""
    if path in settings.PORTAL_API_PATHS:
        return True
    return path.startswith(settings.PORTAL_API_PATH_PREFIXES)


class _PagesOnly:
    """The middleware ``wrapped`` (an import path) on every path but the API's."""

    wrapped: str

    def __init__(self, get_response):
        self.get_response = get_response
        self.inner = import_string(self.wrapped)(get_response)
        # Django collects these hooks from the instances in MIDDLEWARE: expose the inner ones.
        for hook in HOOKS:
            inner_hook = getattr(self.inner, hook, None)
            if inner_hook is not None:
                setattr(self, hook, self._guarded(hook, inner_hook))

    @staticmethod
    def _guarded(hook: str, inner_hook):
        def guarded(request, *args):
            if is_api_path(request.path_info):
                # process_template_response must hand the response on; the others mean "go on".
                return args[0] if hook == "process_template_response" else None
            return inner_hook(request, *args)

        return guarded

    def __call__(self, request):
        if is_api_path(request.path_info):
            return self.get_response(request)
        return self.inner(request)


class SessionMiddleware(_PagesOnly):
    wrapped = "django.contrib.sessions.middleware.SessionMiddleware"


class CommonMiddleware(_PagesOnly):
    wrapped = "django.middleware.common.CommonMiddleware"


class CsrfViewMiddleware(_PagesOnly):
    wrapped = "django.middleware.csrf.CsrfViewMiddleware"


class AuthenticationMiddleware(_PagesOnly):
    wrapped = "django.contrib.auth.middleware.AuthenticationMiddleware"

    def __call__(self, request):
        if is_api_path(request.path_info):
            # No session is read on the API: nobody is signed in there (tokens say who calls).
            request.user = AnonymousUser()
            return self.get_response(request)
        return self.inner(request)


class MessageMiddleware(_PagesOnly):
    wrapped = "django.contrib.messages.middleware.MessageMiddleware"
