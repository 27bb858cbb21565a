"""A race only a real database shows: one client name registered by two requests at once."""

from __future__ import annotations

import secrets
import threading
from types import SimpleNamespace

import pytest
from django.db import connection, connections

from keymanagers.models import OAuthClient
from portal.apiclients import services
from portal.apiclients.models import ApiClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_two_first_registrations_of_one_name_make_one_client_with_two_valid_secrets(owner, monkeypatch):
    # Both requests find no client of that name before either inserts: the unique constraint stops
    # the second, which then registers again instead of failing.
    barrier = threading.Barrier(2, timeout=10)

    def new_client_id(nbytes):
        barrier.wait()  # called only when the lookup found nothing
        return secrets.token_urlsafe(nbytes)

    monkeypatch.setattr(services, "secrets", SimpleNamespace(token_urlsafe=new_client_id))
    answers: list = []

    def register() -> None:
        try:
            answers.append(
                services.api_client_register(
                    owner=owner,
                    client_name="ci",
                    callback_url="",
                    grant_types=["client_credentials"],
                    saas_app=False,
                ).as_reference_json()
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(answers) == 2
    assert answers[0]["clientId"] == answers[1]["clientId"]
    assert ApiClient.objects.filter(owner=owner).count() == 1
    assert OAuthClient.objects.filter(api_client=True).count() == 1
    assert OAuthClient.objects.get(api_client=True).secrets.count() == 2
