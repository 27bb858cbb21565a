"""A client_credentials token's row (opaque, or a stored JWT), written in one statement (PostgreSQL).

DOT saves every token inside ``transaction.atomic``, and the resident server adds
``SET LOCAL synchronous_commit = off`` (``RESIDENT_TOKEN_ASYNC_COMMIT``, README "Performance"):
``BEGIN``, ``SET LOCAL``, ``INSERT``, ``COMMIT`` — four round trips and the ORM compiling the insert,
for a row that is one insert. When that transaction would be the outermost one and the token comes
alone (client_credentials: no refresh token, no ID token), the same row is written by one
autocommit statement that sets the same transaction-local ``synchronous_commit`` itself::

    INSERT INTO … (…) SELECT %s, … FROM (SELECT set_config('synchronous_commit', 'off', true)) s
    RETURNING id

PostgreSQL evaluates a volatile function in a ``FROM`` subquery (it never pulls such a subquery
up), and the setting lasts until the statement's own commit. The values are the ORM's own: each
field's ``pre_save`` (``created``/``updated``, the checksum) and ``get_db_prep_save`` on the
instance DOT would have saved; the statement's text is built once per process from the model.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, router
from django.db.models.signals import post_save, pre_save
from oauth2_provider.models import get_access_token_model

_statements: dict[str, tuple[str, list]] = {}


def connection_for_tokens():
    return connections[router.db_for_write(get_access_token_model())]


def applies(token: dict, request) -> bool:
    """Whether this token's row may be written by ``insert``: a client_credentials token alone,
    asynchronous commits allowed, PostgreSQL, and no transaction around the request."""
    if request.grant_type != "client_credentials" or "refresh_token" in token or "id_token" in token:
        return False
    if not settings.RESIDENT_TOKEN_ASYNC_COMMIT:
        return False
    model = get_access_token_model()
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        return False  # save() sends them; this statement does not
    connection = connection_for_tokens()
    # A caller's transaction (keys created together with their first token) keeps its
    # synchronous commit and its atomicity: the ORM path then writes the row inside it.
    return (
        connection.vendor == "postgresql" and connection.get_autocommit() and not connection.in_atomic_block
    )


def _statement(connection) -> tuple[str, list]:
    model = get_access_token_model()
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.pk and not f.generated]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 (the model's quoted names only)
        f"SELECT {', '.join('%s' for _ in fields)} "
        "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
        f"RETURNING {qn(meta.pk.column)}"
    )
    return sql, fields


def insert(access_token) -> None:
    """Write the unsaved ``access_token`` as the ORM's ``save()`` would, in one statement."""
    connection = connection_for_tokens()
    if connection.alias not in _statements:
        _statements[connection.alias] = _statement(connection)
    sql, fields = _statements[connection.alias]
    values = [f.get_db_prep_save(f.pre_save(access_token, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        (pk,) = cursor.fetchone()
    access_token.pk = pk
    access_token._state.adding = False
    access_token._state.db = connection.alias
