"""Redis as a real part: sign-in works with Redis up, down and hung; /healthz reports the cache.

Redis up needs a real server: the test uses REDIS_URL (CI sets it: `.ci/run` points the whole suite
at 127.0.0.1:6379/15). Down is a closed port; hung is a server that accepts and never answers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import pytest
import redis
from django.conf import settings as django_settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal import cache as portal_cache
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _caches(location: str) -> dict:
    # As portal/settings.py builds them for REDIS_URL.
    return {
        "default": {
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "redis-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "OPTIONS": {
                "socket_connect_timeout": 0.5,
                "socket_timeout": 0.5,
                "retry": Retry(NoBackoff(), 0),
            },
        }
    }


@pytest.fixture(autouse=True)
def _fresh_pause():
    portal_cache._down_until.clear()
    yield
    portal_cache._down_until.clear()


@pytest.fixture
def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def hung_port():
    """Accepts connections (the backlog does) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _sign_in(client, password=PASSWORD):
    return client.post("/accounts/login/", {"username": "alice", "password": password})


def test_sign_in_counts_failures_in_redis_when_it_is_up(client, owner, settings):
    url = os.environ.get("REDIS_URL") or pytest.skip("needs REDIS_URL (CI sets it)")
    settings.CACHES = _caches(url)
    from django.core.cache import cache

    cache.clear()
    _sign_in(client, "wrong")
    raw = redis.Redis.from_url(url)
    assert any(b"signin-failures" in key for key in raw.scan_iter(match="redis-test-*"))

    assert _sign_in(client).status_code == 302
    assert client.get("/healthz").json()["cache"] == "ok"
    cache.clear()


def test_sign_in_works_with_redis_down_and_logs_one_warning(client, owner, settings, closed_port, caplog):
    settings.CACHES = _caches(f"redis://127.0.0.1:{closed_port}/0")

    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        wrong = _sign_in(client, "wrong")
        right = _sign_in(client)

    assert wrong.status_code == 200  # the form's own error, not a 500
    assert "Please enter a correct username and password" in wrong.content.decode()
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)
    warnings = [r for r in caplog.records if r.name == "portal.cache"]
    assert len(warnings) == 1  # then Redis is left alone for REDIS_RETRY_SECONDS
    assert "Redis unavailable" in warnings[0].getMessage()
    assert str(closed_port) not in warnings[0].getMessage()


def test_healthz_reports_a_redis_outage_as_degraded(client, settings, closed_port):
    settings.CACHES = _caches(f"redis://127.0.0.1:{closed_port}/0")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unreachable"}


def test_the_limited_endpoints_keep_answering_with_redis_down(client, owner, settings, closed_port):
    settings.CACHES = _caches(f"redis://127.0.0.1:{closed_port}/0")
    settings.PORTAL_RATELIMIT_OAUTH_CLIENT = "1/m"

    statuses = [
        client.post("/oauth2/token", {"grant_type": "client_credentials"}).status_code for _ in range(3)
    ]
    reset = client.post("/accounts/password/reset/", {"email": owner.email})

    assert statuses == [401, 401, 401]  # the limit is skipped (fail open), nothing answers 500
    assert reset.status_code == 302


def test_sign_in_with_redis_hung_costs_one_short_timeout_not_one_per_request(
    client, owner, settings, hung_port
):
    settings.CACHES = _caches(f"redis://127.0.0.1:{hung_port}/0")
    assert django_settings.REDIS_RETRY_SECONDS >= 5

    started = time.monotonic()
    first = _sign_in(client, "wrong")
    first_took = time.monotonic() - started
    started = time.monotonic()
    second = _sign_in(client)
    second_took = time.monotonic() - started

    assert first.status_code == 200
    assert second.status_code == 302
    assert first_took < 2.0  # one 0.5 s timeout, then Redis is paused
    assert second_took < 0.5


def test_healthz_reports_a_hung_redis_within_the_timeout(client, settings, hung_port):
    settings.CACHES = _caches(f"redis://127.0.0.1:{hung_port}/0")

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 2.0
    assert response.json()["cache"] == "unreachable"
