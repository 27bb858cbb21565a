"""A connection the database dropped between requests is replaced, not used (PostgreSQL).

The portal keeps connections open between requests and checks each before a request's first
query (``portal/postgresql``): without a round trip when the idle connection received nothing,
with Django's ``SELECT 1`` when it did. A restart or ``pg_terminate_backend`` is the case that
matters: the next request must reconnect rather than fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend's health check (set DATABASE_URL)")


@contextlib.contextmanager
def _other_connection():
    other = connection.copy()
    try:
        yield other
    finally:
        other.close()


def _wait_until_gone(cursor, pid: int) -> None:
    """pg_terminate_backend only signals the session: wait until it has said goodbye and exited."""
    for _ in range(100):
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        if cursor.fetchone()[0] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"session {pid} did not exit")


def _health() -> tuple[int, dict]:
    """GET /healthz through Django's WSGI handler, as a server runs it: with the request signals
    that close or check the kept connection (the test client turns those off)."""
    statuses = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    try:
        return int(statuses[0].split()[0]), json.loads(b"".join(response))
    finally:
        response.close()


def test_the_first_request_after_the_database_dropped_the_connection_reconnects():
    assert _health()[0] == 200
    kept = connection.connection.info.backend_pid  # the connection the request left open

    with _other_connection() as other, other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [kept])
        _wait_until_gone(cursor, kept)

    status, body = _health()
    assert (status, body["database"]) == (200, "ok")
    assert connection.connection.info.backend_pid != kept


def test_an_untouched_idle_connection_is_judged_without_a_query_and_a_dropped_one_with_one(monkeypatch):
    selects = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        selects.append(1)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    with _other_connection() as other:
        other.ensure_connection()
        assert other.is_usable() is True
        assert selects == []  # nothing arrived on the socket: no SELECT 1

        pid = other.connection.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            _wait_until_gone(cursor, pid)
        # The server's goodbye (an error, then the end of the stream) is on the socket now.
        assert other.is_usable() is False
        assert selects == [1]  # Django's SELECT 1 decided
