"""``lookup.access_token_row`` builds its SQL once per process instead of asking the ORM each time:
what it returns must be exactly what the ORM's ``select_related("application", "user")`` query
returns, on SQLite and on PostgreSQL (the converters differ: dates, JSON)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken

from keymanagers.resident import lookup
from tests.resident.conftest import token_request
from tests.resident.test_authorization_code import exchange
from tests.resident.test_code_exchange import a_code

pytestmark = pytest.mark.django_db


def _orm_row(token: str):
    return (
        AccessToken.objects.select_related("application", "user")
        .filter(token_checksum=lookup.checksum(token))
        .first()
    )


def _fields(instance) -> dict:
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def assert_same_row(token: str):
    """The lean row and the ORM's: every field, the cached client and user, the instance state."""
    lean, orm = lookup.access_token_row(token), _orm_row(token)
    assert orm is not None
    assert _fields(lean) == _fields(orm)
    assert set(lean._state.fields_cache) == set(orm._state.fields_cache) == {"application", "user"}
    for related in ("application", "user"):
        ours, theirs = lean._state.fields_cache[related], orm._state.fields_cache[related]
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert type(ours) is type(theirs)
            assert _fields(ours) == _fields(theirs)
            assert (ours._state.db, ours._state.adding) == (theirs._state.db, theirs._state.adding)
    assert (lean._state.db, lean._state.adding) == (orm._state.db, orm._state.adding) == ("default", False)
    return lean


def test_a_client_credentials_row_is_the_orms_with_its_client_and_no_user(client, make_client):
    _, registered = make_client(token_type="OAUTH")
    token = token_request(client, registered.ref.client_id, registered.secret.value).json()["access_token"]

    row = assert_same_row(token)

    assert row.application.client_id == registered.ref.client_id
    assert row.user is None
    assert row.scope == "default" and row.resource == [] and not row.is_expired()
    assert row.expires.tzinfo is not None and row.created.tzinfo is not None


def test_a_users_row_with_resources_is_the_orms(client, owner, owner_client, make_client):
    _, registered = make_client(token_type="OAUTH")
    code, verifier = a_code(owner_client, registered)
    token = exchange(client, registered, code, verifier).json()["access_token"]
    row = AccessToken.objects.get(token_checksum=lookup.checksum(token))
    row.resource = ["https://forecast.example.com/", "https://radar.example.com/"]
    row.save()

    row = assert_same_row(token)

    assert row.user == owner and row.user.get_username() == owner.username
    assert row.resource == ["https://forecast.example.com/", "https://radar.example.com/"]


def test_a_row_without_a_client_and_an_expired_one_read_as_the_orm_reads_them(make_client):
    # A client's deletion deletes its tokens (CASCADE), but the column may be NULL: the join misses.
    AccessToken.objects.create(
        token="",
        token_checksum=lookup.checksum("orphan"),
        application=None,
        scope="a b",
        expires=timezone.now() - datetime.timedelta(seconds=1),
    )

    row = assert_same_row("orphan")

    assert row.application is None and row.user is None and row.is_expired()


def test_a_deleted_client_takes_its_rows_with_it(client, make_client):
    oauth_client, registered = make_client(token_type="OAUTH")
    token = token_request(client, registered.ref.client_id, registered.secret.value).json()["access_token"]
    oauth_client.delete()
    assert lookup.access_token_row(token) is None and _orm_row(token) is None


def test_an_unknown_token_is_none_in_one_query():
    with CaptureQueriesContext(connection) as queries:
        assert lookup.access_token_row("no-such-token") is None
    assert len(queries) == 1
