"""Finding and revoking the resident server's token rows by a token's value.

DOT stores ``token_checksum`` (SHA-256 of the value, hex) beside each access and refresh token and
indexes it, so every lookup by value goes through that checksum: introspection, bearer checks,
RFC 7009 revocation by a resource server, and the adapter's "revoke this token". (A
client_credentials JWT has no row: ``keymanagers.resident.revocation``.)

``access_token_row`` runs on every opaque bearer check and introspection. The ORM's
``select_related(...).filter(...).first()`` spent most of such a request compiling the same SQL
again (~1.3 ms of ~1.6 ms per call, README "Performance"), so that one statement is built once per
process from the models' own columns and its row is turned into model instances the way the ORM
does it (its converters, ``Model.from_db``, the related objects cached on the token).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connections, router
from oauth2_provider.models import get_access_token_model, get_refresh_token_model, revoke_access_token


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class _Part:
    """One model's columns in the statement: where they start and how each value is converted."""

    model: type
    attnames: list[str]
    converters: list[tuple[int, list]]  # (column index within the part, converter functions)
    columns: list  # Col expressions, handed to the converters as the ORM does
    start: int
    link: object  # the token's field that caches this object (None for the token itself)


@dataclass(frozen=True)
class _Plan:
    vendor: str
    sql: str
    parts: tuple[_Part, ...]


_plans: dict[str, _Plan] = {}


def _build(connection) -> _Plan:
    token_model = get_access_token_model()
    application = token_model._meta.get_field("application")
    user = token_model._meta.get_field("user")
    qn = connection.ops.quote_name
    joined = (
        (token_model, "t", None),
        (application.related_model, "c", application),
        (get_user_model(), "u", user),
    )
    selected: list[str] = []
    parts = []
    for model, alias, link in joined:
        fields = model._meta.concrete_fields
        columns = [field.get_col(alias) for field in fields]
        converters = []
        for index, column in enumerate(columns):
            # As SQLCompiler.get_converters: the backend's, then the field's (from_db_value).
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if functions:
                converters.append((index, functions))
        parts.append(_Part(model, [f.attname for f in fields], converters, columns, len(selected), link))
        selected += [f"{alias}.{qn(field.column)}" for field in fields]

    def join(alias: str, field) -> str:
        target = field.related_model._meta
        return (
            f"LEFT JOIN {qn(target.db_table)} {alias} "
            f"ON {alias}.{qn(target.pk.column)} = t.{qn(field.column)}"
        )

    checksum_column = qn(token_model._meta.get_field("token_checksum").column)
    sql = (
        f"SELECT {', '.join(selected)} FROM {qn(token_model._meta.db_table)} t "  # noqa: S608 (the models' quoted names only)
        f"{join('c', application)} {join('u', user)} "
        f"WHERE t.{checksum_column} = %s LIMIT 1"
    )
    return _Plan(connection.vendor, sql, tuple(parts))


def access_token_row(token: str):
    """The access token row with this value (its client and user loaded), or None.

    The same instances as ``select_related("application", "user").filter(token_checksum=…)
    .first()`` (``tests/resident/test_lean_lookup.py`` compares them), in one statement compiled
    once per process.
    """
    alias = router.db_for_read(get_access_token_model())
    connection = connections[alias]
    plan = _plans.get(alias)
    if plan is None or plan.vendor != connection.vendor:
        plan = _plans[alias] = _build(connection)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [checksum(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_row = None
    for part in plan.parts:
        values = list(row[part.start : part.start + len(part.attnames)])
        if values[0] is None:
            # LEFT JOIN without a match (no user, or no client): the ORM's select_related caches None.
            part.link.set_cached_value(token_row, None)
            continue
        for index, functions in part.converters:
            for convert in functions:
                values[index] = convert(values[index], part.columns[index], connection)
        instance = part.model.from_db(alias, part.attnames, values)
        if part.link is None:
            token_row = instance
        else:
            part.link.set_cached_value(token_row, instance)
    return token_row


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
