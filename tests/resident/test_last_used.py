"""'Last used' at the resident server: recorded when a client authenticates, at most once a minute
per secret, never at the cost of a token request (cache down, database refusing the write)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keymanagers.base import ClientRef
from keymanagers.models import ClientSecret, OAuthClient
from keymanagers.resident import usage
from tests.resident.conftest import token_request

# A moment ahead of the clients the fixtures make (now), to the second.
T0 = timezone.now().replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def client_and_secret(make_client):
    row, registered = make_client(grant_types=["client_credentials"], callback_url="")
    return row, registered.secret


def last_used(row: OAuthClient, secret_id) -> tuple:
    row.refresh_from_db()
    return row.last_used_at, ClientSecret.objects.get(pk=secret_id).last_used_at


def updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_a_token_request_records_when_the_secret_and_its_client_were_used(client, client_and_secret):
    row, secret = client_and_secret
    assert last_used(row, secret.remote_id) == (None, None)

    with time_machine.travel(T0, tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200

    assert last_used(row, secret.remote_id) == (T0, T0)


def test_only_the_secret_that_authenticated_is_marked(client, client_and_secret, adapter):
    row, first = client_and_secret
    second = adapter.create_secret(ClientRef(row.client_id))

    with time_machine.travel(T0, tick=False):
        assert token_request(client, row.client_id, second.value).status_code == 200

    assert last_used(row, second.remote_id) == (T0, T0)
    assert ClientSecret.objects.get(pk=first.remote_id).last_used_at is None


def test_uses_within_a_minute_write_once_and_the_next_minute_writes_again(client, client_and_secret):
    row, secret = client_and_secret
    with time_machine.travel(T0, tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200
    with time_machine.travel(T0 + timedelta(seconds=50), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert token_request(client, row.client_id, secret.value).status_code == 200
        assert updates(queries) == []  # throttled by the cache marker: no write at all
    assert last_used(row, secret.remote_id) == (T0, T0)

    later = T0 + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        # Redis (CI) expires the marker by its own clock, which time-machine does not move: expire
        # it as Redis would a minute later. The in-memory cache follows the travelled clock.
        from django.core.cache import cache

        marker = usage._marker(row.pk, secret.remote_id)
        if cache.get(marker) is not None:
            cache.delete(marker)
        assert token_request(client, row.client_id, secret.value).status_code == 200
    assert last_used(row, secret.remote_id) == (later, later)


def test_a_busy_client_costs_no_cache_or_database_call_within_the_minute(
    client, client_and_secret, monkeypatch
):
    row, secret = client_and_secret
    with time_machine.travel(T0, tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200

    def unexpected(*args, **kwargs):
        raise AssertionError("the process's own memory should have answered")

    monkeypatch.setattr(usage.cache, "get", unexpected)
    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        with CaptureQueriesContext(connection) as queries:
            usage.record_use(row, secret.remote_id)
    assert updates(queries) == []


def test_without_the_cache_marker_the_update_itself_throttles(client, client_and_secret):
    # Another worker with its own cache, or a cache that was emptied: still one write a minute.
    from django.core.cache import cache

    row, secret = client_and_secret
    with time_machine.travel(T0, tick=False):
        token_request(client, row.client_id, secret.value)
    cache.clear()
    usage._recent.clear()  # and a process that did not record it itself
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200
    assert last_used(row, secret.remote_id) == (T0, T0)


def test_a_failing_cache_neither_fails_the_request_nor_stops_the_record(
    client, client_and_secret, monkeypatch
):
    row, secret = client_and_secret

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(usage.cache, "get", down)
    monkeypatch.setattr(usage.cache, "set", down)
    with time_machine.travel(T0, tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200
    usage._recent.clear()  # another process: only the UPDATE's condition is left to throttle
    with time_machine.travel(T0 + timedelta(seconds=20), tick=False):
        assert token_request(client, row.client_id, secret.value).status_code == 200

    assert last_used(row, secret.remote_id) == (T0, T0)


def test_a_database_refusing_the_write_does_not_fail_the_token_request(
    client, client_and_secret, monkeypatch
):
    row, secret = client_and_secret

    class Refusing:
        def filter(self, *args, **kwargs):
            return self

        def update(self, **kwargs):
            raise DatabaseError("disk full")

    class RefusingSecrets:
        objects = Refusing()

    monkeypatch.setattr(usage, "ClientSecret", RefusingSecrets)
    response = token_request(client, row.client_id, secret.value)

    assert response.status_code == 200 and response.json()["access_token"]
    assert OAuthClient.objects.get(pk=row.pk).last_used_at is None  # nothing half-written


def test_a_wrong_or_expired_secret_records_nothing(client, client_and_secret, adapter):
    row, secret = client_and_secret
    expiring = adapter.create_secret(ClientRef(row.client_id), expires_at=T0 + timedelta(hours=1))

    assert token_request(client, row.client_id, "dps_wrong").status_code == 401
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert token_request(client, row.client_id, expiring.value).status_code == 401

    assert last_used(row, secret.remote_id) == (None, None)
    assert ClientSecret.objects.get(pk=expiring.remote_id).last_used_at is None


def test_tokens_the_portal_asks_for_itself_are_not_use(client_and_secret, adapter):
    row, secret = client_and_secret

    token = adapter.issue_token(ClientRef(row.client_id), client_secret=secret.value, scopes=[])

    assert token.access_token
    assert last_used(row, secret.remote_id) == (None, None)


def test_the_adapter_reports_last_use(client, client_and_secret, adapter, make_client):
    row, secret = client_and_secret
    assert adapter.reports_last_use
    with time_machine.travel(T0, tick=False):
        token_request(client, row.client_id, secret.value)

    other, _ = make_client(name="Never used", grant_types=["client_credentials"], callback_url="")

    report = adapter.last_used([ClientRef(row.client_id), ClientRef(other.client_id), ClientRef("gone")])

    assert set(report) == {row.client_id, other.client_id}
    assert report[row.client_id].client == T0
    assert report[row.client_id].secrets == {secret.remote_id: T0}
    assert report[other.client_id].client is None
    assert list(report[other.client_id].secrets.values()) == [None]


def test_a_public_client_is_marked_used_when_it_redeems_a_code(client, owner_client, make_client):
    from tests.resident.conftest import CALLBACK, authorize, pkce_pair

    row, registered = make_client(public_client=True)
    verifier, challenge = pkce_pair()

    with time_machine.travel(T0, tick=False):
        query, _ = authorize(owner_client, registered.ref.client_id, challenge=challenge)
        answer = client.post(
            "/oauth2/token",
            {
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
                "client_id": registered.ref.client_id,
            },
        )

    assert answer.status_code == 200, answer.content
    row.refresh_from_db()
    assert row.last_used_at == T0
