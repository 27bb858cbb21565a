"""Across areas: any valid secret authenticates at /oauth2/token; deleted or expired ones get 401
invalid_client; tokens issued with a deleted secret keep working until they expire."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from keys.secrets import services
from keys.services import keys_generate
from portal.models import TokenType


def token_response(key, secret: str, client: Client | None = None):
    basic = base64.b64encode(f"{key.consumer_key}:{secret}".encode()).decode()
    return (client or Client()).post(
        "/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )


def access_token(key, secret: str) -> str:
    response = token_response(key, secret)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def hello(token: str):
    return Client().get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_every_valid_secret_authenticates(key_and_secret, owner):
    key, first = key_and_secret
    second = services.secret_create(key=key, description="second", actor=owner).value

    for value in (first, second):
        token = access_token(key, value)
        assert hello(token).json()["clientId"] == key.consumer_key


def test_a_deleted_secret_is_refused_but_its_tokens_stay_valid(key_and_secret, owner):
    key, first = key_and_secret
    created = services.secret_create(key=key, description="second", actor=owner)
    second_row, second = created.secret, created.value
    issued_with_second = access_token(key, second)

    services.secret_delete(key=key, secret=second_row, actor=owner)

    refused = token_response(key, second)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert hello(issued_with_second).status_code == 200  # deleting a secret revokes no token
    assert token_response(key, first).status_code == 200


@pytest.mark.parametrize("token_type", [TokenType.JWT, TokenType.OAUTH])
def test_a_token_issued_with_a_deleted_secret_still_introspects_active(
    application, resident, owner, token_type
):
    application.token_type = token_type
    application.save()
    generated = keys_generate(
        application=application,
        key_type="PRODUCTION",
        key_manager=resident,
        config={"grant_types": ["client_credentials"]},
        actor=owner,
    )
    key, first = generated.key, generated.consumer_secret
    created = services.secret_create(key=key, actor=owner)
    row, second = created.secret, created.value
    token = access_token(key, second)

    services.secret_delete(key=key, secret=row, actor=owner)

    basic = base64.b64encode(f"{key.consumer_key}:{first}".encode()).decode()
    answer = Client().post("/oauth2/introspect", {"token": token}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert answer.status_code == 200
    assert answer.json()["active"] is True
    assert answer.json()["client_id"] == key.consumer_key


def test_an_expired_secret_is_refused(key_and_secret, owner):
    key, first = key_and_secret
    short = services.secret_create(key=key, expires_at=timezone.now() + timedelta(days=1), actor=owner).value
    assert token_response(key, short).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        refused = token_response(key, short)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        assert token_response(key, first).status_code == 200  # the 90-day one still works
