"""Fixtures of the restricted-scope tests: two developers' applications with Resident keys, scopes."""

from __future__ import annotations

import pytest

from keymanagers.models import KeyManager
from keys import services
from keys.models import Scope
from portal.models import Application
from tests.conftest import reseed_migration_data
from tests.keys.helpers import CC_CONFIG


def make_key(application, actor, key_manager=None, key_type="PRODUCTION"):
    """Resident keys (client_credentials) for ``application``: the key and its first secret."""
    return services.keys_generate(
        application=application,
        key_type=key_type,
        key_manager=key_manager or KeyManager.objects.get(name="Resident"),
        config=CC_CONFIG,
        actor=actor,
    )


@pytest.fixture
def resident(db):
    reseed_migration_data()  # a transactional test earlier in this worker may have flushed it
    return KeyManager.objects.get(name="Resident")


@pytest.fixture
def application(owner):
    return Application.objects.create(owner=owner, name="Billing App")


@pytest.fixture
def others_application(other_developer):
    return Application.objects.create(owner=other_developer, name="Mallory's App")


@pytest.fixture
def admin_scope(db):
    """A privileged scope no application has been granted yet."""
    return Scope.objects.create(name="billing:admin", display_name="Billing admin", restricted=True)


@pytest.fixture
def open_scope(db):
    return Scope.objects.create(name="weather:read", display_name="Read weather")


@pytest.fixture(autouse=True)
def _fresh_signing_key_caches():
    """The resident server caches its signing keys per process; each test's database starts empty."""
    from keymanagers.resident import signing

    signing.reset_caches()
    yield
    signing.reset_caches()
