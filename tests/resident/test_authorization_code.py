"""The authorization_code grant: consent page, PKCE per client, public clients, refresh tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from tests.resident.conftest import CALLBACK, authorize, pkce_pair, token_request

pytestmark = pytest.mark.django_db


def exchange(http, registered, code, verifier=None, secret=True):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier is not None:
        data["code_verifier"] = verifier
    if secret:
        return token_request(http, registered.ref.client_id, registered.secret.value, **data)
    return http.post("/oauth2/token", {**data, "client_id": registered.ref.client_id})


def test_consent_page_needs_sign_in(anonymous_client, make_client):
    _, registered = make_client()
    page = anonymous_client.get(
        "/oauth2/authorize", {"response_type": "code", "client_id": registered.ref.client_id}
    )
    assert page.status_code == 302
    assert page["Location"].startswith("/oauth2/sign-in?next=")  # the authorization path's own sign-in page


def test_consent_page_shows_the_client_and_scopes_and_has_no_inline_script(owner_client, make_client):
    _, registered = make_client(name="Weather app")
    _, challenge = pkce_pair()
    page = owner_client.get(
        "/oauth2/authorize",
        {
            "response_type": "code",
            "client_id": registered.ref.client_id,
            "redirect_uri": CALLBACK,
            "scope": "default",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Authorize Weather app?" in html
    assert "csrfmiddlewaretoken" in html
    assert "<script>" not in html and "style=" not in html and "onclick" not in html
    assert "Content-Security-Policy" in page.headers


def test_consent_form_is_csrf_protected(csrf_owner_client, make_client):
    _, registered = make_client()
    answer = csrf_owner_client.post(
        "/oauth2/authorize",
        {
            "client_id": registered.ref.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "allow": "1",
        },
    )
    assert answer.status_code == 403
    assert not Grant.objects.exists()


def test_code_flow_with_s256_gives_access_and_refresh_tokens(
    client, owner_client, owner, make_client, settings
):
    _, registered = make_client(pkce_mandatory=True)
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    assert query["state"] == ["xyz"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]  # RFC 9207 mix-up defence
    answer = exchange(client, registered, query["code"][0], verifier)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["refresh_token"]
    assert AccessToken.objects.get().user == owner
    hello = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert hello.status_code == 200


def test_wrong_verifier_is_invalid_grant(client, owner_client, make_client):
    _, registered = make_client(pkce_mandatory=True)
    _, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    answer = exchange(client, registered, query["code"][0], "not-the-verifier-" * 3)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_pkce_required_client_refuses_a_request_without_challenge(owner_client, make_client):
    _, registered = make_client(pkce_mandatory=True)
    query, _ = authorize(owner_client, registered.ref.client_id)
    assert query["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


@pytest.mark.parametrize("method", ["plain", None])  # a missing method means plain
def test_plain_pkce_is_refused_unless_the_client_allows_it(owner_client, make_client, method):
    _, registered = make_client(pkce_mandatory=True, pkce_support_plain=False)
    _, challenge = pkce_pair("plain")
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge, method=method)
    assert query["error"] == ["invalid_request"]
    assert "S256" in query["error_description"][0]
    assert not Grant.objects.exists()


def test_plain_pkce_works_where_the_client_allows_it(client, owner_client, make_client):
    _, registered = make_client(pkce_mandatory=True, pkce_support_plain=True)
    verifier, challenge = pkce_pair("plain")
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge, method="plain")
    answer = exchange(client, registered, query["code"][0], verifier)
    assert answer.status_code == 200, answer.content


def test_public_client_uses_pkce_and_no_secret(client, owner_client, make_client):
    _, registered = make_client(public_client=True)
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    answer = exchange(client, registered, query["code"][0], verifier, secret=False)
    assert answer.status_code == 200, answer.content
    assert AccessToken.objects.count() == 1


def test_public_client_must_use_pkce(owner_client, make_client):
    _, registered = make_client(public_client=True)
    query, _ = authorize(owner_client, registered.ref.client_id)
    assert query["error"] == ["invalid_request"]


def test_confidential_client_cannot_skip_its_secret_at_the_token_endpoint(client, owner_client, make_client):
    _, registered = make_client()
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    answer = exchange(client, registered, query["code"][0], verifier, secret=False)
    assert answer.status_code == 401
    assert not AccessToken.objects.exists()


def test_unregistered_redirect_uri_is_refused_without_redirecting(owner_client, make_client):
    _, registered = make_client()
    page = owner_client.get(
        "/oauth2/authorize",
        {
            "response_type": "code",
            "client_id": registered.ref.client_id,
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert page.status_code == 400
    assert b"Authorization failed" in page.content


def test_regexp_callback_matches_the_whole_uri(client, owner_client, make_client):
    _, registered = make_client(callback_url=r"regexp=https://client\.example\.com/(callback|return)")
    for redirect, allowed in [
        ("https://client.example.com/return", True),
        ("https://client.example.com/return/evil", False),
        ("https://client.example.com.evil.net/return", False),
    ]:
        page = owner_client.get(
            "/oauth2/authorize",
            {
                "response_type": "code",
                "client_id": registered.ref.client_id,
                "redirect_uri": redirect,
                "code_challenge": pkce_pair()[1],
                "code_challenge_method": "S256",
            },
        )
        assert (page.status_code == 200) is allowed, redirect


def test_code_grant_refused_for_a_client_without_it(owner_client, make_client):
    _, registered = make_client(grant_types=["client_credentials"], callback_url=CALLBACK)
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=pkce_pair()[1])
    assert query["error"] == ["unauthorized_client"]


def code_tokens(client, owner_client, registered):
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    return exchange(client, registered, query["code"][0], verifier).json()


def test_refresh_token_gives_a_new_pair_and_retires_the_old(client, owner_client, make_client):
    _, registered = make_client()
    first = code_tokens(client, owner_client, registered)
    answer = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    )
    assert answer.status_code == 200, answer.content
    second = answer.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code == 401
    )
    assert (
        client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {second['access_token']}").status_code == 200
    )


def test_no_refresh_token_for_a_client_without_the_refresh_grant(client, owner_client, make_client):
    _, registered = make_client(grant_types=["authorization_code"])
    body = code_tokens(client, owner_client, registered)
    assert "access_token" in body
    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


def test_refresh_token_lifetime_is_per_client(client, owner_client, make_client):
    _, registered = make_client(refresh_token_expiry_time=600, user_access_token_expiry_time=60)
    body = code_tokens(client, owner_client, registered)
    assert body["expires_in"] == 60
    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        answer = token_request(
            client,
            registered.ref.client_id,
            registered.secret.value,
            grant_type="refresh_token",
            refresh_token=body["refresh_token"],
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"


def test_refresh_token_of_another_client_is_refused(client, owner_client, make_client):
    _, registered = make_client()
    _, other = make_client(name="Other app")
    body = code_tokens(client, owner_client, registered)
    answer = token_request(
        client,
        other.ref.client_id,
        other.secret.value,
        grant_type="refresh_token",
        refresh_token=body["refresh_token"],
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_openid_scope_gives_an_id_token_and_userinfo(client, owner_client, owner, make_client):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    _, registered = make_client()
    verifier, challenge = pkce_pair()
    query, _ = authorize(
        owner_client,
        registered.ref.client_id,
        challenge=challenge,
        scope="openid default",
        extra={"nonce": "n-0S6"},
    )
    body = exchange(client, registered, query["code"][0], verifier).json()
    keys = KeySet.import_key_set(Client().get("/oauth2/jwks").json())
    id_token = jwt.decode(body["id_token"], keys)
    assert id_token.claims["sub"] == str(owner.pk)
    assert id_token.claims["aud"] == registered.ref.client_id
    assert id_token.claims["nonce"] == "n-0S6"
    info = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert info.status_code == 200
    assert info.json() == {"sub": str(owner.pk), "preferred_username": owner.username}


def test_refresh_tokens_are_stored_only_as_a_checksum(client, owner_client, make_client):
    _, registered = make_client()
    body = code_tokens(client, owner_client, registered)
    assert body["refresh_token"]
    assert RefreshToken.objects.get().token == ""


def test_implicit_grant_only_where_the_key_manager_offers_it(owner_client, make_client, resident):
    from urllib.parse import parse_qs, urlparse

    resident.available_grant_types = [*resident.available_grant_types, "implicit"]
    resident.save()
    _, registered = make_client(grant_types=["implicit"])
    params = {
        "response_type": "token",
        "client_id": registered.ref.client_id,
        "redirect_uri": CALLBACK,
        "scope": "default",
        "state": "s",
    }
    page = owner_client.get("/oauth2/authorize", params)
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    answer = owner_client.post("/oauth2/authorize", {**data, "allow": "Authorize"})
    fragment = parse_qs(urlparse(answer["Location"]).fragment)
    assert fragment["access_token"]
    assert AccessToken.objects.count() == 1

    resident.available_grant_types = ["client_credentials", "refresh_token", "authorization_code"]
    resident.save()
    refused = owner_client.get("/oauth2/authorize", params)
    assert "unauthorized_client" in refused["Location"]
