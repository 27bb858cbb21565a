"""Concurrent Generate Keys requests for the same environment: exactly one key, no stray clients."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from keymanagers.models import KeyManager, OAuthClient
from keys import services
from keys.errors import KeysConflict
from keys.models import ApplicationKey
from portal.models import Application
from tests.keys.helpers import CC_CONFIG

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_generation_makes_one_key_and_removes_the_extra_clients(owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent transactions)")
    # Transactional tests flush the tables, taking the migrations' rows with them.
    resident, _ = KeyManager.objects.get_or_create(
        name="Resident",
        defaults={
            "display_name": "Resident Key Manager",
            "type": "resident",
            "order": 0,
            "available_grant_types": ["client_credentials", "refresh_token", "authorization_code"],
        },
    )
    application = Application.objects.create(owner=owner, name="Race App")
    workers = 6
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            # Past the early "already exists" check all at once, as simultaneous requests would be.
            try:
                services.keys_generate(
                    application=application,
                    key_type="PRODUCTION",
                    key_manager=resident,
                    config=CC_CONFIG,
                    actor=owner,
                )
                result = "created"
            except KeysConflict:
                result = "conflict"
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict"] * (workers - 1) + ["created"], outcomes
    key = ApplicationKey.objects.get()
    assert list(OAuthClient.objects.values_list("client_id", flat=True)) == [key.consumer_key]


def test_concurrent_mapping_of_one_client_by_several_applications_keeps_one(owner, fake_km, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent transactions)")
    from tests.keys.helpers import FakeAdapter

    workers = 5
    applications = [Application.objects.create(owner=owner, name=f"Mapper {n}") for n in range(workers)]
    barrier = threading.Barrier(workers)
    real = FakeAdapter.map_client

    def map_client(self, client_id, client_secret="", state=None):
        # Every request is past the "already used" check before any of them saves.
        barrier.wait()
        return real(self, client_id, client_secret, state)

    monkeypatch.setattr(FakeAdapter, "map_client", map_client)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(application):
        try:
            try:
                services.keys_map(
                    application=application,
                    key_type="PRODUCTION",
                    key_manager=fake_km,
                    consumer_key="shared-client",
                    consumer_secret="right-secret",
                    actor=owner,
                )
                result = "mapped"
            except KeysConflict as exc:
                result = "in use" if "already used by an application" in exc.description else repr(exc)
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(app,)) for app in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["in use"] * (workers - 1) + ["mapped"], outcomes
    key = ApplicationKey.objects.get()
    assert key.consumer_key == "shared-client"
    assert key.secrets.count() == 1
