"""Access tokens without a row: how an unstored JWT stays revocable, exactly.

A client_credentials JWT is not stored (``tokens.stores_access_token``): nothing can be deleted to
revoke it. It is refused when, besides its signature and expiry (``signing.verify``):

* its client no longer exists (the key was removed, the application deleted);
* it was issued at or before its client's ``tokens_revoked_before`` ("revoke earlier tokens"), or
  before the client was created (a client id used again never revives an old token). The issue
  time is the one its ``jti`` carries (to 1/4096 ms, rounded down), compared in whole
  microseconds as the database keeps the cutoff: every token issued before "revoke earlier
  tokens" is refused, one issued a moment after it works (the portal's "revoke earlier tokens
  and generate a new one"), and one issued within the same microsecond is refused (the safe side);
* its ``jti`` is a ``RevokedToken`` (RFC 7009 revocation of this one token), kept until it expires.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from keymanagers.models import OAuthClient, RevokedToken
from keymanagers.resident import cache, signing, tokens


@dataclass(frozen=True)
class UnstoredToken:
    """A live unstored JWT: its verified claims and its client."""

    claims: dict[str, Any]
    client: OAuthClient

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["exp"], tz=UTC)

    @property
    def never_expires(self) -> bool:
        return tokens.is_never(self.claims["exp"] - self.claims["iat"])


def is_unstored(claims: dict[str, Any]) -> bool:
    """Whether verified access-token claims are those of a token that has no row: issued to a
    client for itself, with a time-ordered jti (older tokens were all stored)."""
    return (
        "username" not in claims
        and isinstance(claims.get("client_id"), str)
        and claims.get("sub") == claims["client_id"]
        and tokens.jti_issued_ns(claims.get("jti")) is not None
    )


def _microseconds(moment: datetime) -> int:
    return calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond


def _load(client_id: str):
    return lambda: OAuthClient.objects.filter(client_id=client_id).first()


def issued_after_cutoff(claims: dict[str, Any], client: OAuthClient) -> bool:
    issued_ns = tokens.jti_issued_ns(claims["jti"])
    if issued_ns is None:
        return False
    issued = issued_ns // 1_000
    cutoffs = [client.created, client.tokens_revoked_before]
    return all(issued > _microseconds(c) for c in cutoffs if c is not None)


def live(claims: dict[str, Any]) -> UnstoredToken | None:
    """The live unstored token with these verified claims, or None when it has been revoked."""
    client, revoked = cache.client_and_revoked(claims["client_id"], claims["jti"], _load(claims["client_id"]))
    if client is None or revoked or not issued_after_cutoff(claims, client):
        return None
    return UnstoredToken(claims, client)


def verified_unstored(token: str) -> dict[str, Any] | None:
    """The claims of ``token`` when it is an unexpired unstored JWT we signed, else None (also for
    anything that is not a JWT, which the caller then looks up by its checksum)."""
    if token.count(".") != 2:
        return None
    try:
        claims = signing.verify(token)
    except signing.InvalidJWT:
        return None
    return claims if is_unstored(claims) else None


def revoke(token: str, *, client_id: str | None = None) -> bool:
    """RFC 7009 for an unstored JWT: remember its jti until it expires.

    ``client_id`` limits it to that client's own tokens (anyone else's is left alone, silently, as
    RFC 7009 2.2 allows); None is a resource server or the portal, which may revoke any. Returns
    False when ``token`` is not a live unstored JWT, so the caller looks for a row instead.
    """
    claims = verified_unstored(token)
    if claims is None:
        return False
    if client_id is not None and claims["client_id"] != client_id:
        return True
    client_pk = OAuthClient.objects.filter(client_id=claims["client_id"]).values_list("pk", flat=True).first()
    if client_pk is not None:
        expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
        RevokedToken.objects.bulk_create(
            [RevokedToken(jti=claims["jti"], client_id=client_pk, expires_at=expires_at)],
            ignore_conflicts=True,  # revoked twice: the first row stands
        )
    return True


def revoke_earlier_tokens(client: OAuthClient) -> None:
    """Refuse every token the client was issued until now ("revoke earlier tokens")."""
    OAuthClient.objects.filter(pk=client.pk).update(tokens_revoked_before=timezone.now())
