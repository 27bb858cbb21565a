"""Fixtures for the resident authorization server: its key manager, clients made through the adapter."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import pytest

from keymanagers.base import ClientConfig, adapter_for
from keymanagers.models import KeyManager, OAuthClient
from keymanagers.resident import signing
from tests.conftest import reseed_migration_data

CALLBACK = "https://client.example.com/callback"


@pytest.fixture(autouse=True)
def fresh_signing_caches():
    # Keys live in the database, which every test rolls back; the process caches must follow.
    signing.reset_caches()
    yield
    signing.reset_caches()


@pytest.fixture
def resident(db):
    # A transactional test earlier in this worker may have flushed the migrations' rows.
    reseed_migration_data()
    return KeyManager.objects.get(type=KeyManager.Type.RESIDENT)


@pytest.fixture
def adapter(resident):
    return adapter_for(resident)


@pytest.fixture
def make_client(adapter, owner):
    """Register a client through the adapter; returns (OAuthClient row, RegisteredClient)."""

    def make(**overrides):
        config = {
            "name": "Weather app",
            "grant_types": ["client_credentials", "refresh_token", "authorization_code"],
            "callback_url": CALLBACK,
            "owner": owner.username,
        }
        config.update(overrides)
        registered = adapter.register_client(ClientConfig(**config))
        return OAuthClient.objects.get(client_id=registered.ref.client_id), registered

    return make


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_request(http, client_id, secret, **data):
    """POST to /oauth2/token with HTTP Basic client authentication."""
    data.setdefault("grant_type", "client_credentials")
    return http.post("/oauth2/token", data, HTTP_AUTHORIZATION=basic(client_id, secret))


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(browser, client_id, *, challenge=None, method="S256", scope="default", extra=None):
    """Walk the consent page as the signed-in ``browser``; returns the redirect's query parameters."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "xyz",
    }
    if challenge is not None:
        params["code_challenge"] = challenge
        if method is not None:
            params["code_challenge_method"] = method
    params.update(extra or {})
    page = browser.get("/oauth2/authorize", params)
    if page.status_code == 302:
        return parse_qs(urlparse(page["Location"]).query), page
    assert page.status_code == 200, page.content
    form = page.context["form"]
    data = {name: field.value() or "" for name, field in ((n, form[n]) for n in form.fields)}
    data["allow"] = "Authorize"
    answer = browser.post("/oauth2/authorize", data)
    assert answer.status_code == 302, answer.content
    return parse_qs(urlparse(answer["Location"]).query), answer
