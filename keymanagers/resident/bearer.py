"""Checking a resident access token presented to a resource server (RFC 6750).

Both kinds are accepted: a JWT is first verified against our published signing keys (a forged or
foreign token is refused without touching the database). A client_credentials JWT has no row: it
is live while its client exists and has not revoked it (``keymanagers.resident.revocation``).
Every other token, like an opaque one, is looked up by its SHA-256 checksum, so that a revoked
token stops working at once.

This is the one way a resident access token is checked: /sample/hello, userinfo, DRF's
``ResidentBearerAuthentication`` and the REST API's ``ApiClientTokenAuthentication`` all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jwt

from keymanagers.resident import lookup, revocation, signing, tokens


@dataclass
class BearerError(Exception):
    """An RFC 6750 error: ``status`` 400/401/403 and the ``WWW-Authenticate`` it calls for."""

    status: int
    error: str
    description: str
    scope: str = ""
    expired: bool = False  # the token was good, and has expired (callers may word it their way)

    def www_authenticate(self, realm: str = "resident") -> str:
        parts = [f'realm="{realm}"']
        if self.error:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{self.description}"')
        if self.scope:
            parts.append(f'scope="{self.scope}"')
        return "Bearer " + ", ".join(parts)

    def as_json(self) -> dict[str, str]:
        return {"error": self.error or "invalid_request", "error_description": self.description}


@dataclass
class VerifiedToken:
    """A live resident access token."""

    row: object | None  # oauth2_provider AccessToken; None for an unstored JWT
    client: object  # the OAuthClient it was issued to
    client_id: str
    scopes: list[str]
    expires_at: datetime | None  # None: never expires
    token_type: str  # "JWT" or "OPAQUE"
    user: object | None

    def has_scopes(self, required: list[str]) -> bool:
        return set(required) <= set(self.scopes)


def token_from_header(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when there is no bearer token."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _unknown_or_revoked() -> BearerError:
    return BearerError(401, "invalid_token", "The access token is unknown or has been revoked.")


def _unstored(claims) -> VerifiedToken:
    live = revocation.live(claims)
    if live is None:
        raise _unknown_or_revoked()
    return VerifiedToken(
        row=None,
        client=live.client,
        client_id=live.client.client_id,
        scopes=str(claims.get("scope", "")).split(),
        expires_at=None if live.never_expires else live.expires_at,
        token_type="JWT",
        user=None,
    )


def verify(token: str) -> VerifiedToken:
    """The live token ``token`` names, or ``BearerError(401, "invalid_token")``."""
    is_jwt = token.count(".") == 2
    if is_jwt:
        try:
            claims = signing.verify(token)
        except signing.InvalidJWT as exc:
            expired = isinstance(exc.__cause__, jwt.ExpiredSignatureError)
            raise BearerError(
                401, "invalid_token", f"The access token is invalid: {exc}.", expired=expired
            ) from None
        if revocation.is_unstored(claims):
            return _unstored(claims)
    row = lookup.access_token_row(token)
    if row is None or row.application is None:
        raise _unknown_or_revoked()
    if row.is_expired():
        raise BearerError(401, "invalid_token", "The access token has expired.", expired=True)
    never = tokens.is_never((row.expires - row.created).total_seconds())
    return VerifiedToken(
        row=row,
        client=row.application,
        client_id=row.application.client_id,
        scopes=row.scope.split(),
        expires_at=None if never else row.expires,
        token_type="JWT" if is_jwt else "OPAQUE",
        user=row.user,
    )


def require(authorization: str, scopes: list[str]) -> VerifiedToken:
    """Check an Authorization header for a live token carrying every scope in ``scopes``."""
    token = token_from_header(authorization)
    if token is None:
        # RFC 6750 3.1: no credentials at all gets a bare challenge, without an error code.
        raise BearerError(401, "", "An access token is required.")
    verified = verify(token)
    if not verified.has_scopes(scopes):
        raise BearerError(
            403, "insufficient_scope", "The access token does not carry the required scope.", " ".join(scopes)
        )
    return verified
