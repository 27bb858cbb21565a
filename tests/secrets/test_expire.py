"""Expired secrets are deleted at key managers that do not refuse them by themselves (Okta).

The Okta simulator keeps secrets working until they are deactivated and deleted, like Okta does,
so every test can first see the gap (an expired secret still gets a token) and then see it closed.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from keymanagers.base import ADAPTERS, ClientRef, KeyManagerAdapter, KeyManagerError, adapter_for, register
from keymanagers.models import ClientSecret, KeyManager
from keys import secret_services as services
from keys.models import ApplicationKey, ConsumerSecret, KeyType
from portal.models import Application, AuditEvent
from tests.external.conftest import make_okta_key_manager, okta_key_manager, okta_sim  # noqa: F401
from tests.secrets.conftest import generate, reseed_migration_data
from tests.secrets.test_concurrency import run_at_once

pytestmark = pytest.mark.django_db

DEACTIVATE = "/lifecycle/deactivate"


def okta_key(application, km, *, first_expires_in: timedelta | None = None):
    """A key at Okta: its first secret (never expiring unless told) and that secret's value."""
    expires_at = timezone.now() + first_expires_in if first_expires_in else None
    return generate(application, km, secret_expires_at=expires_at, scopes=["default"])


def authenticates(km, key, value: str) -> bool:
    """Whether the key manager still accepts ``value`` as the key's secret (asks for a token)."""
    try:
        adapter_for(km).issue_token(
            ClientRef(key.consumer_key, key.get_remote_state()), client_secret=value, scopes=["read"]
        )
    except KeyManagerError:
        return False
    return True


def remote_secret_ids(sim, key) -> set[str]:
    return {s.id for s in sim.clients[key.consumer_key].secrets}


@pytest.fixture
def okta_key_with_expiring_secret(application, okta_key_manager, owner):  # noqa: F811
    """An Okta key with a secret that never expires and one that expires in a day."""
    key, first_value = okta_key(application, okta_key_manager)
    expiring, expiring_value = services.secret_create(
        key=key, description="CI runner", expires_at=timezone.now() + timedelta(days=1), actor=owner
    )
    return key, expiring, expiring_value, first_value


def test_an_expired_okta_secret_is_deactivated_and_deleted_at_okta_and_locally(
    okta_key_with_expiring_secret,
    okta_sim,  # noqa: F811
    okta_key_manager,  # noqa: F811
):
    key, expiring, expiring_value, first_value = okta_key_with_expiring_secret
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert authenticates(okta_key_manager, key, expiring_value)  # Okta knows nothing of our expiry

        result = services.secrets_expire()

        assert (result.expired, result.already_gone, result.failures) == (1, 0, [])
        app_secrets = f"/api/v1/apps/{key.consumer_key}/credentials/secrets/{expiring.remote_id}"
        assert [s.path for s in okta_sim.sent("POST", DEACTIVATE)] == [f"{app_secrets}{DEACTIVATE}"]
        assert [s.path for s in okta_sim.sent("DELETE", "/credentials/secrets/")] == [app_secrets]
        assert expiring.remote_id not in remote_secret_ids(okta_sim, key)
        assert not ConsumerSecret.objects.filter(pk=expiring.pk).exists()
        assert not authenticates(okta_key_manager, key, expiring_value)
        # The key's other secret is untouched and still works.
        assert ConsumerSecret.objects.filter(key=key).count() == 1
        assert authenticates(okta_key_manager, key, first_value)


def test_the_deletion_is_audited_without_any_value(okta_key_with_expiring_secret):
    key, expiring, expiring_value, first_value = okta_key_with_expiring_secret
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        services.secrets_expire()

    event = AuditEvent.objects.get(action="secret.expire")
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.actor is None
    assert (event.secret_id, event.key_mapping_id, event.application_id) == (
        expiring.pk,
        key.pk,
        key.application_id,
    )
    assert event.detail["description"] == "CI runner"
    assert event.detail["key_manager"] == "okta"
    assert event.detail["remote"] == "deleted"
    assert event.detail["expires_at"] == expiring.expires_at.isoformat()
    assert "last secret" in event.detail["note"] and "must stop working" in event.detail["note"]
    stored = str(event.detail)
    assert expiring_value not in stored and first_value not in stored
    assert expiring.secret_hash not in stored


