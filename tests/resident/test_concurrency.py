"""Races only a real database shows: two rotations of the signing key at once, one code redeemed
twice at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from oauth2_provider.models import AccessToken

from keymanagers.models import SigningKey
from keymanagers.resident import signing
from keymanagers.resident.validator import ResidentValidator
from tests.resident.test_authorization_code import exchange
from tests.resident.test_code_exchange import a_code
from tests.secrets.conftest import reseed_migration_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    # An earlier transactional test in this worker may have flushed the migrations' rows.
    reseed_migration_data()


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


def test_one_code_redeemed_twice_at_once_gives_one_answer_and_no_live_token(
    monkeypatch, make_client, owner_client
):
    _, registered = make_client()
    code, verifier = a_code(owner_client, registered)
    real_save = ResidentValidator.save_bearer_token

    def slow_save(self, token, request, *args, **kwargs):
        # Both requests pass validate_code before either deletes the code.
        saved = real_save(self, token, request, *args, **kwargs)
        time.sleep(0.3)
        return saved

    monkeypatch.setattr(ResidentValidator, "save_bearer_token", slow_save)
    answers: list = []

    def redeem():
        try:
            answers.append(exchange(Client(), registered, code, verifier))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    assert [a.json()["error"] for a in answers if a.status_code == 400] == ["invalid_grant"]
    # A code used twice is a stolen code: neither request keeps a working token.
    assert not AccessToken.objects.exists()
