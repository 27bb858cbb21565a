"""What the resident server tells about a token (RFC 7662), shared by the endpoint and the adapter.

A client sees only its own tokens; a resource server (and the portal itself, ``viewer=None``) sees
every token. Anything else — unknown, expired, revoked, someone else's — is ``None``, which the
endpoint answers as ``{"active": false}``.

An unstored JWT (client_credentials) is answered from its verified claims, after the same checks
as at a resource server (``keymanagers.resident.revocation``); every other token from its row.
"""

from __future__ import annotations

import calendar
from datetime import timedelta
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

from keymanagers.resident import lookup, revocation, tokens


def _visible_to(viewer, application_id) -> bool:
    return viewer is None or getattr(viewer, "is_resource_server", False) or application_id == viewer.pk


def _timestamp(value) -> int:
    return int(calendar.timegm(value.utctimetuple()))


def _access_token_claims(row, token: str) -> dict[str, Any]:
    client = row.application
    claims: dict[str, Any] = {
        "active": True,
        "scope": row.scope,
        "token_type": "Bearer",
        "exp": _timestamp(row.expires),
        "iat": _timestamp(row.created),
        "iss": settings.RESIDENT_ISSUER,
    }
    if client is not None:
        claims["client_id"] = client.client_id
        claims["sub"] = client.client_id
        claims["aud"] = client.client_id
    if row.user is not None:
        claims["username"] = row.user.get_username()
        claims["sub"] = str(row.user.pk)
    if row.resource:
        claims["aud"] = row.resource[0] if len(row.resource) == 1 else list(row.resource)
    if token.count(".") == 2:
        # Our own JWT (its checksum matched a row we issued), so its claims can be read without
        # re-verifying. The row keeps only the checksum (RFC 9700 token storage).
        try:
            payload = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            payload = {}
        for name in ("sub", "aud", "jti", "iat", "iss"):
            if name in payload:
                claims[name] = payload[name]
    return claims


def _unstored_claims(claims: dict[str, Any]) -> dict[str, Any]:
    # The same members as a stored JWT's answer, all from the token itself.
    answer = {"active": True, "token_type": "Bearer"}
    for name in ("scope", "exp", "iat", "iss", "client_id", "sub", "aud", "jti"):
        if name in claims:
            answer[name] = claims[name]
    return answer


def claims_for(token: str, *, viewer=None) -> dict[str, Any] | None:
    """RFC 7662 claims of an active access or refresh token ``viewer`` may see, else ``None``."""
    if not token:
        return None
    claims = revocation.verified_unstored(token)
    if claims is not None:
        live = revocation.live(claims)
        if live is None or not _visible_to(viewer, live.client.pk):
            return None
        return _unstored_claims(claims)
    row = lookup.access_token_row(token)
    if row is not None:
        if row.is_expired() or not _visible_to(viewer, row.application_id):
            return None
        return _access_token_claims(row, token)

    refresh = lookup.live_refresh_token_row(token)
    if refresh is None or refresh.application is None or not _visible_to(viewer, refresh.application_id):
        return None
    lifetime = tokens.refresh_token_lifetime(refresh.application)
    expires = refresh.created + timedelta(seconds=lifetime)
    if expires <= timezone.now():
        return None
    claims = {
        "active": True,
        "token_type": "refresh_token",
        "client_id": refresh.application.client_id,
        "sub": str(refresh.user.pk) if refresh.user else refresh.application.client_id,
        "iat": _timestamp(refresh.created),
        "exp": _timestamp(expires),
        "iss": settings.RESIDENT_ISSUER,
    }
    if refresh.user is not None:
        claims["username"] = refresh.user.get_username()
    return claims