def test_unexpired_secrets_are_left_alone(okta_key_with_expiring_secret, okta_sim):  # noqa: F811
    key, expiring, expiring_value, first_value = okta_key_with_expiring_secret
    before = remote_secret_ids(okta_sim, key)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        result = services.secrets_expire()

    assert (result.expired, result.failures) == (0, [])
    assert okta_sim.sent("POST", DEACTIVATE) == []
    assert remote_secret_ids(okta_sim, key) == before
    assert ConsumerSecret.objects.filter(key=key).count() == 2
    assert not AuditEvent.objects.filter(action="secret.expire").exists()


def test_an_expired_last_secret_is_deleted_too(application, okta_key_manager, okta_sim):  # noqa: F811
    # Okta refuses to deactivate a client's only active secret. Here the key's last secret in the
    # portal expires while a second one, made in Okta's admin console, keeps Okta willing.
    key, value = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    okta_sim.clients[key.consumer_key].secrets.append(
        type(okta_sim.clients[key.consumer_key].secrets[0])(id="ocsbyhand", value="made-in-okta-console")
    )
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        result = services.secrets_expire()

    assert (result.expired, result.failures) == (1, [])
    assert not ConsumerSecret.objects.filter(key=key).exists()
    assert not authenticates(okta_key_manager, key, value)
    assert "last secret" in AuditEvent.objects.get(action="secret.expire").detail["note"]


def test_when_okta_refuses_to_deactivate_the_only_active_secret_it_is_reported_and_kept(
    application,
    okta_key_manager,  # noqa: F811
):
    key, value = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        result = services.secrets_expire()

    assert result.expired == 0
    [failure] = result.failures
    assert failure.secret_id == str(ConsumerSecret.objects.get(key=key).pk)
    assert failure.key_manager == "Okta"
    assert "only active secret" in failure.error
    # Still working at Okta, so still listed in the portal (and retried next run).
    assert ConsumerSecret.objects.filter(key=key).count() == 1
    assert not AuditEvent.objects.filter(action="secret.expire").exists()


def test_a_secret_already_deleted_at_okta_is_removed_locally(
    okta_key_with_expiring_secret,
    okta_sim,  # noqa: F811
):
    key, expiring, _value, _first = okta_key_with_expiring_secret
    okta_sim.clients[key.consumer_key].secrets = [
        s for s in okta_sim.clients[key.consumer_key].secrets if s.id != expiring.remote_id
    ]
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        result = services.secrets_expire()

    assert (result.expired, result.failures) == (1, [])
    assert not ConsumerSecret.objects.filter(pk=expiring.pk).exists()
    assert AuditEvent.objects.filter(action="secret.expire", secret_id=expiring.pk).exists()


class GoneAdapter(KeyManagerAdapter):
    """A key manager that answers 404 for every secret, as the interface says a missing one does."""

    type = "gone-secrets"

    def delete_secret(self, ref, remote_id):
        raise KeyManagerError(self.label, "delete secret", "no such secret", status=404)


@pytest.fixture
def gone_key_manager(db):
    register(GoneAdapter)
    yield KeyManager.objects.create(name="gone", display_name="Gone KM", type=GoneAdapter.type)
    ADAPTERS.pop(GoneAdapter.type, None)


