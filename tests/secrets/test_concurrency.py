"""The secret limit and the last-secret guard hold when many requests arrive at once (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from keymanagers.models import ClientSecret, KeyManager
from keys.models import ConsumerSecret
from keys.secrets import reminders, rules, services
from portal.models import Application
from tests.secrets.conftest import generate, reseed_migration_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


@pytest.fixture(autouse=True)
def needs_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")
    reseed_migration_data()


def run_at_once(target, n=THREADS):
    """Run ``target(i)`` in ``n`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected, asserted by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def limited_key(owner):
    km = KeyManager.objects.get(name="Resident")
    km.secret_count = 4
    km.save()
    application = Application.objects.create(owner=owner, name="Busy")
    key, _ = generate(application, km)
    return key


def test_concurrent_creates_make_exactly_the_limit(limited_key, owner):
    results = run_at_once(lambda i: services.secret_create(key=limited_key, description=f"t{i}", actor=owner))

    made = [r for r in results if isinstance(r, services.CreatedSecret)]
    refused = [r for r in results if isinstance(r, rules.SecretLimitReached)]
    assert len(made) == 3  # 1 existing + 3 new = secret_count 4
    assert len(refused) == THREADS - 3
    assert ConsumerSecret.objects.filter(key=limited_key).count() == 4
    assert not ConsumerSecret.objects.filter(key=limited_key, secret_hash="").exists()  # no reservation left
    assert ClientSecret.objects.filter(client__client_id=limited_key.consumer_key).count() == 4


def test_concurrent_deletes_always_leave_one_valid_secret(limited_key, owner):
    for i in range(3):
        services.secret_create(key=limited_key, description=f"s{i}", actor=owner)
    secrets = list(ConsumerSecret.objects.filter(key=limited_key))
    assert len(secrets) == 4

    results = run_at_once(
        lambda i: services.secret_delete(key=limited_key, secret=secrets[i % 4], actor=owner), n=8
    )

    assert not [r for r in results if r is not None and not isinstance(r, rules.LastSecret)]
    assert ConsumerSecret.objects.filter(key=limited_key).count() == 1
    assert ClientSecret.objects.filter(client__client_id=limited_key.consumer_key).count() == 1


def test_concurrent_reminder_runs_email_each_secret_once(limited_key, owner):
    for i in range(3):
        services.secret_create(
            key=limited_key, description=f"s{i}", expires_at=timezone.now() + timedelta(days=2), actor=owner
        )

    results = run_at_once(lambda i: reminders.secrets_notify_expiring(days=14), n=6)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.secrets for r in results) == 3
    assert sum(r.emails for r in results) == len(mail.outbox)
    listed = [line for m in mail.outbox for line in m.body.splitlines() if "Description:" in line]
    assert sorted(listed) == sorted(f"  Description: s{i}" for i in range(3))
    assert not ConsumerSecret.objects.filter(
        key=limited_key, expires_at__isnull=False, reminder_sent_at=None
    ).exists()
