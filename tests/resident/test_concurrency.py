"""Races only a real database shows: two rotations of the signing key at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from keymanagers.models import SigningKey
from keymanagers.resident import signing

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_two_rotations_at_once_leave_exactly_one_active_key(monkeypatch):
    signing.active_key()
    first = SigningKey.objects.get()
    real_create = signing._create_key

    def slow_create(algorithm):
        # Widen the window between retiring the old key and creating the new one.
        time.sleep(0.3)
        return real_create(algorithm)

    monkeypatch.setattr(signing, "_create_key", slow_create)
    errors: list[BaseException] = []

    def rotate():
        try:
            signing.rotate()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert SigningKey.objects.count() == 3
    assert SigningKey.objects.filter(state=SigningKey.State.ACTIVE).count() == 1
    first.refresh_from_db()
    assert first.state == SigningKey.State.RETIRED
    # Every key is still published: tokens signed by any of them keep verifying.
    assert len(signing.jwks()["keys"]) == 3
