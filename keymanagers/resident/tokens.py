"""Access and refresh tokens of the resident server, and how long they live.

``generate_access_token`` is DOT's ``ACCESS_TOKEN_GENERATOR``: an RFC 9068 JWT for clients whose
``token_format`` is ``JWT``, a random opaque value otherwise. Refresh tokens are always opaque.
``access_token_expires_in`` is oauthlib's ``token_expires_in`` callable (set by ``ResidentServer``),
which makes lifetimes per client.

A JWT issued by client_credentials acts for no user and is usually not stored
(``stores_access_token``): its ``jti`` is then a UUIDv7 whose time field says, to a quarter of a
microsecond, when it was issued, which is what "revoke earlier tokens" compares with
(``keymanagers.resident.revocation``). Every stored JWT has a random (version 4) ``jti``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized

from keymanagers.resident import publication, signing

# "Never expires" is stored as a far-future expiry: DOT turns a negative lifetime into a token
# that is already expired.
NEVER_SECONDS = 100 * 365 * 24 * 3600
OPAQUE_TOKEN_BYTES = 32  # 256 bits

# Set only by in-process callers (the adapter's issue_token); an HTTP client cannot reach it.
_validity_override: ContextVar[int | None] = ContextVar("resident_validity_override", default=None)


@contextmanager
def validity_period(seconds: int | None) -> Iterator[None]:
    """Within the block, tokens get this lifetime (negative: never) instead of the client's."""
    reset = _validity_override.set(seconds)
    try:
        yield
    finally:
        _validity_override.reset(reset)


def is_never(seconds: float | None) -> bool:
    """Whether a lifetime is our "never expires" (with a day's slack for clocks and rounding)."""
    return seconds is not None and seconds >= NEVER_SECONDS - 86400


def lifetime_seconds(configured: int | None, default: int) -> int:
    """A configured lifetime in seconds: negative means never, empty or zero means the default."""
    if configured is None or configured == 0:
        return default
    if configured < 0:
        return NEVER_SECONDS
    return configured


def default_access_token_seconds() -> int:
    value = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    return value if isinstance(value, int) else signing.DEFAULT_ACCESS_TOKEN_SECONDS


def access_token_expires_in(request) -> int:
    """Seconds the access token being issued lives: the in-process override, else the client's setting."""
    override = _validity_override.get()
    if override is not None:
        return lifetime_seconds(override, default_access_token_seconds())
    client = request.client
    if client is None:
        return default_access_token_seconds()
    configured = (
        client.application_token_lifetime
        if request.grant_type == "client_credentials"
        else client.user_token_lifetime
    )
    return lifetime_seconds(configured, default_access_token_seconds())


def default_refresh_token_seconds() -> int:
    return getattr(settings, "RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS", 86400)


def refresh_token_lifetime(client) -> int:
    return lifetime_seconds(client.refresh_token_lifetime, default_refresh_token_seconds())


def id_token_lifetime(client) -> int:
    return lifetime_seconds(client.id_token_lifetime, oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)


def _audience(request, client_id: str) -> str | list[str]:
    resource = getattr(request, "resource", None)
    if isinstance(resource, str) and resource.strip():
        return resource
    if isinstance(resource, list) and resource:
        return resource[0] if len(resource) == 1 else list(resource)
    return client_id


def stores_access_token(request) -> bool:
    """Whether the access token being issued gets a row in DOT's table.

    Not stored: a client_credentials JWT with its client's finite lifetime, the token software asks
    for all day. Stored: a user's token (refresh-token rotation, code-reuse revocation and ID tokens
    hang on its row); an opaque token (the row is all there is); a token that never expires or has
    a validity chosen in the portal's "Generate token" (a person's request, rare: a revoked one
    must be deleted, not remembered for years, and must not keep its signing key published).
    """
    client = request.client
    if app_authorized.has_listeners():
        return True  # DOT sends its receivers the token's row
    if request.grant_type != "client_credentials" or client is None or client.token_format != "JWT":
        return True
    return _validity_override.get() is not None or is_never(getattr(request, "expires_in", None))


# UUIDv7 (RFC 9562 5.7) with method 3 of 6.2: the 12 bits after the millisecond time carry its
# fraction, so the jti dates the token to 1/4096 ms.
_SUBMS_STEPS = 4096


def time_ordered_jti(now_ns: int) -> str:
    milliseconds, rest_ns = divmod(now_ns, 1_000_000)
    fraction = rest_ns * _SUBMS_STEPS // 1_000_000
    value = (milliseconds << 80) | (0x7 << 76) | (fraction << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def jti_issued_ns(jti: object) -> int | None:
    """When a token with this jti was issued (ns since the epoch, rounded down), or None when the
    jti is not one of ``time_ordered_jti`` (a token from before unstored JWTs: it has a row)."""
    if not isinstance(jti, str):
        return None
    try:
        value = uuid.UUID(jti)
    except ValueError:
        return None
    if value.version != 7 or str(value) != jti:
        return None
    milliseconds = value.int >> 80
    fraction = (value.int >> 64) & 0xFFF
    return milliseconds * 1_000_000 + fraction * 1_000_000 // _SUBMS_STEPS


def access_token_claims(request, *, unstored: bool = False) -> dict[str, Any]:
    """RFC 9068 claims for the token being issued (``request.expires_in`` is set by oauthlib first)."""
    client = request.client
    now_ns = time.time_ns()
    now = now_ns // 1_000_000_000
    user = getattr(request, "user", None)
    has_user = (
        user is not None
        and getattr(user, "pk", None) is not None
        and request.grant_type != "client_credentials"
    )
    claims: dict[str, Any] = {
        "iss": settings.RESIDENT_ISSUER,
        "sub": str(user.pk) if has_user else client.client_id,
        "aud": _audience(request, client.client_id),
        "client_id": client.client_id,
        "scope": " ".join(request.scopes or []),
        # Only an unstored token's jti tells its time: that is how it is known to have no row.
        "jti": time_ordered_jti(now_ns) if unstored else str(uuid.uuid4()),
        "iat": now,
        "exp": now + int(request.expires_in),
    }
    if has_user:
        claims["username"] = user.get_username()
    return claims


def generate_access_token(request) -> str:
    if request.client is not None and request.client.token_format == "JWT":
        unstored = not stores_access_token(request)
        claims = access_token_claims(request, unstored=unstored)
        if unstored:
            # No row will say how long this token lives: its signing key must know it.
            key = signing.active_key()
            publication.cover(key.kid, claims["exp"])
            return signing.sign(claims, key=key)
        return signing.sign(claims)
    return secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)


def generate_refresh_token(request) -> str:
    return secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)
