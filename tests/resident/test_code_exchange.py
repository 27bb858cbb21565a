"""The token endpoint's side of the code grant: single-use codes that revoke on reuse, codes kept
only as a keyed hash, and the error codes RFC 6749 names."""

from __future__ import annotations

import pytest
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from keymanagers.models import RedeemedCode
from portal import crypto
from tests.resident.conftest import CALLBACK, authorize, basic, pkce_pair, token_request
from tests.resident.test_authorization_code import exchange

pytestmark = pytest.mark.django_db


def a_code(owner_client, registered):
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    return query["code"][0], verifier


def hello(client, access_token):
    return client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code


def test_codes_are_stored_only_as_their_keyed_hash(owner_client, make_client):
    _, registered = make_client()
    code, _ = a_code(owner_client, registered)
    stored = Grant.objects.get()
    assert stored.code != code
    assert stored.code == crypto.keyed_hash(code)


def test_a_reused_code_is_refused_and_revokes_the_tokens_it_gave(client, owner_client, make_client):
    _, registered = make_client()
    code, verifier = a_code(owner_client, registered)
    first = exchange(client, registered, code, verifier)
    assert first.status_code == 200, first.content
    tokens = first.json()
    assert hello(client, tokens["access_token"]) == 200

    again = exchange(client, registered, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert hello(client, tokens["access_token"]) == 401  # RFC 6749 4.1.2
    refreshed = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_reuse_also_revokes_tokens_refreshed_since(client, owner_client, make_client):
    _, registered = make_client()
    code, verifier = a_code(owner_client, registered)
    tokens = exchange(client, registered, code, verifier).json()
    refreshed = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    ).json()
    assert hello(client, refreshed["access_token"]) == 200
    assert exchange(client, registered, code, verifier).status_code == 400
    assert hello(client, refreshed["access_token"]) == 401


def test_a_reused_code_of_a_client_without_refresh_tokens_still_revokes(client, owner_client, make_client):
    _, registered = make_client(grant_types=["authorization_code"])
    code, verifier = a_code(owner_client, registered)
    tokens = exchange(client, registered, code, verifier).json()
    assert "refresh_token" not in tokens
    assert exchange(client, registered, code, verifier).status_code == 400
    assert hello(client, tokens["access_token"]) == 401


def test_another_client_presenting_the_code_revokes_nothing(client, owner_client, make_client):
    _, registered = make_client()
    _, other = make_client(name="Other app")
    code, verifier = a_code(owner_client, registered)
    tokens = exchange(client, registered, code, verifier).json()
    answer = exchange(client, other, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert hello(client, tokens["access_token"]) == 200


def test_redeemed_codes_are_remembered_as_a_hash_only(client, owner_client, make_client):
    _, registered = make_client()
    code, verifier = a_code(owner_client, registered)
    exchange(client, registered, code, verifier)
    assert RedeemedCode.objects.get().code_hash == crypto.keyed_hash(code)
    assert not Grant.objects.exists()


def test_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant(client, owner_client, make_client):
    _, registered = make_client(callback_url=f"{CALLBACK} https://client.example.com/other")
    code, verifier = a_code(owner_client, registered)
    answer = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        redirect_uri="https://client.example.com/other",
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_missing_grant_type_is_invalid_request(client, make_client):
    _, registered = make_client()
    answer = client.post(
        "/oauth2/token", {}, HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value)
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "grant_type" in answer.json()["error_description"]
    assert answer["Cache-Control"] == "no-store"


def test_a_repeated_parameter_is_invalid_request(client, make_client):
    _, registered = make_client()
    answer = client.post(
        "/oauth2/token",
        "grant_type=client_credentials&grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "The parameter grant_type was sent more than once.",
    }
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("endpoint", ["/oauth2/revoke", "/oauth2/introspect"])
def test_repeated_token_parameters_are_refused_at_revoke_and_introspect(client, make_client, endpoint):
    _, registered = make_client()
    token = token_request(client, registered.ref.client_id, registered.secret.value).json()["access_token"]
    answer = client.post(
        endpoint,
        f"token={token}&token=other",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(registered.ref.client_id, registered.secret.value),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert hello(client, token) == 200  # nothing was revoked


def test_a_public_client_revokes_its_token_with_its_client_id_alone(client, owner_client, make_client):
    _, registered = make_client(public_client=True)
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    tokens = exchange(client, registered, query["code"][0], verifier, secret=False).json()
    answer = client.post(
        "/oauth2/revoke", {"token": tokens["access_token"], "client_id": registered.ref.client_id}
    )
    assert answer.status_code == 200
    assert hello(client, tokens["access_token"]) == 401


def test_clean_up_forgets_redeemed_codes_after_the_grace_period(make_client):
    from datetime import timedelta

    from django.utils import timezone

    from keymanagers.resident.cleanup import clear_resident_tokens

    client_row, _ = make_client()
    now = timezone.now()
    RedeemedCode.objects.create(code_hash="a" * 64, client=client_row, expires=now - timedelta(days=2))
    RedeemedCode.objects.create(code_hash="b" * 64, client=client_row, expires=now - timedelta(hours=1))
    assert clear_resident_tokens().redeemed_codes == 1
    assert list(RedeemedCode.objects.values_list("code_hash", flat=True)) == ["b" * 64]
