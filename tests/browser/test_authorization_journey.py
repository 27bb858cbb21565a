"""The built-in authorization server in Chromium, with the client's callback on another origin.

Chromium applies CSP ``form-action`` to every redirect that follows a form submission, so the
sign-in and consent forms must be allowed to end at the callback's origin (and the ``page``
fixture fails the test on any CSP violation). The callback is a small HTTP listener on another
port started by each test; what it receives is what a real client would get.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from django.conf import settings
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import expect

from keymanagers.base import ClientConfig, adapter_for
from keymanagers.models import KeyManager
from tests.browser.conftest import BROWSER_DB, _watch_for_errors, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, BROWSER_DB]


@pytest.fixture(autouse=True)
def migration_rows():
    """Transactional tests flush every table, taking the data migrations' rows (the Resident key
    manager, the default scope) with them: run those migrations' functions again first."""
    from django.apps import apps

    for module, function in [
        ("keymanagers.migrations.0002_resident_key_manager", "create_resident"),
        ("keys.migrations.0002_default_scope", "create_default_scope"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        body = b"<!doctype html><title>Client app</title><p>back at the client</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def callback_server():
    """A client's callback on 127.0.0.1 at another port: another origin than the live server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def code_client(owner, callback_server):
    resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
    return adapter_for(resident).register_client(
        ClientConfig(
            name=f"{owner.username}_Pizza Tracker_PRODUCTION",
            application_name="Pizza Tracker",
            grant_types=["authorization_code", "refresh_token"],
            callback_url=callback_server.url,
            pkce_mandatory=True,
            owner=owner.username,
        )
    )


def _pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(live_url, client, callback_server, challenge, **extra):
    params = {
        "response_type": "code",
        "client_id": client.ref.client_id,
        "redirect_uri": callback_server.url,
        "scope": "openid default",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return live_url("/oauth2/authorize?" + urlencode(params)), params["state"]


def _received(page, callback_server) -> dict[str, str]:
    page.wait_for_url(callback_server.url + "?*")
    query = parse_qs(urlparse(page.url).query)
    assert callback_server.hits, "the callback listener received nothing"
    return {name: values[0] for name, values in query.items()}


def _sign_in(page, user):
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _exchange(live_url, client, code, verifier, redirect_uri):
    answer = httpx.post(
        live_url("/oauth2/token"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client.ref.client_id, client.secret.value),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _first_consent(page, live_url, owner, code_client, callback_server) -> dict[str, str]:
    verifier, challenge = _pkce()
    url, state = _authorize_url(live_url, code_client, callback_server, challenge)
    page.goto(url)
    expect(page.locator(".lead")).to_contain_text("Pizza Tracker")
    screenshot(page, "oauth-sign-in")
    _sign_in(page, owner)
    expect(page.locator("h1")).to_have_text("Authorize Pizza Tracker?")
    screenshot(page, "oauth-consent")
    page.click("button[name=allow]")
    received = _received(page, callback_server)
    assert received["state"] == state
    assert received["iss"] == settings.RESIDENT_ISSUER
    return {**received, "verifier": verifier}


def test_first_time_user_signs_in_authorizes_and_the_code_works(
    page, live_url, owner, code_client, callback_server
):
    received = _first_consent(page, live_url, owner, code_client, callback_server)
    tokens = _exchange(live_url, code_client, received["code"], received["verifier"], callback_server.url)

    keys = KeySet.import_key_set(httpx.get(live_url("/oauth2/jwks")).json())
    access = jwt.decode(tokens["access_token"], keys)
    assert access.header["typ"] == "at+jwt"
    assert access.claims["iss"] == settings.RESIDENT_ISSUER
    assert access.claims["client_id"] == code_client.ref.client_id
    assert access.claims["sub"] == str(owner.pk)
    id_token = jwt.decode(tokens["id_token"], keys)
    assert id_token.claims["nonce"] == "n-1"
    hello = httpx.get(
        live_url("/sample/hello"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert hello.status_code == 200


def test_cancel_sends_access_denied_with_state_and_iss(page, live_url, owner, code_client, callback_server):
    _, challenge = _pkce()
    url, state = _authorize_url(live_url, code_client, callback_server, challenge)
    page.goto(url)
    _sign_in(page, owner)
    page.click("button:not([name=allow]) >> text=Cancel")
    received = _received(page, callback_server)
    assert received["error"] == "access_denied"
    assert received["state"] == state
    assert received["iss"] == settings.RESIDENT_ISSUER


def test_returning_user_with_remembered_consent_signs_in_and_lands_at_the_callback(
    page, browser, live_url, owner, code_client, callback_server
):
    # Consent is remembered while the user has a live token from the client.
    first = _first_consent(page, live_url, owner, code_client, callback_server)
    _exchange(live_url, code_client, first["code"], first["verifier"], callback_server.url)

    # Another browser session: signed out, consent remembered by the server.
    context = browser.new_context(base_url=live_url("/"))
    again = context.new_page()
    errors = _watch_for_errors(again)
    try:
        verifier, challenge = _pkce()
        url, state = _authorize_url(live_url, code_client, callback_server, challenge)
        again.goto(url)
        _sign_in(again, owner)  # the sign-in form's redirect chain ends at the callback
        received = _received(again, callback_server)
        assert received["state"] == state and received["iss"] == settings.RESIDENT_ISSUER
        _exchange(live_url, code_client, received["code"], verifier, callback_server.url)
    finally:
        context.close()
    assert errors == []


def test_prompt_none_signed_in_and_consented_gives_a_code(
    page, live_url, owner, code_client, callback_server
):
    # Consent is remembered while the user has a live token from the client.
    first = _first_consent(page, live_url, owner, code_client, callback_server)
    _exchange(live_url, code_client, first["code"], first["verifier"], callback_server.url)
    verifier, challenge = _pkce()
    url, state = _authorize_url(live_url, code_client, callback_server, challenge, prompt="none")
    page.goto(url)
    received = _received(page, callback_server)
    assert "code" in received, received
    assert received["state"] == state and received["iss"] == settings.RESIDENT_ISSUER
    _exchange(live_url, code_client, received["code"], verifier, callback_server.url)


def test_prompt_none_not_signed_in_is_login_required(page, live_url, code_client, callback_server):
    _, challenge = _pkce()
    url, state = _authorize_url(live_url, code_client, callback_server, challenge, prompt="none")
    page.goto(url)
    received = _received(page, callback_server)
    assert received["error"] == "login_required"
    assert received["state"] == state and received["iss"] == settings.RESIDENT_ISSUER


def test_prompt_none_signed_in_without_consent_is_consent_required(
    page, signed_in_page, live_url, owner, code_client, callback_server
):
    signed_in_page(owner)
    _, challenge = _pkce()
    url, state = _authorize_url(live_url, code_client, callback_server, challenge, prompt="none")
    page.goto(url)
    received = _received(page, callback_server)
    assert received["error"] == "consent_required"
    assert received["state"] == state and received["iss"] == settings.RESIDENT_ISSUER


def test_implicit_where_an_admin_allows_it_reaches_the_callback_with_a_token(
    page, live_url, owner, callback_server
):
    resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
    resident.available_grant_types = [*resident.available_grant_types, "implicit"]
    resident.save()
    implicit = adapter_for(resident).register_client(
        ClientConfig(
            name=f"{owner.username}_Legacy SPA_PRODUCTION",
            application_name="Legacy SPA",
            grant_types=["implicit"],
            callback_url=callback_server.url,
            owner=owner.username,
        )
    )
    params = {
        "response_type": "token",
        "client_id": implicit.ref.client_id,
        "redirect_uri": callback_server.url,
        "scope": "default",
        "state": "st-implicit",
    }
    page.goto(live_url("/oauth2/authorize?" + urlencode(params)))
    _sign_in(page, owner)
    expect(page.locator("h1")).to_have_text("Authorize Legacy SPA?")
    page.click("button[name=allow]")
    page.wait_for_url(callback_server.url + "#*")
    fragment = {name: values[0] for name, values in parse_qs(urlparse(page.url).fragment).items()}
    assert fragment["state"] == "st-implicit"
    assert fragment["iss"] == settings.RESIDENT_ISSUER
    hello = httpx.get(
        live_url("/sample/hello"), headers={"Authorization": f"Bearer {fragment['access_token']}"}
    )
    assert hello.status_code == 200
