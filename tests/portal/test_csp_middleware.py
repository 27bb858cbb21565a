"""portal.middleware.CSPMiddleware writes the header django-csp would, on every kind of response.

The portal's middleware reuses one header built per process where django-csp would build the
same string again (issue 14); wherever a response or request could change the policy it must
hand over to django-csp. Each case runs both middleware on the same request and response.
"""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.test import RequestFactory, override_settings

from portal.middleware import CSPMiddleware


def _both(make_response, *, use_nonce=False, path="/sample/hello"):
    """The headers each middleware writes for the same request and response."""
    headers = []
    for middleware_class in (DjangoCSPMiddleware, CSPMiddleware):
        middleware = middleware_class(lambda request: None)
        request = RequestFactory().get(path)
        middleware.process_request(request)
        nonce = str(request.csp_nonce) if use_nonce else None
        response = middleware.process_response(request, make_response())
        headers.append((response.get(HEADER), response.get(HEADER_REPORT_ONLY), nonce))
    return headers


def _updated():
    response = HttpResponse("page")
    response._csp_update = {"form-action": ["https://rp.example"]}
    return response


def _exempt():
    response = HttpResponse("page")
    response._csp_exempt = True
    return response


def _already_set():
    response = HttpResponse("page")
    response[HEADER] = "default-src 'none'"
    return response


@pytest.mark.parametrize(
    "make_response",
    [lambda: JsonResponse({"ok": True}), lambda: HttpResponse("page"), _updated, _exempt, _already_set],
    ids=["api-json", "page", "view-updated-policy", "view-exempt", "header-already-set"],
)
def test_the_header_is_django_csps_for_every_kind_of_response(make_response):
    stock, ours = _both(make_response)

    assert ours == stock
    assert ours[0] is None or "default-src" in ours[0]


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}})
def test_a_response_that_used_a_nonce_gets_that_nonce_in_its_header():
    stock, ours = _both(lambda: HttpResponse("page"), use_nonce=True)

    assert ours[2] and f"'nonce-{ours[2]}'" in ours[0]
    assert ours[0].replace(ours[2], "N") == stock[0].replace(stock[2], "N")


def test_a_nonce_asked_for_after_the_header_was_written_is_refused_as_django_csp_does():
    middleware = CSPMiddleware(lambda request: None)
    request = RequestFactory().get("/sample/hello")
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse("page"))

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_a_changed_setting_changes_the_header():
    before = _both(lambda: HttpResponse("page"))[1][0]
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        stock, ours = _both(lambda: HttpResponse("page"))
    after = _both(lambda: HttpResponse("page"))[1][0]

    assert ours == stock and ours[0] == "default-src 'none'"
    assert before == after != ours[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"CONTENT_SECURITY_POLICY_REPORT_ONLY": {"DIRECTIVES": {"default-src": ["'self'"]}}},
        {
            "CONTENT_SECURITY_POLICY": {
                "EXCLUDE_URL_PREFIXES": ["/sample/"],
                "DIRECTIVES": {"default-src": ["'self'"]},
            }
        },
    ],
    ids=["report-only-policy", "excluded-prefix"],
)
def test_settings_that_decide_per_request_take_django_csps_path(extra):
    with override_settings(**extra):
        stock, ours = _both(lambda: HttpResponse("page"))

    assert ours == stock


@override_settings(DEBUG=True)
def test_django_debug_pages_are_left_alone_as_django_csp_does():
    stock, ours = _both(lambda: HttpResponseNotFound("debug"))

    assert ours == stock == (None, None, None)


def test_the_portal_runs_this_middleware_in_place_of_django_csps(settings):
    assert "portal.middleware.CSPMiddleware" in settings.MIDDLEWARE
    assert "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE
