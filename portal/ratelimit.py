"""Abuse limits: fixed-window counters in the shared cache (Redis), through django-ratelimit.

django-ratelimit's ``get_usage`` counts with the cache's atomic ``add``/``incr``, so every instance
behind the load balancer shares one count per window, and it hashes the key (an e-mail address,
a client id) before it reaches the cache. The rates are settings (``PORTAL_RATELIMIT_*``, README).

Each limited place answers in its own format: the OAuth endpoints an OAuth-style JSON error
(``oauth_limited``), the REST API its JSON error body (``ApiUserThrottle``, a DRF throttle), the
account pages a page (``page_response``); always 429 with ``Retry-After`` in seconds.

When Redis is unavailable the counts cannot be kept, and the limits are skipped (fail open,
``RATELIMIT_FAIL_OPEN``): refusing every token request and sign-up during a cache outage would turn
it into a full outage. ``portal.cache`` logs a warning and ``/healthz`` reports the cache's state.
"""

from __future__ import annotations

import base64
import binascii
import functools
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the one our own proxies recorded in X-Forwarded-For.

    Only the last PORTAL_TRUSTED_PROXIES entries were written by proxies we run; anything to their
    left is whatever the client sent, so it is never trusted.
    """
    if request is None:
        return ""
    proxies = settings.PORTAL_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def hit(request: HttpRequest, group: str, value: str, rate: str) -> int | None:
    """Count one request against ``(group, value)``; the seconds to wait when over ``rate``, else None."""
    if not value:
        return None
    usage = get_usage(
        request, group=f"portal.{group}", key=lambda _group, _request: value, rate=rate, increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def hit_all(request: HttpRequest, *rules: tuple[str, str, str]) -> int | None:
    """Count the request under every ``(group, value, rate)`` rule; the longest wait, if any is over."""
    waits = [wait for group, value, rate in rules if (wait := hit(request, group, value, rate))]
    return max(waits) if waits else None


def _retry_after(response: HttpResponse, wait: int) -> HttpResponse:
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


def page_response(request: HttpRequest, wait: int) -> HttpResponse:
    """The account pages' answer: a page saying how long to wait."""
    minutes = max(1, round(wait / 60))
    response = render(request, "429.html", {"wait_minutes": minutes}, status=429)
    return _retry_after(response, wait)


# -- OAuth endpoints ---------------------------------------------------------------------------


def oauth_client_id(request: HttpRequest) -> str:
    """The client a token/introspection/revocation request claims to be (authenticated or not).

    HTTP Basic (RFC 6749 2.3.1: form-encoded id), else the ``client_id`` form field, else the
    bearer credential a resource server introspects with. Counting the claim, not a verified
    client, is the point: guessing a client's secret is what the limit stops.
    """
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "malformed-basic"
        return "id:" + unquote(decoded.partition(":")[0])
    # request.POST is what the OAuth views read too (DOT's extract_body), so parsing it here is safe.
    if request.method == "POST" and request.POST.get("client_id"):
        return "id:" + request.POST["client_id"]
    if scheme.lower() == "bearer" and credentials:
        return "bearer:" + credentials.strip()  # hashed by django-ratelimit before it reaches the cache
    return ""


def oauth_limited(view, endpoint: str):
    """Wrap an OAuth endpoint's view: per claimed client and per address; 429 with an OAuth error."""

    @functools.wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST":
            # Resource servers introspect on every call they serve: introspection has higher rates.
            kind = "INTROSPECT" if endpoint == "introspect" else "OAUTH"
            wait = hit_all(
                request,
                (
                    f"oauth.{endpoint}.client",
                    oauth_client_id(request),
                    getattr(settings, f"PORTAL_RATELIMIT_{kind}_CLIENT"),
                ),
                (
                    f"oauth.{endpoint}.address",
                    client_address(request),
                    getattr(settings, f"PORTAL_RATELIMIT_{kind}_ADDRESS"),
                ),
            )
            if wait:
                # RFC 6749 5.2 has no code for this; the shape (error, error_description) is its own.
                response = JsonResponse(
                    {
                        "error": "too_many_requests",
                        "error_description": f"Too many requests: retry after {wait} seconds.",
                    },
                    status=429,
                )
                response["Pragma"] = "no-cache"
                return _retry_after(response, wait)
        return view(request, *args, **kwargs)

    return limited  # functools.wraps kept the view's csrf_exempt and login_required marks


# -- REST API ----------------------------------------------------------------------------------


class ApiUserThrottle(BaseThrottle):
    """The REST API's limit per signed-in user (all their API tokens and their browser session together).

    DRF checks throttles after authentication and permissions, so an anonymous request is a 401
    before it gets here; it is counted per address anyway, should a view allow anonymous access.
    """

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        value = (
            f"user:{user.pk}"
            if user is not None and user.is_authenticated
            else "address:" + client_address(request)
        )
        self._wait = hit(request, "api", value, settings.PORTAL_RATELIMIT_API_USER)
        return self._wait is None

    def wait(self) -> int | None:
        return self._wait
