"""Fixtures for the REST API's own clients: registering one, getting its token."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.conftest import PASSWORD

API = "/api/am/devportal/v3"
REGISTER = "/client-registration/v0.17/register"
ALL_SCOPES = "apim:subscribe apim:app_manage apim:sub_manage"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def register(client: Client, username: str, password: str = PASSWORD, **body):
    payload = {
        "callbackUrl": "www.google.lk",
        "clientName": "rest_api_devportal",
        "owner": username,
        "grantType": "client_credentials password refresh_token",
        "saasApp": True,
        **body,
    }
    return client.post(
        REGISTER, payload, content_type="application/json", HTTP_AUTHORIZATION=basic(username, password)
    )


def token(
    client: Client, client_id: str, client_secret: str, scope: str, grant_type="client_credentials", **extra
):
    return client.post(
        "/oauth2/token",
        {"grant_type": grant_type, **({"scope": scope} if scope else {}), **extra},
        HTTP_AUTHORIZATION=basic(client_id, client_secret),
    )


@pytest.fixture
def registered(owner):
    """The owner's registered API client: its registration answer."""
    response = register(Client(), owner.username)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def api_token(registered):
    """``api_token("apim:subscribe")``: an access token of the owner's API client with those scopes."""

    def make(scope: str = ALL_SCOPES) -> str:
        response = token(Client(), registered["clientId"], registered["clientSecret"], scope)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return make


@pytest.fixture
def bearer():
    def make(access_token: str) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {access_token}", enforce_csrf_checks=True)

    return make