def test_a_404_from_the_key_manager_counts_as_already_gone(application, gone_key_manager):
    key = ApplicationKey.objects.create(
        application=application, key_type=KeyType.PRODUCTION, key_manager=gone_key_manager, consumer_key="c1"
    )
    secret = ConsumerSecret.objects.create(
        key=key, remote_id="r1", secret_hash="h" * 64, expires_at=timezone.now() - timedelta(minutes=1)
    )

    result = services.secrets_expire()

    assert (result.expired, result.already_gone, result.failures) == (1, 1, [])
    assert not ConsumerSecret.objects.filter(pk=secret.pk).exists()
    assert AuditEvent.objects.get(action="secret.expire").detail["remote"] == "already deleted"


def test_expired_secrets_at_a_key_manager_that_cannot_delete_them_are_counted(application, db):
    km = KeyManager.objects.create(name="dcr", display_name="DCR", type=KeyManager.Type.OIDC_DCR)
    key = ApplicationKey.objects.create(
        application=application, key_type=KeyType.PRODUCTION, key_manager=km, consumer_key="c2"
    )
    secret = ConsumerSecret.objects.create(
        key=key, secret_hash="h" * 64, expires_at=timezone.now() - timedelta(minutes=1)
    )

    result = services.secrets_expire()

    assert (result.expired, result.unenforceable, result.failures) == (0, 1, [])
    assert ConsumerSecret.objects.filter(pk=secret.pk).exists()
    out = StringIO()
    call_command("expire_secrets", stdout=out)
    assert (
        "1 expired secrets are at key managers that can neither enforce expiry nor delete" in out.getvalue()
    )


def test_resident_secrets_are_left_to_the_resident_server(key, owner):
    expiring, value = services.secret_create(
        key=key, description="short", expires_at=timezone.now() + timedelta(hours=1), actor=owner
    )
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        result = services.secrets_expire()

    assert (result.expired, result.unenforceable, result.failures) == (0, 0, [])
    assert ConsumerSecret.objects.filter(pk=expiring.pk).exists()
    assert ClientSecret.objects.filter(pk=expiring.remote_id).exists()


def test_a_dry_run_counts_and_changes_nothing(okta_key_with_expiring_secret, okta_sim):  # noqa: F811
    key, expiring, value, _first = okta_key_with_expiring_secret
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        result = services.secrets_expire(dry_run=True)

        assert (result.expired, result.failures) == (1, [])
        assert okta_sim.sent("POST", DEACTIVATE) == [] and okta_sim.sent("DELETE") == []
        assert ConsumerSecret.objects.filter(pk=expiring.pk).exists()
        assert not AuditEvent.objects.filter(action="secret.expire").exists()
        assert authenticates(key.key_manager, key, value)


def test_a_failing_key_manager_is_reported_and_the_others_still_processed(
    owner,
    okta_key_manager,  # noqa: F811
    okta_sim,  # noqa: F811
):
    broken_km = make_okta_key_manager(okta_sim, name="okta-b", display_name="Okta B")
    now = timezone.now()
    keys = {}
    for km, expires_in in [(broken_km, timedelta(hours=1)), (okta_key_manager, timedelta(hours=2))]:
        application = Application.objects.create(owner=owner, name=f"App at {km.name}")
        key, _ = okta_key(application, km)
        secret, value = services.secret_create(key=key, expires_at=now + expires_in, actor=owner)
        keys[km.name] = (key, secret, value)
    # Okta B's API token is revoked after the keys were made: its secrets cannot be deleted.
    broken_km.set_credentials({"api_token": "revoked"})
    broken_km.save()

    with time_machine.travel(now + timedelta(hours=3)):
        result = services.secrets_expire()

    broken_key, broken_secret, broken_value = keys["okta-b"]
    [failure] = result.failures
    assert (failure.secret_id, failure.key_id, failure.key_manager) == (
        str(broken_secret.pk),
        str(broken_key.pk),
        "Okta B",
    )
    assert "Invalid token provided" in failure.error
    assert ConsumerSecret.objects.filter(pk=broken_secret.pk).exists()  # kept: it still works there
    assert broken_secret.remote_id in remote_secret_ids(okta_sim, broken_key)

    key, secret, value = keys["okta"]
    assert result.expired == 1
    assert not ConsumerSecret.objects.filter(pk=secret.pk).exists()
    assert secret.remote_id not in remote_secret_ids(okta_sim, key)
    assert list(AuditEvent.objects.filter(action="secret.expire").values_list("secret_id", flat=True)) == [
        secret.pk
    ]


