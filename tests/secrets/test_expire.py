"""Expired secrets are deleted at key managers that do not refuse them by themselves (Okta).

The Okta simulator keeps secrets working until they are deactivated and deleted, like Okta does,
so every test can first see the gap (an expired secret still gets a token) and then see it closed.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import httpx
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keymanagers.base import ADAPTERS, ClientRef, KeyManagerAdapter, KeyManagerError, adapter_for, register
from keymanagers.models import ClientSecret, KeyManager
from keys.models import ApplicationKey, ConsumerSecret, KeyType
from keys.secrets import expiry, rules, services
from keys.selectors import CLIENT_DISABLED_FOR_EXPIRY
from portal.models import Application, AuditEvent
from tests.external.conftest import make_okta_key_manager, okta_key_manager, okta_sim  # noqa: F401
from tests.secrets.conftest import api_url, generate, reseed_migration_data, url
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
    created = services.secret_create(
        key=key, description="CI runner", expires_at=timezone.now() + timedelta(days=1), actor=owner
    )
    expiring, expiring_value = created.secret, created.value
    return key, expiring, expiring_value, first_value


def test_an_expired_okta_secret_is_deactivated_and_deleted_at_okta_and_locally(
    okta_key_with_expiring_secret,
    okta_sim,  # noqa: F811
    okta_key_manager,  # noqa: F811
):
    key, expiring, expiring_value, first_value = okta_key_with_expiring_secret
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert authenticates(okta_key_manager, key, expiring_value)  # Okta knows nothing of our expiry

        result = expiry.secrets_expire()

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
        expiry.secrets_expire()

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
        result = expiry.secrets_expire()

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
        result = expiry.secrets_expire()

    assert (result.expired, result.failures) == (1, [])
    assert not ConsumerSecret.objects.filter(key=key).exists()
    assert not authenticates(okta_key_manager, key, value)
    assert "last secret" in AuditEvent.objects.get(action="secret.expire").detail["note"]


def app_lifecycle(sim, key) -> list[str]:
    """The Apps API lifecycle calls made on the key's app, in order: "deactivate" / "activate"."""
    prefix = f"/api/v1/apps/{key.consumer_key}/lifecycle/"
    return [s.path.removeprefix(prefix) for s in sim.sent("POST", prefix)]


