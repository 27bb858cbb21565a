"""How /oauth2/token and /oauth2/introspect read the form: Django parses it once and oauthlib gets
the pairs (keymanagers/resident/server.py ``ResidentOAuthLibCore``); RFC 8707's repeatable
``resource`` keeps every value."""

from __future__ import annotations

import pytest
from oauth2_provider.models import AccessToken

from tests.resident.conftest import basic, token_request

pytestmark = pytest.mark.django_db

FORECAST = "https://forecast.example.com/"
RADAR = "https://radar.example.com/"


def _introspect(client, registered, token):
    return client.post(
        "/oauth2/introspect",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )


def test_repeated_resource_parameters_all_reach_the_token(client, make_client):
    oauth_client, registered = make_client(token_type="OAUTH")
    answer = token_request(
        client, registered.ref.client_id, registered.secret.value, resource=[FORECAST, RADAR]
    )
    assert answer.status_code == 200, answer.content
    row = AccessToken.objects.get(application=oauth_client)
    assert row.resource == [FORECAST, RADAR]
    claims = _introspect(client, registered, answer.json()["access_token"]).json()
    assert claims["active"] is True
    assert claims["aud"] == [FORECAST, RADAR]


def test_one_resource_is_the_audience_of_a_jwt(client, make_client):
    _, registered = make_client(token_type="JWT")
    answer = token_request(client, registered.ref.client_id, registered.secret.value, resource=FORECAST)
    assert answer.status_code == 200, answer.content
    claims = _introspect(client, registered, answer.json()["access_token"]).json()
    assert claims["aud"] == FORECAST


def test_scope_and_credentials_in_the_body_are_read(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    answer = client.post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.ref.client_id,
            "client_secret": registered.secret.value,
            "scope": "default",
            "empty": "",
        },
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"] == "default"


def test_a_repeated_scope_is_still_refused(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    answer = token_request(
        client, registered.ref.client_id, registered.secret.value, scope=["default", "default"]
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "The parameter scope was sent more than once.",
    }
    assert not AccessToken.objects.exists()
