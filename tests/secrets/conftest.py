"""Fixtures for the multiple-consumer-secrets area: an application with Resident keys."""

from __future__ import annotations

import pytest

from keymanagers.base import ADAPTERS, KeyManagerAdapter, KeyManagerError, register
from keymanagers.models import KeyManager
from keys.models import ApplicationKey, KeyType
from keys.services import keys_generate
from portal.models import Application
from tests.conftest import reseed_migration_data  # noqa: F401 (other tests import it from here)


@pytest.fixture(autouse=True)
def fresh_signing_keys():
    """The resident server caches its signing key per process; each test's database starts without
    it, so the cache must not carry a key from an earlier test."""
    from keymanagers.resident import signing

    signing.reset_caches()
    yield
    signing.reset_caches()


@pytest.fixture
def resident(db):
    """The Resident key manager with multiple secrets on and, as an admin may choose, unlimited.

    Migrations cap it at 10 secrets per key (issue 9); these tests page through more.
    """
    reseed_migration_data()  # a transactional test earlier in this worker may have flushed it
    km = KeyManager.objects.get(name="Resident")
    km.secret_count = None
    km.save(update_fields=["secret_count"])
    return km


@pytest.fixture
def application(owner):
    return Application.objects.create(owner=owner, name="Weather")


def generate(application, key_manager, *, key_type=KeyType.PRODUCTION, actor=None, **kwargs):
    """Keys made the way the keys page makes them; returns (key, first secret value)."""
    generated = keys_generate(
        application=application,
        key_type=key_type,
        key_manager=key_manager,
        config={"grant_types": ["client_credentials"]},
        actor=actor or application.owner,
        secret_description=kwargs.pop("secret_description", "first"),
        **kwargs,
    )
    return ApplicationKey.objects.select_related("key_manager").get(
        pk=generated.key.pk
    ), generated.consumer_secret


@pytest.fixture
def key_and_secret(application, resident):
    return generate(application, resident)


@pytest.fixture
def key(key_and_secret):
    return key_and_secret[0]


def url(key, suffix: str = "") -> str:
    env = "production" if key.key_type == KeyType.PRODUCTION else "sandbox"
    return f"/applications/{key.application_id}/keys/{env}/{key.pk}/secrets/{suffix}"


def api_url(key, suffix: str) -> str:
    return f"/api/am/devportal/v3/applications/{key.application_id}/oauth-keys/{key.pk}/{suffix}"


class FailingAdapter(KeyManagerAdapter):
    """A Resident look-alike whose secret calls fail, for the failure paths."""

    type = "failing-secrets"
    supports_multiple_secrets = True
    fail_create = True
    fail_delete = True

    def create_secret(self, ref, *, expires_at=None):
        ref.state = {**ref.state, "touched": "create"}
        raise KeyManagerError(self.label, "create secret", "connection refused")

    def delete_secret(self, ref, remote_id):
        ref.state = {**ref.state, "touched": "delete"}
        raise KeyManagerError(self.label, "delete secret", "connection refused")


@pytest.fixture
def failing_key_manager(db):
    register(FailingAdapter)
    km = KeyManager.objects.create(name="flaky", display_name="Flaky KM", type=FailingAdapter.type)
    yield km
    ADAPTERS.pop(FailingAdapter.type, None)
