"""Introspection (RFC 7662) and revocation (RFC 7009): own tokens only, unless a resource server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import AccessToken

from tests.resident.conftest import basic, token_request

pytestmark = pytest.mark.django_db


def issue(http, registered, **data) -> str:
    return token_request(http, registered.ref.client_id, registered.secret.value, **data).json()[
        "access_token"
    ]


def introspect(http, registered, token):
    return http.post(
        "/oauth2/introspect",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )


def revoke(http, registered, token):
    return http.post(
        "/oauth2/revoke",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )


@pytest.mark.parametrize("token_type", ["JWT", "OAUTH"])
def test_client_introspects_its_own_token(client, make_client, settings, token_type):
    _, registered = make_client(token_type=token_type)
    token = issue(client, registered)
    answer = introspect(client, registered, token)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["active"] is True
    assert body["client_id"] == registered.ref.client_id
    assert body["scope"] == "default"
    assert body["token_type"] == "Bearer"
    assert body["iss"] == settings.RESIDENT_ISSUER
    assert body["sub"] == registered.ref.client_id
    assert body["aud"] == registered.ref.client_id
    assert body["exp"] - body["iat"] in (3599, 3600, 3601)
    if token_type == "JWT":
        assert body["jti"]


def test_another_clients_token_introspects_as_inactive(client, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    token = issue(client, other)
    assert introspect(client, mine, token).json() == {"active": False}


def test_resource_server_sees_every_token(client, make_client):
    rs_row, resource_server = make_client(name="Gateway")
    rs_row.is_resource_server = True
    rs_row.save()
    _, other = make_client(name="Other")
    body = introspect(client, resource_server, issue(client, other)).json()
    assert body["active"] is True
    assert body["client_id"] == other.ref.client_id


def test_introspection_needs_client_authentication(client, make_client):
    _, registered = make_client()
    token = issue(client, registered)
    answer = client.post("/oauth2/introspect", {"token": token})
    assert answer.status_code == 401
    wrong = client.post(
        "/oauth2/introspect",
        {"token": token},
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, "dps_wrong"),
    )
    assert wrong.status_code == 401
    assert "active" not in wrong.json()


def test_expired_and_unknown_tokens_introspect_as_inactive(client, make_client):
    _, registered = make_client(application_access_token_expiry_time=60)
    token = issue(client, registered)
    assert introspect(client, registered, "no-such-token").json() == {"active": False}
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert introspect(client, registered, token).json() == {"active": False}


def test_client_revokes_its_own_token(client, make_client):
    _, registered = make_client()
    token = issue(client, registered)
    answer = revoke(client, registered, token)
    assert answer.status_code == 200
    assert not AccessToken.objects.exists()
    assert introspect(client, registered, token).json() == {"active": False}
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_revoking_another_clients_token_answers_200_and_leaves_it_valid(client, make_client):
    _, mine = make_client()
    _, other = make_client(name="Other")
    token = issue(client, other)
    assert revoke(client, mine, token).status_code == 200
    assert introspect(client, other, token).json()["active"] is True


def test_resource_server_may_revoke_any_token(client, make_client):
    rs_row, resource_server = make_client(name="Gateway")
    rs_row.is_resource_server = True
    rs_row.save()
    _, other = make_client(name="Other")
    token = issue(client, other)
    assert revoke(client, resource_server, token).status_code == 200
    assert introspect(client, other, token).json() == {"active": False}


def test_revoking_an_unknown_token_is_200(client, make_client):
    _, registered = make_client()
    assert revoke(client, registered, "never-issued").status_code == 200


def test_revocation_needs_the_clients_secret(client, make_client):
    _, registered = make_client()
    token = issue(client, registered)
    answer = client.post(
        "/oauth2/revoke", {"token": token}, HTTP_AUTHORIZATION=basic(registered.ref.client_id, "")
    )
    assert answer.status_code == 401
    # The token (a client_credentials JWT: no row) still works.
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_bad_secret_at_introspection_and_revocation_is_challenged_for_basic(client, make_client):
    _, registered = make_client()
    for path in ("/oauth2/introspect", "/oauth2/revoke"):
        answer = client.post(
            path, {"token": "x"}, HTTP_AUTHORIZATION=basic(registered.ref.client_id, "dps_wrong")
        )
        assert answer.status_code == 401, path
        assert answer["WWW-Authenticate"] == 'Basic realm="resident"', path


def test_a_public_client_may_not_introspect_with_its_id_alone(client, make_client):
    _, confidential = make_client(name="Backend")
    token = issue(client, confidential)
    _, public = make_client(name="SPA", public_client=True)
    answer = client.post("/oauth2/introspect", {"token": token, "client_id": public.ref.client_id})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "active" not in answer.json()


def test_a_public_client_may_not_introspect_even_with_a_secret(client, make_client):
    _, public = make_client(name="SPA", public_client=True)
    # Its secret is no proof of identity (it ships inside the app), even for its own tokens.
    answer = introspect(client, public, issue(client, public))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_a_public_resource_server_may_introspect(client, make_client):
    # is_resource_server is the admin's own decision: it outranks the client type.
    rs_row, resource_server = make_client(name="Gateway", public_client=True)
    rs_row.is_resource_server = True
    rs_row.save()
    _, other = make_client(name="Other")
    answer = introspect(client, resource_server, issue(client, other))
    assert answer.status_code == 200
    assert answer.json()["active"] is True
