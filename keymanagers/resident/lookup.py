"""Finding and revoking the resident server's token rows by a token's value.

DOT stores ``token_checksum`` (SHA-256 of the value, hex) beside each access and refresh token and
indexes it, so every lookup by value goes through that checksum: introspection, bearer checks,
RFC 7009 revocation by a resource server, and the adapter's "revoke this token". (A
client_credentials JWT has no row: ``keymanagers.resident.revocation``.)
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


def revoke_issued_tokens(access_token_id: int | None, token_family) -> None:
    """Revoke an access token and its refresh-token family (and the family's access tokens)."""
    if access_token_id is not None:
        for access_token in get_access_token_model().objects.filter(pk=access_token_id):
            revoke_access_token(access_token)
    if token_family is not None:
        get_refresh_token_model().revoke_family(token_family)


def issued_tokens(token: dict) -> tuple[int | None, object]:
    """(access token id, refresh-token family) of a token response that was just saved."""
    access_id = None
    family = None
    if token.get("access_token"):
        access_id = (
            get_access_token_model()
            .objects.filter(token_checksum=checksum(token["access_token"]))
            .values_list("pk", flat=True)
            .first()
        )
    if token.get("refresh_token"):
        family = (
            get_refresh_token_model()
            .objects.filter(token_checksum=checksum(token["refresh_token"]))
            .values_list("token_family", flat=True)
            .first()
        )
    return access_id, family
