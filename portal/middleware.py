"""Page middleware that stays out of the way of the OAuth API (``PORTAL_API_PATHS``).

Authentication from the session cookie and messages are for pages. The token, introspection, revocation, JWKS, userinfo, metadata and
``/sample/*`` endpoints authenticate every request with a client secret or a bearer token and set
no cookies, so on those paths each of these wrappers passes the request straight on (a profile of
a token request showed their work for nothing). Security headers, CSP and the rate limits still
apply: ``SecurityMiddleware``, ``XFrameOptionsMiddleware`` and ``CSPMiddleware`` are not wrapped,
and the limits wrap the views themselves (``portal/ratelimit.py``).

``CSPMiddleware`` below is django-csp's, with the header it builds on every response built once.

Every other path, ``/oauth2/authorize`` and ``/oauth2/sign-in`` included (they use the browser's
session), gets the middleware exactly as before.

``CommonMiddleware`` stays as it is: it sets ``Content-Length``, which keeps HTTP/1.0 clients'
connections alive. ``SessionMiddleware`` and ``CsrfViewMiddleware`` stay Django's own, unwrapped: ``check --deploy``
looks for them by their exact names (security.W003, W012), and on the API they cost little: the
session is a lazy object nobody opens (no query, no cookie, no ``Vary``), and the CSRF check is a
``process_view`` hook that returns at once for the API's ``csrf_exempt`` views.
"""

from __future__ import annotations

from csp import constants as csp_constants
from csp import middleware as csp_middleware
from csp import utils as csp_utils
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


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the usual header built once per process.

    django-csp builds the policy string from the settings on every response (a dataclass copied
    by ``asdict``, every directive copied and joined): about 27 µs, ~5% of a bearer-checked API
    request (issue 14). Most responses get exactly the settings' policy: no nonce was used and no
    view changed the policy (``csp_update``, ``csp_replace``, ``csp_exempt``…, which set ``_csp_*``
    attributes on the response). Those get the header django-csp's own ``build_policy`` made once
    for the settings object in force (``override_settings`` brings a new object, so a new header);
    every other response takes django-csp's path unchanged. ``tests/portal/test_csp_middleware.py``
    compares both on each kind of response.
    """

    _PER_RESPONSE = tuple(
        f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")
    )
    _built: tuple[object, str] = (None, "")

    def _settings_header(self) -> str | None:
        """The header for the settings' policy, or None when django-csp must decide per request
        (a report-only policy or excluded URL prefixes are configured)."""
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or not policy:
            return None
        if policy.get("EXCLUDE_URL_PREFIXES"):
            return None
        source, header = CSPMiddleware._built
        if source is not policy:
            header = csp_utils.build_policy()
            CSPMiddleware._built = (policy, header)
        return header

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in self._PER_RESPONSE
        ):
            return super().process_response(request, response)
        # django-csp leaves Django's own debug pages (404 and 500 with DEBUG on) without a header.
        if settings.DEBUG and response.status_code in (404, 500):
            return super().process_response(request, response)
        header = self._settings_header()
        if header is None:
            return super().process_response(request, response)
        if csp_constants.HEADER not in response:
            response[csp_constants.HEADER] = header
        # As django-csp: a nonce asked for after the header was written is an error, not a no-op.
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
