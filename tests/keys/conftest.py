"""Fixtures of the keys tests: applications, the Resident key manager, and a fake key manager.

The fake adapter (``tests/keys/helpers.py``) is an in-memory key manager registered under a
test-only type for the failure paths a real server cannot be made to produce on demand (refusing
a step, timing out, failing to delete what it made). The happy paths use the real Resident adapter.
"""

from __future__ import annotations

import pytest

from keymanagers import base
from keymanagers.models import KeyManager
from portal.models import Application
from tests.conftest import reseed_migration_data
from tests.keys.helpers import FAKE_TYPE, FakeAdapter


@pytest.fixture
def fake_km(db):
    """An enabled key manager backed by ``FakeAdapter``; its failures are set per test."""
    base.ADAPTERS[FAKE_TYPE] = FakeAdapter
    FakeAdapter.clients = {}
    FakeAdapter.fail = {}
    FakeAdapter.calls = []
    km = KeyManager.objects.create(
        name="fake",
        display_name="Fake KM",
        type=FAKE_TYPE,
        order=50,
        available_grant_types=["client_credentials", "refresh_token", "authorization_code"],
        multiple_secrets_enabled=False,
        enable_map_oauth_consumer_apps=True,
    )
    yield km
    base.ADAPTERS.pop(FAKE_TYPE, None)


@pytest.fixture
def resident(db):
    reseed_migration_data()  # a transactional test earlier in this worker may have flushed it
    return KeyManager.objects.get(name="Resident")


@pytest.fixture
def single_secret_resident(resident):
    """The Resident key manager with multiple secrets switched off (the older behaviour)."""
    resident.multiple_secrets_enabled = False
    resident.save()
    return resident


@pytest.fixture
def application(owner):
    return Application.objects.create(owner=owner, name="Weather App", token_type="JWT")


@pytest.fixture
def opaque_application(owner):
    return Application.objects.create(owner=owner, name="Opaque App", token_type="OAUTH")


@pytest.fixture
def others_application(other_developer):
    return Application.objects.create(owner=other_developer, name="Mallory's App")


@pytest.fixture(autouse=True)
def _fresh_signing_key_caches():
    """The resident server caches its signing keys per process; each test's database starts empty."""
    from keymanagers.resident import signing

    signing.reset_caches()
    yield
    signing.reset_caches()