def test_a_run_after_a_failure_retries_the_kept_secret(
    okta_key_with_expiring_secret,
    okta_sim,  # noqa: F811
):
    key, expiring, _value, _first = okta_key_with_expiring_secret
    okta_sim.fail("POST", DEACTIVATE, status=503, body={"errorCode": "E0000009", "errorSummary": "Busy"})
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        first = services.secrets_expire()
        second = services.secrets_expire()

    assert (first.expired, len(first.failures)) == (0, 1)
    assert (second.expired, second.failures) == (1, [])
    assert not ConsumerSecret.objects.filter(pk=expiring.pk).exists()
    assert expiring.remote_id not in remote_secret_ids(okta_sim, key)


def test_no_transaction_is_open_while_okta_is_called(okta_key_with_expiring_secret, okta_sim):  # noqa: F811
    key, expiring, _value, _first = okta_key_with_expiring_secret
    outside = len(connection.atomic_blocks)  # the test's own transaction(s)
    seen: list[tuple[int, bool]] = []
    original = okta_sim.handle

    def handle(request):
        seen.append((len(connection.atomic_blocks), ConsumerSecret.objects.filter(pk=expiring.pk).exists()))
        return original(request)

    okta_sim.transport.handler = handle
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        services.secrets_expire()

    # Each call happens after the claim committed (the row is already gone) and outside any atomic block.
    assert seen and seen == [(outside, False)] * len(seen)


def test_the_command_reports_what_it_did(okta_key_with_expiring_secret):
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        out = StringIO()
        call_command("expire_secrets", "--dry-run", stdout=out)
        assert out.getvalue() == "Would delete 1 expired secrets (dry run: nothing changed).\n"
        assert ConsumerSecret.objects.count() == 2

        out = StringIO()
        call_command("expire_secrets", stdout=out)
        assert out.getvalue() == "Deleted 1 expired secrets.\n"
        assert ConsumerSecret.objects.count() == 1


def test_the_command_fails_with_the_failures_listed(application, okta_key_manager):  # noqa: F811
    key, _ = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    secret = ConsumerSecret.objects.get(key=key)
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        with pytest.raises(CommandError, match="1 expired secrets could not be deleted"):
            call_command("expire_secrets", stdout=out)

    assert f"secret {secret.pk} of key {key.pk} at Okta:" in out.getvalue()
    assert "only active secret" in out.getvalue()


def test_the_command_help_says_to_run_it_hourly_from_cron():
    from keys.management.commands.expire_secrets import Command

    assert "cron" in Command.help and "hourly" in Command.help


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_delete_each_secret_once(owner, okta_key_manager, okta_sim):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")
    reseed_migration_data()
    now = timezone.now()
    expiring = []
    for i in range(4):
        application = Application.objects.create(owner=owner, name=f"App {i}")
        key, _ = okta_key(application, okta_key_manager)
        secret, _ = services.secret_create(key=key, expires_at=now + timedelta(minutes=5), actor=owner)
        expiring.append(secret)

    results = run_at_once(lambda i: services.secrets_expire(now=now + timedelta(minutes=10)), n=6)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.expired for r in results) == 4
    assert [f for r in results for f in r.failures] == []
    assert len(okta_sim.sent("POST", DEACTIVATE)) == 4
    assert not ConsumerSecret.objects.filter(pk__in=[s.pk for s in expiring]).exists()
    assert AuditEvent.objects.filter(action="secret.expire").count() == 4
