"""/healthz: 200 when the database answers, 503 when it does not; reachable over plain HTTP."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from django.test import Client

# The cache's state when it works: Redis in CI's Redis run, else the per-process memory cache.
CACHE = "ok" if settings.REDIS_URL else "local"


@pytest.mark.django_db
def test_healthz_reports_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": CACHE}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_head_requests_from_load_balancers(client):
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise OperationalError(
            'connection to server at "db" failed: password authentication failed for "portal"'
        )

    monkeypatch.setattr(type(connections["default"]), "cursor", unreachable)
    with caplog.at_level(logging.ERROR, logger="portal.health"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "cache": CACHE}
    assert "database unreachable" in caplog.text
    # The driver's message can name hosts and users: it stays out of the response and the log.
    assert "password authentication" not in caplog.text
    assert "password authentication" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_is_exempt_from_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client loads the middleware with the changed setting

    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
