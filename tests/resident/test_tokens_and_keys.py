"""Token formats (RFC 9068 JWTs verified by another JOSE library, opaque tokens) and key rotation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from keymanagers.models import SigningKey
from keymanagers.resident import signing
from portal import crypto
from tests.resident.conftest import CALLBACK, authorize, pkce_pair, token_request

pytestmark = pytest.mark.django_db


def jwks(http) -> KeySet:
    answer = http.get("/oauth2/jwks")
    assert answer.status_code == 200
    return KeySet.import_key_set(answer.json())


def get_token(http, registered, **data) -> str:
    answer = token_request(http, registered.ref.client_id, registered.secret.value, **data)
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


def test_jwt_access_token_follows_rfc_9068_and_verifies_with_the_jwks_alone(client, make_client, settings):
    _, registered = make_client(token_type="JWT")
    value = get_token(client, registered, resource="https://api.example.com/weather")
    token = jwt.decode(value, jwks(client), algorithms=["RS256"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] == SigningKey.objects.get(state="active").kid
    claims = token.claims
    assert claims["iss"] == settings.RESIDENT_ISSUER
    assert claims["sub"] == registered.ref.client_id
    assert claims["client_id"] == registered.ref.client_id
    assert claims["aud"] == "https://api.example.com/weather"
    assert claims["scope"] == "default"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]
    # joserfc's claim checks agree that it is currently valid
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": settings.RESIDENT_ISSUER}).validate(claims)


def test_jwt_audience_is_the_client_without_a_resource(client, make_client):
    _, registered = make_client(token_type="JWT")
    token = jwt.decode(get_token(client, registered), jwks(client))
    assert token.claims["aud"] == registered.ref.client_id


def test_tampered_jwt_does_not_verify(client, make_client):
    _, registered = make_client(token_type="JWT")
    header, payload, signature = get_token(client, registered).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "default admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"
    with pytest.raises(JoseError):
        jwt.decode(forged, jwks(client))
    answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert answer.status_code == 401


@override_settings(RESIDENT_JWT_ALGORITHM="ES256")
def test_es256_keys_work_too(client, make_client):
    _, registered = make_client(token_type="JWT")
    token = jwt.decode(get_token(client, registered), jwks(client), algorithms=["ES256"])
    assert token.header["alg"] == "ES256"


def test_opaque_token_is_random_and_at_least_256_bits(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    values = {get_token(client, registered) for _ in range(3)}
    assert len(values) == 3
    for value in values:
        assert "." not in value
        assert len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) >= 32


def test_refresh_tokens_are_opaque_even_for_jwt_clients(client, owner_client, make_client):
    _, registered = make_client(token_type="JWT")
    verifier, challenge = pkce_pair()
    query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
    body = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    ).json()
    assert body["access_token"].count(".") == 2
    assert "." not in body["refresh_token"]
    assert len(base64.urlsafe_b64decode(body["refresh_token"] + "==")) >= 32


def test_private_key_is_stored_encrypted_and_never_published(client, make_client):
    _, registered = make_client(token_type="JWT")
    get_token(client, registered)
    row = SigningKey.objects.get()
    assert "PRIVATE KEY" not in row.private_key_encrypted
    published = client.get("/oauth2/jwks").json()["keys"][0]
    assert set(published) >= {"kty", "kid", "n", "e", "alg", "use"}
    assert "d" not in published and "p" not in published


def test_rotation_keeps_old_tokens_verifiable_and_signs_new_ones_with_the_new_kid(client, make_client):
    _, registered = make_client(token_type="JWT")
    old_value = get_token(client, registered)
    old_kid = jwt.decode(old_value, jwks(client)).header["kid"]

    out = StringIO()
    call_command("rotate_signing_key", stdout=out)
    assert "New active signing key" in out.getvalue()

    new_value = get_token(client, registered)
    keys = jwks(client)
    new_kid = jwt.decode(new_value, keys).header["kid"]
    assert new_kid != old_kid
    assert jwt.decode(old_value, keys).header["kid"] == old_kid  # still published
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {old_value}").status_code == 200
    retired = SigningKey.objects.get(kid=old_kid)
    assert retired.state == SigningKey.State.RETIRED
    assert retired.publish_until >= timezone.now() + timedelta(days=1) - timedelta(minutes=1)


def test_retired_key_leaves_the_jwks_after_its_window(client, make_client):
    _, registered = make_client(token_type="JWT")
    get_token(client, registered)
    old_kid = SigningKey.objects.get().kid
    call_command("rotate_signing_key", stdout=StringIO())
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        signing.reset_caches()
        kids = [key["kid"] for key in client.get("/oauth2/jwks").json()["keys"]]
        assert old_kid not in kids
        assert len(kids) == 1


def test_retired_key_window_covers_the_longest_client_lifetime(make_client):
    make_client(application_access_token_expiry_time=7 * 86400)
    # "Never" is no finite floor: the tokens actually issued count instead (signing.publish_until).
    make_client(application_access_token_expiry_time=-1)
    assert signing.longest_token_lifetime() == 7 * 86400


@pytest.mark.parametrize("validity", [30 * 86400, -1], ids=["thirty-days", "never"])
def test_rotation_keeps_a_long_lived_generated_token_valid_past_the_configured_window(
    client, adapter, make_client, validity
):
    # The client's configured lifetime is the default hour; the token was generated for longer.
    _, registered = make_client(token_type="JWT")
    issued = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=validity
    )
    old_kid = SigningKey.objects.get().kid

    out = StringIO()
    call_command("rotate_signing_key", stdout=out)
    retired = SigningKey.objects.get(kid=old_kid)
    assert retired.publish_until >= timezone.now() + timedelta(days=29)
    assert (
        f"Retired {old_kid}; it stays in the JWKS until {retired.publish_until.isoformat()}" in out.getvalue()
    )
    assert ("signed a token that never expires" in out.getvalue()) is (validity < 0)

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        signing.reset_caches()
        assert old_kid in [key["kid"] for key in client.get("/oauth2/jwks").json()["keys"]]
        answer = client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
        assert answer.status_code == 200, answer.content


def test_a_revoked_long_lived_token_does_not_hold_its_key_after_rotation(client, adapter, make_client):
    _, registered = make_client(token_type="JWT")
    issued = adapter.issue_token(
        registered.ref, client_secret=registered.secret.value, scopes=[], validity_period=-1
    )
    adapter.revoke_token(registered.ref, issued.access_token)
    call_command("rotate_signing_key", stdout=StringIO())
    retired = SigningKey.objects.get(state=SigningKey.State.RETIRED)
    assert retired.publish_until < timezone.now() + timedelta(days=2)


def test_rotation_done_elsewhere_is_seen_within_the_cache_window(client, make_client, monkeypatch, settings):
    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60  # the production default (tests run with 0)
    _, registered = make_client(token_type="JWT")
    first_kid = jwt.decode(get_token(client, registered), jwks(client)).header["kid"]
    # Another instance rotates: this process's caches are not told.
    SigningKey.objects.update(
        state=SigningKey.State.RETIRED, publish_until=timezone.now() + timedelta(days=1)
    )
    other = signing._create_key("RS256")
    assert jwt.decode(get_token(client, registered), jwks(client)).header["kid"] == first_kid  # cached
    later = signing._clock() + 61
    monkeypatch.setattr(signing, "_clock", lambda: later)
    assert jwt.decode(get_token(client, registered), jwks(client)).header["kid"] == other.kid


def _claims() -> dict:
    now = int(timezone.now().timestamp())
    return {"iss": settings.RESIDENT_ISSUER, "iat": now, "exp": now + 60, "jti": "j", "sub": "s"}


def test_a_key_rotated_in_elsewhere_verifies_at_once_without_waiting_for_the_cache(db, monkeypatch, settings):
    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60  # the production default (tests run with 0)
    signing.verify(signing.sign(_claims()))  # this process has read the published kids
    other = signing._create_key("RS256")  # another instance rotates: nobody tells this process
    private_key = signing._load_pem(crypto.decrypt(other.private_key_encrypted))
    token = signing.sign(_claims(), key=signing.LoadedKey(other.kid, other.algorithm, private_key))
    later = signing._clock() + signing.UNKNOWN_KID_REFRESH_SECONDS
    monkeypatch.setattr(signing, "_clock", lambda: later)

    assert signing.verify(token)["sub"] == "s"


def test_tokens_with_made_up_kids_read_the_published_kids_at_most_once_a_second(db, monkeypatch, settings):
    settings.RESIDENT_SIGNING_KEY_CACHE_SECONDS = 60
    signing.verify(signing.sign(_claims()))
    active = signing.active_key()
    forged = [
        signing.sign(_claims(), key=signing.LoadedKey(f"made-up-{n}", active.algorithm, active.private_key))
        for n in range(20)
    ]
    now = signing._clock()
    monkeypatch.setattr(signing, "_clock", lambda: now + 0.5)

    with CaptureQueriesContext(connection) as within_a_second:
        for token in forged:
            with pytest.raises(signing.InvalidJWT, match="unknown signing key"):
                signing.verify(token)
    monkeypatch.setattr(signing, "_clock", lambda: now + 2)
    with CaptureQueriesContext(connection) as a_second_later:
        for token in forged:
            with pytest.raises(signing.InvalidJWT, match="unknown signing key"):
                signing.verify(token)

    assert len(within_a_second) == 0  # the kids were read half a second ago
    assert len(a_second_later) == 1  # read again once, then known to be made up


def test_rotate_command_dry_run_changes_nothing(make_client):
    signing.active_key()
    out = StringIO()
    call_command("rotate_signing_key", "--dry-run", stdout=out)
    kid = SigningKey.objects.get().kid
    assert f"Would retire {kid}; it stays in the JWKS until" in out.getvalue()
    assert SigningKey.objects.filter(state="active").count() == 1
    assert SigningKey.objects.get().publish_until is None


def test_signing_key_can_come_from_a_file(client, make_client, tmp_path, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.core.management.base import CommandError

    _, registered = make_client(token_type="JWT")
    database_kid = jwt.decode(get_token(client, registered), jwks(client)).header["kid"]

    private_key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "signing.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    settings.RESIDENT_SIGNING_KEY_FILE = str(path)
    signing.reset_caches()
    token = jwt.decode(get_token(client, registered), jwks(client), algorithms=["ES256"])
    file_kid = signing.public_jwk_of(private_key)["kid"]
    assert token.header["kid"] == file_kid
    row = SigningKey.objects.get(kid=file_kid)
    assert row.private_key_encrypted == ""  # the file is the only copy
    assert SigningKey.objects.get(kid=database_kid).state == SigningKey.State.RETIRED
    with pytest.raises(CommandError, match="replacing that file"):
        call_command("rotate_signing_key", stdout=StringIO())


def test_unreadable_key_file_is_a_clear_configuration_error(settings, tmp_path, db):
    from django.core.exceptions import ImproperlyConfigured

    path = tmp_path / "nope.pem"
    path.write_text("not a key")
    settings.RESIDENT_SIGNING_KEY_FILE = str(path)
    with pytest.raises(ImproperlyConfigured, match="RESIDENT_SIGNING_KEY_FILE"):
        signing.active_key()
