"""Finding and revoking the resident server's token rows by a token's value.

DOT stores ``token_checksum`` (SHA-256 of the value, hex) beside each access and refresh token and
indexes it, so every lookup by value goes through that checksum: introspection, bearer checks,
RFC 7009 revocation by a resource server, and the adapter's "revoke this token".
"""

from __future__ import annotations

import hashlib

from oauth2_provider.models import get_access_token_model, get_refresh_token_model, revoke_access_token


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_row(token: str):
    """The access token row with this value (its client and user loaded), or None."""
    return (
        get_access_token_model()
        .objects.select_related("application", "user")
        .filter(token_checksum=checksum(token))
        .first()
    )


def live_refresh_token_row(token: str):
    """The unrevoked refresh token row with this value (its client and user loaded), or None."""
    return (
        get_refresh_token_model()
        .objects.select_related("application", "user")
        .filter(token_checksum=checksum(token), revoked__isnull=True)
        .first()
    )


def revoke_by_value(token: str, **only) -> None:
    """Revoke the access and refresh tokens with this value; ``only`` narrows the rows (e.g. to one
    client: ``application__client_id=…``)."""
    value_checksum = checksum(token)
    for access_token in get_access_token_model().objects.filter(token_checksum=value_checksum, **only):
        revoke_access_token(access_token)
    for refresh in get_refresh_token_model().objects.filter(
        token_checksum=value_checksum, revoked__isnull=True, **only
    ):
        refresh.revoke()