def token_answer(sim, key, value: str) -> tuple[int, dict]:
    """What Okta's token endpoint answers the client for ``value`` (status and JSON body)."""
    response = httpx.Client(transport=sim.transport).post(
        f"{sim.auth_server_url}/v1/token",
        auth=(key.consumer_key, value),
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    return response.status_code, response.json()


@pytest.fixture
def okta_key_with_only_secret_expired(application, okta_key_manager, okta_sim):  # noqa: F811
    """An Okta key whose only secret expired an hour ago and was handled by ``secrets_expire``."""
    key, value = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    secret = ConsumerSecret.objects.get(key=key)
    traveller = time_machine.travel(timezone.now() + timedelta(hours=2))
    traveller.start()
    assert authenticates(okta_key_manager, key, value)  # the gap: Okta knows nothing of our expiry
    result = expiry.secrets_expire()
    yield key, secret, value, result
    traveller.stop()


def test_an_expired_only_secret_at_okta_deactivates_the_app_instead(
    okta_key_with_only_secret_expired,
    okta_sim,  # noqa: F811
):
    key, secret, value, result = okta_key_with_only_secret_expired

    assert (result.expired, result.clients_disabled, result.failures) == (1, 1, [])
    # Okta refused to deactivate the only active secret, so the app itself was deactivated.
    secret_path = f"/api/v1/apps/{key.consumer_key}/credentials/secrets/{secret.remote_id}{DEACTIVATE}"
    assert [s.path for s in okta_sim.sent("POST", DEACTIVATE)] == [
        secret_path,
        f"/api/v1/apps/{key.consumer_key}/lifecycle/deactivate",
    ]
    assert okta_sim.sent("DELETE") == []
    assert okta_sim.clients[key.consumer_key].status == "INACTIVE"
    assert token_answer(okta_sim, key, value)[0] == 401
    assert token_answer(okta_sim, key, value)[1]["error"] == "invalid_client"
    # Gone from the portal; the key remembers why its client is disabled and what is left at Okta.
    assert not ConsumerSecret.objects.filter(key=key).exists()
    key.refresh_from_db()
    state = key.get_remote_state()
    assert state[CLIENT_DISABLED_FOR_EXPIRY] is True
    assert state[rules.EXPIRED_REMOTE_SECRETS] == [secret.remote_id]
    assert state["app_id"] == key.consumer_key  # the adapter's own state is kept


def test_the_deactivation_is_audited_with_okta_s_reason_and_no_value(okta_key_with_only_secret_expired):
    key, secret, value, _ = okta_key_with_only_secret_expired

    event = AuditEvent.objects.get(action="secret.expire")
    assert (event.outcome, event.actor, event.secret_id, event.key_mapping_id) == (
        AuditEvent.Outcome.SUCCESS,
        None,
        secret.pk,
        key.pk,
    )
    assert event.detail["remote"] == "client disabled" and event.detail["client"] == "disabled"
    assert "only active secret" in event.detail["reason"]
    assert "must stop working" in event.detail["note"] and "client was disabled" in event.detail["note"]
    assert value not in str(event.detail) and secret.secret_hash not in str(event.detail)


def test_a_later_run_finds_nothing_more_to_do(okta_key_with_only_secret_expired, okta_sim):  # noqa: F811
    before = len(okta_sim.requests)

    result = expiry.secrets_expire()

    assert (result.expired, result.clients_disabled, result.failures) == (0, 0, [])
    assert len(okta_sim.requests) == before


def test_a_new_secret_reactivates_the_app_and_works(okta_key_with_only_secret_expired, okta_sim, owner):  # noqa: F811
    key, old, old_value, _ = okta_key_with_only_secret_expired

    created = services.secret_create(key=key, description="after expiry", actor=owner)
    new, new_value = created.secret, created.value

    assert created.client_enable_error == ""
    # The expired secret is deleted at Okta first (allowed now that it is not the only one), then
    # the app activated: activating first would have revived the expired secret.
    assert remote_secret_ids(okta_sim, key) == {new.remote_id}
    assert app_lifecycle(okta_sim, key) == ["deactivate", "activate"]
    assert okta_sim.clients[key.consumer_key].status == "ACTIVE"
    assert authenticates(key.key_manager, key, new_value)
    assert token_answer(okta_sim, key, old_value)[0] == 401
    key.refresh_from_db()
    state = key.get_remote_state()
    assert CLIENT_DISABLED_FOR_EXPIRY not in state and rules.EXPIRED_REMOTE_SECRETS not in state
    assert list(ConsumerSecret.objects.filter(key=key)) == [new]
    event = AuditEvent.objects.get(action="keys.client_enable")
    assert (event.outcome, event.actor, event.key_mapping_id) == (AuditEvent.Outcome.SUCCESS, owner, key.pk)


def test_if_okta_will_not_activate_the_app_the_new_secret_is_kept_and_the_error_shown(
    okta_key_with_only_secret_expired,
    okta_sim,  # noqa: F811
    owner,
):
    key, _old, _old_value, _ = okta_key_with_only_secret_expired
    okta_sim.fail(
        "POST",
        "/lifecycle/activate",
        status=403,
        body={"errorCode": "E0000006", "errorSummary": "No permission"},
    )

    created = services.secret_create(key=key, actor=owner)
    new, new_value = created.secret, created.value

    assert (
        "still disabled at Okta" in created.client_enable_error and "E0000006" in created.client_enable_error
    )
    assert ConsumerSecret.objects.filter(pk=new.pk).exclude(secret_hash="").exists()
    assert okta_sim.clients[key.consumer_key].status == "INACTIVE"
    assert not authenticates(key.key_manager, key, new_value)
    key.refresh_from_db()
    state = key.get_remote_state()
    # Still marked (the keys page keeps its warning); the expired secret is already gone at Okta.
    assert state[CLIENT_DISABLED_FOR_EXPIRY] is True and state[rules.EXPIRED_REMOTE_SECRETS] == []
    assert AuditEvent.objects.get(action="keys.client_enable").outcome == AuditEvent.Outcome.FAILURE

    # The next new secret tries again, and the key works with both.
    created = services.secret_create(key=key, actor=owner)
    newer_value = created.value

    assert created.client_enable_error == ""
    assert okta_sim.clients[key.consumer_key].status == "ACTIVE"
    assert authenticates(key.key_manager, key, new_value) and authenticates(key.key_manager, key, newer_value)


def test_the_new_secret_page_shows_the_activation_error_beside_the_value(
    okta_key_with_only_secret_expired,
    okta_sim,  # noqa: F811
    owner_client,
):
    key, *_ = okta_key_with_only_secret_expired
    okta_sim.fail(
        "POST", "/lifecycle/activate", status=503, body={"errorCode": "E0000009", "errorSummary": "Busy"}
    )

    response = owner_client.post(url(key, "new/"), {"secret-expiry": "90"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Copy it now, it will not be shown again" in page and response.context["created"].value in page
    assert 'id="client-enable-error"' in page and "still disabled at Okta" in page


def test_the_generate_secret_api_reports_an_activation_error_beside_the_value(
    okta_key_with_only_secret_expired,
    okta_sim,  # noqa: F811
    owner_client,
):
    key, *_ = okta_key_with_only_secret_expired
    okta_sim.fail(
        "POST", "/lifecycle/activate", status=503, body={"errorCode": "E0000009", "errorSummary": "Busy"}
    )

    response = owner_client.post(api_url(key, "generate-secret"), {}, content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    assert body["secretValue"] and "still disabled at Okta" in body["clientEnableError"]


def test_the_command_says_when_a_client_was_disabled(application, okta_key_manager, okta_sim):  # noqa: F811
    okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        call_command("expire_secrets", stdout=out)

    assert "1 of them were a key's last secret: the client was disabled" in out.getvalue()


def test_the_keys_page_warns_while_the_client_is_disabled(
    okta_key_with_only_secret_expired,
    owner,
    owner_client,
):
    key, *_ = okta_key_with_only_secret_expired
    keys_page = f"/applications/{key.application_id}/keys/production/?km=okta"
    warning = "All secrets of this key expired: the client is disabled at Okta until you create a new secret."

    with CaptureQueriesContext(connection) as disabled:
        page = owner_client.get(keys_page).content.decode()
    assert warning in page

    services.secret_create(key=key, actor=owner)
    with CaptureQueriesContext(connection) as enabled:
        page = owner_client.get(keys_page).content.decode()
    assert warning not in page and 'id="client-disabled"' not in page
    # The flag is read from the key's own row: no query of its own.
    assert len(disabled) == len(enabled)


def test_when_okta_refuses_to_deactivate_the_app_too_the_secret_is_kept_and_reported(
    application,
    okta_key_manager,  # noqa: F811
    okta_sim,  # noqa: F811
):
    key, value = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    okta_sim.fail(
        "POST",
        f"/api/v1/apps/{key.consumer_key}/lifecycle/deactivate",
        status=403,
        body={
            "errorCode": "E0000006",
            "errorSummary": "You do not have permission to perform the requested action",
        },
    )
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        result = expiry.secrets_expire()

        assert (result.expired, result.clients_disabled) == (0, 0)
        [failure] = result.failures
        assert failure.secret_id == str(ConsumerSecret.objects.get(key=key).pk)
        assert "E0000006" in failure.error and "only active secret" in failure.error
        # Still working at Okta, so still listed in the portal (and retried next run).
        assert authenticates(okta_key_manager, key, value)
        key.refresh_from_db()
        assert CLIENT_DISABLED_FOR_EXPIRY not in key.get_remote_state()
        assert not AuditEvent.objects.filter(action="secret.expire").exists()

        again = expiry.secrets_expire()

    assert (again.expired, again.clients_disabled, again.failures) == (1, 1, [])
    assert okta_sim.clients[key.consumer_key].status == "INACTIVE"


def test_a_secret_being_created_keeps_the_app_active(application, okta_key_manager, okta_sim, owner):  # noqa: F811
    # A developer's + New Secret is under way (its reservation row exists): the key is about to have
    # a valid secret, so the app stays active; the next run deletes the expired one beside it.
    key, value = okta_key(application, okta_key_manager, first_expires_in=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        ConsumerSecret.objects.create(key=key, secret_hash="", created_by=owner)

        result = expiry.secrets_expire()

    assert (result.expired, result.clients_disabled, len(result.failures)) == (0, 0, 1)
    assert app_lifecycle(okta_sim, key) == []
    assert okta_sim.clients[key.consumer_key].status == "ACTIVE"


def test_a_secret_already_deleted_at_okta_is_removed_locally(
    okta_key_with_expiring_secret,
    okta_sim,  # noqa: F811
):
    key, expiring, _value, _first = okta_key_with_expiring_secret
    okta_sim.clients[key.consumer_key].secrets = [
        s for s in okta_sim.clients[key.consumer_key].secrets if s.id != expiring.remote_id
    ]
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        result = expiry.secrets_expire()

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

    result = expiry.secrets_expire()

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

    result = expiry.secrets_expire()

    assert (result.expired, result.unenforceable, result.failures) == (0, 1, [])
    assert ConsumerSecret.objects.filter(pk=secret.pk).exists()
    out = StringIO()
    call_command("expire_secrets", stdout=out)
    assert (
        "1 expired secrets are at key managers that can neither enforce expiry nor delete" in out.getvalue()
    )


def test_resident_secrets_are_left_to_the_resident_server(key, owner):
    created = services.secret_create(
        key=key, description="short", expires_at=timezone.now() + timedelta(hours=1), actor=owner
    )
    expiring = created.secret
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        result = expiry.secrets_expire()

    assert (result.expired, result.unenforceable, result.failures) == (0, 0, [])
    assert ConsumerSecret.objects.filter(pk=expiring.pk).exists()
    assert ClientSecret.objects.filter(pk=expiring.remote_id).exists()


def test_a_dry_run_counts_and_changes_nothing(okta_key_with_expiring_secret, okta_sim):  # noqa: F811
    key, expiring, value, _first = okta_key_with_expiring_secret
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        result = expiry.secrets_expire(dry_run=True)

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
        created = services.secret_create(key=key, expires_at=now + expires_in, actor=owner)
        secret, value = created.secret, created.value
        keys[km.name] = (key, secret, value)
    # Okta B's API token is revoked after the keys were made: its secrets cannot be deleted.
    broken_km.set_credentials({"api_token": "revoked"})
    broken_km.save()

    with time_machine.travel(now + timedelta(hours=3)):
        result = expiry.secrets_expire()

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
        first = expiry.secrets_expire()
        second = expiry.secrets_expire()

    assert (first.expired, len(first.failures)) == (0, 1)
    assert (second.expired, second.failures) == (1, [])
    # The key kept another valid secret: a failed deletion never deactivates its app.
    assert app_lifecycle(okta_sim, key) == []
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
        expiry.secrets_expire()

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
    okta_key_manager.set_credentials({"api_token": "revoked"})
    okta_key_manager.save()
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        with pytest.raises(CommandError, match="1 expired secrets could not be deleted"):
            call_command("expire_secrets", stdout=out)

    assert f"secret {secret.pk} of key {key.pk} at Okta:" in out.getvalue()
    assert "Invalid token provided" in out.getvalue()


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
        secret = services.secret_create(key=key, expires_at=now + timedelta(minutes=5), actor=owner).secret
        expiring.append(secret)

    results = run_at_once(lambda i: expiry.secrets_expire(now=now + timedelta(minutes=10)), n=6)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.expired for r in results) == 4
    assert [f for r in results for f in r.failures] == []
    assert len(okta_sim.sent("POST", DEACTIVATE)) == 4
    assert not ConsumerSecret.objects.filter(pk__in=[s.pk for s in expiring]).exists()
    assert AuditEvent.objects.filter(action="secret.expire").count() == 4


def test_regenerating_the_secret_also_reactivates_a_disabled_client(
    okta_key_with_only_secret_expired,
    okta_sim,  # noqa: F811
    owner,
):
    from keys.services import secret_regenerate

    key, *_ = okta_key_with_only_secret_expired
    # The key manager went to single-secret mode since: Regenerate Consumer Secret is the way out.
    KeyManager.objects.filter(pk=key.key_manager_id).update(multiple_secrets_enabled=False)
    key = ApplicationKey.objects.select_related("key_manager").get(pk=key.pk)

    value = secret_regenerate(key=key, actor=owner)

    assert okta_sim.clients[key.consumer_key].status == "ACTIVE"
    assert token_answer(okta_sim, key, value)[0] == 200
    key.refresh_from_db()
    assert CLIENT_DISABLED_FOR_EXPIRY not in key.get_remote_state()
