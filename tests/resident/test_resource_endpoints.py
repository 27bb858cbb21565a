"""Metadata documents, userinfo, /sample/hello and the reusable DRF authentication class."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, resolve, reverse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from keymanagers.resident.authentication import ResidentBearerAuthentication
from tests.resident.conftest import token_request

pytestmark = pytest.mark.django_db


def issue(http, registered, **data) -> str:
    answer = token_request(http, registered.ref.client_id, registered.secret.value, **data)
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2",
        "/.well-known/openid-configuration",
        "/oauth2/.well-known/openid-configuration",
    ],
)
def test_metadata_documents_describe_the_server(anonymous_client, settings, resident, path):
    answer = anonymous_client.get(path)
    assert answer.status_code == 200
    body = answer.json()
    site = settings.SITE_URL
    assert body["issuer"] == settings.RESIDENT_ISSUER
    assert body["token_endpoint"] == site + "/oauth2/token"
    assert body["authorization_endpoint"] == site + "/oauth2/authorize"
    assert body["revocation_endpoint"] == site + "/oauth2/revoke"
    assert body["introspection_endpoint"] == site + "/oauth2/introspect"
    assert body["userinfo_endpoint"] == site + "/oauth2/userinfo"
    assert body["jwks_uri"] == site + "/oauth2/jwks"
    assert body["grant_types_supported"] == resident.available_grant_types
    assert "S256" in body["code_challenge_methods_supported"]
    assert "default" in body["scopes_supported"]
    assert body["response_types_supported"] == ["code"]  # implicit is not offered by default


def test_every_metadata_endpoint_resolves(anonymous_client, settings):
    body = anonymous_client.get("/.well-known/openid-configuration").json()
    for name in (
        "token_endpoint",
        "authorization_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        resolve(body[name].removeprefix(settings.SITE_URL))


def test_dots_management_urls_are_not_exposed(anonymous_client, admin_client_):
    assert admin_client_.get("/oauth2/applications/").status_code == 404
    assert anonymous_client.get("/o/applications/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("oauth2_provider:list")


def test_hello_answers_with_the_tokens_client_scopes_and_expiry(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {issue(client, registered)}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "Hello"
    assert body["clientId"] == registered.ref.client_id
    assert body["scopes"] == ["default"]
    assert body["tokenType"] == "OPAQUE"
    assert body["expiresAt"]


def test_hello_accepts_jwts(client, make_client):
    _, registered = make_client(token_type="JWT")
    answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {issue(client, registered)}")
    assert answer.status_code == 200
    assert answer.json()["tokenType"] == "JWT"


def test_hello_without_a_token_is_401_with_a_challenge(client):
    answer = client.get("/sample/hello")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith('Bearer realm="resident"')
    assert "error=" not in answer["WWW-Authenticate"]  # RFC 6750 3.1: no error code without credentials


def test_hello_with_a_bad_token_is_invalid_token(client):
    for value in ("not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a.b.c"):
        answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {value}")
        assert answer.status_code == 401
        assert 'error="invalid_token"' in answer["WWW-Authenticate"]
        assert answer.json()["error"] == "invalid_token"


def test_hello_refuses_a_token_without_the_required_scope(client, make_client):
    from keys.models import Scope

    Scope.objects.create(name="weather:read")
    _, registered = make_client()
    token = issue(client, registered, scope="weather:read")
    answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")  # demands "default"
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    assert 'scope="default"' in answer["WWW-Authenticate"]
    ok = client.get("/sample/hello", {"scope": "weather:read"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200


def test_hello_refuses_a_token_in_the_query_string(client, make_client):
    _, registered = make_client()
    answer = client.get("/sample/hello", {"access_token": issue(client, registered)})
    assert answer.status_code == 401


def test_userinfo_refuses_a_client_credentials_token(client, make_client):
    _, registered = make_client()
    answer = client.get(
        "/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {issue(client, registered, scope='openid')}"
    )
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]


def test_userinfo_needs_the_openid_scope(client, make_client):
    _, registered = make_client()
    answer = client.get("/oauth2/userinfo", HTTP_AUTHORIZATION=f"Bearer {issue(client, registered)}")
    assert answer.status_code == 403


def drf_request(authorization: str | None):
    factory = APIRequestFactory()
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    from rest_framework.request import Request

    return Request(factory.get("/anything", **headers))


def test_drf_authentication_accepts_resident_tokens(client, make_client):
    _, registered = make_client(token_type="JWT")
    user, auth = ResidentBearerAuthentication().authenticate(
        drf_request(f"Bearer {issue(client, registered)}")
    )
    assert user.is_anonymous  # a client_credentials token acts for no user
    assert auth.client_id == registered.ref.client_id
    assert auth.scopes == ["default"]


def test_drf_authentication_leaves_portal_tokens_and_other_schemes_alone():
    auth = ResidentBearerAuthentication()
    assert auth.authenticate(drf_request("Bearer dpt_abcdef")) is None
    assert auth.authenticate(drf_request("Basic dXNlcjpwYXNz")) is None
    assert auth.authenticate(drf_request(None)) is None
    assert auth.authenticate_header(drf_request(None)).startswith("Bearer")


def test_drf_authentication_fails_on_a_bad_resident_token(db):
    with pytest.raises(AuthenticationFailed):
        ResidentBearerAuthentication().authenticate(drf_request("Bearer not-a-real-token"))
