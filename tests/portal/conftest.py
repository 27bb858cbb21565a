"""Fixtures for the applications domain: applications, API tokens, a key manager that fails."""

from __future__ import annotations

import pytest
from django.test import Client

from keymanagers import base
from keymanagers.models import KeyManager
from keys.models import ApplicationKey, KeyType
from portal.applications import services

API = "/api/am/devportal/v3"


@pytest.fixture
def make_application():
    def make(owner, name="Weather App", **kwargs):
        return services.application_create(owner=owner, name=name, **kwargs)

    return make


@pytest.fixture
def application(owner, make_application):
    return make_application(owner, "Weather App", description="Forecasts for the demo")


@pytest.fixture
def owner_token(owner):
    """A personal API token of the owner: (row, value)."""
    return services.api_token_create(user=owner, name="ci", days=30)


@pytest.fixture
def token_client(owner_token):
    """A script calling the API with the owner's personal token and no session."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {owner_token[1]}", enforce_csrf_checks=True)


class RecordingAdapter(base.KeyManagerAdapter):
    """A key manager that deletes clients (and remembers which); ``fail`` makes it unreachable."""

    type = "test-recording"
    deleted: list[str] = []
    fail = False

    def delete_client(self, ref):
        if self.fail:
            raise self.error("delete client", "connection refused")
        RecordingAdapter.deleted.append(ref.client_id)


@pytest.fixture
def recording_key_manager(db, monkeypatch):
    monkeypatch.setitem(base.ADAPTERS, RecordingAdapter.type, RecordingAdapter)
    monkeypatch.setattr(RecordingAdapter, "deleted", [])
    monkeypatch.setattr(RecordingAdapter, "fail", False)
    return KeyManager.objects.create(name="remote-idp", display_name="Remote IdP", type=RecordingAdapter.type)


@pytest.fixture
def make_key(recording_key_manager):
    def make(application, key_type=KeyType.PRODUCTION, consumer_key=None, key_manager=None):
        return ApplicationKey.objects.create(
            application=application,
            key_type=key_type,
            key_manager=key_manager or recording_key_manager,
            consumer_key=consumer_key or f"ck-{application.pk.hex[:8]}-{key_type.lower()}",
            supported_grant_types=["client_credentials"],
        )

    return make
