"""An opaque client_credentials token's row is written by one autocommit statement on PostgreSQL
(``keymanagers/resident/token_insert.py``): the same row as DOT's ORM path, committed without
waiting for the disk flush, and every other token still goes through DOT's transaction.

Transactional, as under gunicorn: inside a test's transaction the ORM path is taken on purpose.
"""

from __future__ import annotations

import hashlib
import types

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken
from oauth2_provider.signals import app_authorized

from keymanagers.resident import cache, token_insert, tokens
from tests.resident.conftest import token_request
from tests.resident.test_authorization_code import exchange
from tests.resident.test_code_exchange import a_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FORECAST = "https://forecast.example.com/"
RADAR = "https://radar.example.com/"
ONE_STATEMENT = "set_config('synchronous_commit', 'off', true)"


@pytest.fixture(autouse=True)
def _needs_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    cache.clear()
    yield
    cache.clear()


def _issue(client, registered, **data):
    with CaptureQueriesContext(connection) as queries:
        answer = token_request(client, registered.ref.client_id, registered.secret.value, **data)
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"], [q["sql"] for q in queries]


def _columns(token: str) -> dict:
    """The row as PostgreSQL holds it, every column."""
    table = AccessToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {connection.ops.quote_name(table)} WHERE token_checksum = %s",  # noqa: S608
            [hashlib.sha256(token.encode()).hexdigest()],
        )
        names = [column.name for column in cursor.description]
        (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def test_the_one_statement_writes_the_row_the_orm_writes(client, make_client, settings):
    oauth_client, registered = make_client(token_type="OAUTH")
    fast, fast_sql = _issue(client, registered, resource=[FORECAST, RADAR])
    settings.RESIDENT_TOKEN_ASYNC_COMMIT = False  # DOT's transaction and the ORM's insert
    orm, orm_sql = _issue(client, registered, resource=[FORECAST, RADAR])

    inserts = [sql for sql in fast_sql if sql.startswith("INSERT")]
    assert len(inserts) == 1 and ONE_STATEMENT in inserts[0], fast_sql
    assert not any("set_config" in sql or "synchronous_commit" in sql for sql in orm_sql), orm_sql

    ours, theirs = _columns(fast), _columns(orm)
    moments = ("id", "token_checksum", "expires", "created", "updated")
    assert {k: v for k, v in ours.items() if k not in moments} == {
        k: v for k, v in theirs.items() if k not in moments
    }
    assert ours["application_id"] == oauth_client.pk and ours["user_id"] is None
    assert ours["token"] == "" and ours["token_checksum"] == hashlib.sha256(fast.encode()).hexdigest()
    assert ours["resource"] == theirs["resource"] and ours["scope"] == "default"
    for row in (ours, theirs):
        assert row["created"] <= row["updated"] and (row["updated"] - row["created"]).total_seconds() < 1
    assert (
        abs((ours["expires"] - ours["created"]) - (theirs["expires"] - theirs["created"])).total_seconds() < 1
    )
    # The token works like any other.
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {fast}").status_code == 200


def test_the_commit_is_asynchronous_for_that_statement_only(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    _issue(client, registered)

    with connection.cursor() as cursor:
        # set_config is planned, not optimised away (a subquery with a volatile function stays)...
        sql, fields = token_insert._statement(connection)
        cursor.execute("EXPLAIN (VERBOSE, COSTS OFF) " + sql, [None] * len(fields))
        assert any("set_config('synchronous_commit'" in line for (line,) in cursor.fetchall())
        # ...and lasts only until that statement's commit: the connection's next commits wait.
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_a_database_error_answers_500_and_writes_nothing(client, make_client, monkeypatch):
    oauth_client, registered = make_client(token_type="OAUTH")
    same_value = types.SimpleNamespace(token_urlsafe=lambda n: "the-same-value-twice")
    monkeypatch.setattr(tokens, "secrets", same_value)
    _issue(client, registered)

    client.raise_request_exception = False
    answer = token_request(client, registered.ref.client_id, registered.secret.value)

    assert answer.status_code == 500  # the unique checksum: PostgreSQL refuses the second row
    assert b"the-same-value-twice" not in answer.content
    assert AccessToken.objects.filter(application=oauth_client).count() == 1
    monkeypatch.undo()
    assert token_request(client, registered.ref.client_id, registered.secret.value).status_code == 200


def test_a_receiver_of_app_authorized_gets_the_row(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    received = []

    def receiver(sender, request, token, **kwargs):
        received.append(token)

    app_authorized.connect(receiver)
    try:
        token, sql = _issue(client, registered)
    finally:
        app_authorized.disconnect(receiver)

    assert any(ONE_STATEMENT in statement for statement in sql)
    assert [t.pk for t in received] == [
        AccessToken.objects.get(token_checksum=_columns(token)["token_checksum"]).pk
    ]


def test_a_receiver_of_the_models_signals_keeps_the_orm_save(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    saved = []

    def receiver(sender, instance, created, **kwargs):
        saved.append((instance.pk, created))

    post_save.connect(receiver, sender=AccessToken)
    try:
        token, sql = _issue(client, registered)
    finally:
        post_save.disconnect(receiver, sender=AccessToken)

    assert not any("set_config" in statement for statement in sql)
    assert saved == [(_columns(token)["id"], True)]


def test_a_users_tokens_keep_dots_transaction(client, owner_client, make_client):
    _, registered = make_client(token_type="OAUTH")
    code, verifier = a_code(owner_client, registered)
    with CaptureQueriesContext(connection) as queries:
        answer = exchange(client, registered, code, verifier)
    assert answer.status_code == 200 and "refresh_token" in answer.json()
    sql = [q["sql"] for q in queries]
    assert "SET LOCAL synchronous_commit = off" in sql
    assert not any("set_config" in statement for statement in sql)
