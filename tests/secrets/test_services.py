"""The secrets services: create, delete, limits, guards, failures, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from keymanagers.base import KeyManagerError
from keymanagers.models import ClientSecret
from keys.models import ApplicationKey, ConsumerSecret
from keys.secrets import rules, services
from keys.secrets.selectors import RESERVATION_TTL, secret_usage, secrets_for_key, secrets_panel
from portal import crypto
from portal.models import AuditEvent
from tests.secrets.conftest import generate


def live_remote_secrets(key):
    return ClientSecret.objects.filter(client__client_id=key.consumer_key)


def test_creating_a_secret_returns_the_value_once_and_keeps_only_its_hash(key, owner):
    expires_at = timezone.now() + timedelta(days=30)

    created = services.secret_create(key=key, description=" CI pipeline ", expires_at=expires_at, actor=owner)
    secret, value = created.secret, created.value

    secret.refresh_from_db()
    assert value.startswith("dps_") and len(value) > 40
    assert secret.secret_hash == crypto.keyed_hash(value)
    assert secret.value_encrypted == ""
    assert secret.description == "CI pipeline"
    assert secret.expires_at == expires_at
    assert secret.created_by == owner
    remote = ClientSecret.objects.get(pk=secret.remote_id)
    assert remote.client.client_id == key.consumer_key
    assert remote.secret_hash == crypto.keyed_hash(value)
    assert remote.expires_at == expires_at


def test_a_secret_that_never_expires_has_no_expiry(key, owner):
    secret = services.secret_create(key=key, expires_at=None, actor=owner).secret
    secret.refresh_from_db()
    assert secret.expires_at is None
    assert ClientSecret.objects.get(pk=secret.remote_id).expires_at is None


def test_creating_and_deleting_are_audited_without_the_value(key, owner):
    created = services.secret_create(key=key, description="rotation", actor=owner)
    secret, value = created.secret, created.value
    services.secret_delete(key=key, secret=secret, actor=owner)

    events = list(AuditEvent.objects.filter(action__startswith="secret.").order_by("created_at", "id"))
    assert [(e.action, e.outcome, e.secret_id) for e in events] == [
        ("secret.create", "success", secret.pk),
        ("secret.delete", "success", secret.pk),
    ]
    assert all(e.actor == owner and e.key_mapping_id == key.pk for e in events)
    assert all(value not in str(e.detail) and secret.secret_hash not in str(e.detail) for e in events)


def test_description_longer_than_1024_characters_is_refused(key, owner):
    with pytest.raises(rules.SecretError, match="Invalid description"):
        services.secret_create(key=key, description="x" * 1025, actor=owner)
    assert key.secrets.count() == 1
    assert live_remote_secrets(key).count() == 1


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1), timedelta(days=3651)])
def test_expiry_in_the_past_or_beyond_ten_years_is_refused(key, owner, offset):
    with pytest.raises(rules.SecretError, match="Invalid expiry"):
        services.secret_create(key=key, expires_at=timezone.now() + offset, actor=owner)
    assert key.secrets.count() == 1


def test_with_multiple_secrets_disabled_creating_is_refused_clearly(key, owner, resident):
    resident.multiple_secrets_enabled = False
    resident.save()
    key.refresh_from_db()

    with pytest.raises(rules.SecretsDisabled) as caught:
        services.secret_create(key=key, actor=owner)

    assert caught.value.message == "Multiple consumer secrets are not enabled"
    assert "Regenerate Consumer Secret" in caught.value.description
    assert caught.value.status == 400
    assert key.secrets.count() == 1


def test_with_multiple_secrets_disabled_deleting_is_refused_clearly(key, owner, resident):
    services.secret_create(key=key, actor=owner)
    resident.multiple_secrets_enabled = False
    resident.save()
    key.refresh_from_db()

    with pytest.raises(rules.SecretsDisabled):
        services.secret_delete(key=key, secret=key.secrets.first(), actor=owner)
    assert key.secrets.count() == 2


def test_a_partially_created_key_gets_no_new_secrets(key, owner):
    key.key_state = ApplicationKey.State.PARTIALLY_CREATED
    key.save()
    with pytest.raises(rules.KeyNotReady):
        services.secret_create(key=key, actor=owner)


def test_secret_count_caps_unexpired_secrets(key, owner, resident):
    resident.secret_count = 2
    resident.save()
    key.refresh_from_db()

    services.secret_create(key=key, actor=owner)
    with pytest.raises(rules.SecretLimitReached) as caught:
        services.secret_create(key=key, actor=owner)

    assert caught.value.message == "Maximum number of consumer secrets reached"
    assert caught.value.status == 409
    assert key.secrets.count() == 2
    assert live_remote_secrets(key).count() == 2


def test_expired_secrets_do_not_count_toward_the_limit(key, owner, resident):
    resident.secret_count = 2
    resident.save()
    key.refresh_from_db()
    services.secret_create(key=key, expires_at=timezone.now() + timedelta(days=1), actor=owner)

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        services.secret_create(key=key, actor=owner)
        assert secret_usage(key=key).unexpired == 2
        with pytest.raises(rules.SecretLimitReached):
            services.secret_create(key=key, actor=owner)
    assert key.secrets.count() == 3


def test_the_servers_own_bound_counts_expired_secrets_too(key, owner, monkeypatch):
    from keymanagers.resident.adapter import ResidentAdapter

    monkeypatch.setattr(ResidentAdapter, "max_secrets", 2)
    services.secret_create(key=key, expires_at=timezone.now() + timedelta(days=1), actor=owner)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        with pytest.raises(rules.SecretLimitReached):
            services.secret_create(key=key, actor=owner)


def test_a_fresh_reservation_holds_a_slot_and_a_stale_one_is_cleared(key, owner, resident):
    resident.secret_count = 2
    resident.save()
    key.refresh_from_db()
    reservation = ConsumerSecret.objects.create(key=key, secret_hash="")

    with pytest.raises(rules.SecretLimitReached):
        services.secret_create(key=key, actor=owner)

    with time_machine.travel(timezone.now() + RESERVATION_TTL + timedelta(seconds=1)):
        services.secret_create(key=key, actor=owner)
    assert not ConsumerSecret.objects.filter(pk=reservation.pk).exists()
    assert key.secrets.exclude(secret_hash="").count() == 2


def test_reservations_are_never_listed(key):
    ConsumerSecret.objects.create(key=key, secret_hash="", description="pending")
    assert [s.description for s in secrets_for_key(key=key, include_expired=True)] == ["first"]
    assert [row.secret.description for row in secrets_panel(key=key).secrets] == ["first"]


def test_when_the_key_manager_fails_nothing_is_left_behind(failing_key_manager, application, owner):
    key = ApplicationKey.objects.create(
        application=application, key_type="PRODUCTION", key_manager=failing_key_manager, consumer_key="abc"
    )
    ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("v"), remote_id="r1")

    with pytest.raises(KeyManagerError, match="Flaky KM: create secret failed: connection refused"):
        services.secret_create(key=key, actor=owner)

    assert key.secrets.count() == 1
    key.refresh_from_db()
    assert key.get_remote_state() == {"touched": "create"}  # adapter state is kept even on failure
    event = AuditEvent.objects.get(action="secret.create")
    assert event.outcome == "failure"


def test_deleting_a_secret_removes_it_here_and_at_the_key_manager(key, owner):
    secret = services.secret_create(key=key, actor=owner).secret

    services.secret_delete(key=key, secret=secret, actor=owner)

    assert not ConsumerSecret.objects.filter(pk=secret.pk).exists()
    assert not ClientSecret.objects.filter(pk=secret.remote_id).exists()
    assert live_remote_secrets(key).count() == 1


def test_the_last_valid_secret_cannot_be_deleted(key, owner):
    only = key.secrets.get()
    with pytest.raises(rules.LastSecret) as caught:
        services.secret_delete(key=key, secret=only, actor=owner)
    assert caught.value.description == (
        "A key must keep at least one valid secret. Create a new secret before deleting this one."
    )
    assert caught.value.status == 409
    assert ConsumerSecret.objects.filter(pk=only.pk).exists()
    assert live_remote_secrets(key).count() == 1


def test_an_expired_secret_does_not_count_as_the_valid_one_to_keep(key, owner):
    expiring = services.secret_create(
        key=key, expires_at=timezone.now() + timedelta(days=1), actor=owner
    ).secret
    first = key.secrets.get(description="first")
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        with pytest.raises(rules.LastSecret):
            services.secret_delete(key=key, secret=first, actor=owner)
        # The expired one may always go.
        services.secret_delete(key=key, secret=expiring, actor=owner)
    assert list(key.secrets.values_list("description", flat=True)) == ["first"]


def test_when_deleting_fails_at_the_key_manager_the_secret_stays(failing_key_manager, application, owner):
    key = ApplicationKey.objects.create(
        application=application, key_type="PRODUCTION", key_manager=failing_key_manager, consumer_key="abc"
    )
    one = ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("a"), remote_id="r1")
    ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("b"), remote_id="r2")

    with pytest.raises(KeyManagerError, match="delete secret failed"):
        services.secret_delete(key=key, secret=one, actor=owner)

    restored = ConsumerSecret.objects.get(pk=one.pk)
    assert (restored.secret_hash, restored.remote_id) == (one.secret_hash, "r1")
    assert AuditEvent.objects.get(action="secret.delete").outcome == "failure"


def test_a_secret_of_another_key_is_refused(application, resident, owner):
    production, _ = generate(application, resident)
    sandbox, _ = generate(application, resident, key_type="SANDBOX")
    services.secret_create(key=sandbox, actor=owner)
    with pytest.raises(ValueError):
        services.secret_delete(key=production, secret=sandbox.secrets.first(), actor=owner)
    assert sandbox.secrets.count() == 2


def test_a_secret_already_gone_at_the_key_manager_is_deleted_here_too(
    failing_key_manager, application, owner, monkeypatch
):
    from tests.secrets.conftest import FailingAdapter

    def gone(self, ref, remote_id):
        raise KeyManagerError(self.label, "delete secret", "no such secret", status=404)

    monkeypatch.setattr(FailingAdapter, "delete_secret", gone)
    key = ApplicationKey.objects.create(
        application=application, key_type="PRODUCTION", key_manager=failing_key_manager, consumer_key="abc"
    )
    one = ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("a"), remote_id="r1")
    ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("b"), remote_id="r2")

    services.secret_delete(key=key, secret=one, actor=owner)

    assert not ConsumerSecret.objects.filter(pk=one.pk).exists()
