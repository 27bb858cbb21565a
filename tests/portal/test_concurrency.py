"""Races that only a real database shows: two requests creating the same application name at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from portal.applications import services
from portal.models import Application

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_concurrent_creations_of_one_name_make_one_application_and_one_clear_conflict(owner, monkeypatch):
    # Both threads pass the friendly "name taken?" check before either inserts; the unique
    # constraint on lower(name) must stop the second, and the service must report it as a duplicate.
    barrier = threading.Barrier(2, timeout=10)
    real_check = services.name_taken

    def check_then_wait(**kwargs):
        taken = real_check(**kwargs)
        if not taken:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the re-check after the constraint fired: nobody is waiting any more
        return taken

    monkeypatch.setattr(services, "name_taken", check_then_wait)
    outcomes: list[str] = []

    def create(name: str) -> None:
        try:
            services.application_create(owner=owner, name=name)
            outcomes.append("created")
        except services.DuplicateApplicationName:
            outcomes.append("duplicate")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("Weather App", "WEATHER APP")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Application.objects.filter(owner=owner).count() == 1
