"""Writes for multiple consumer secrets: create, delete, mask (SPEC 3.3); the rules are in
``keys.secrets.rules``, the reminder mail in ``.reminders`` and the expiry run in ``.expiry``.

The pages (``keys.secrets.views``), the REST API (``keys.secrets.api``), the admin action
(``keys.admin_actions``) and the management commands all call these functions.

Rules, in one place:

- The key manager's policy decides: ``multiple_secrets_enabled`` must be on, and ``secret_count``
  (empty = unlimited) caps the key's UNEXPIRED secrets. Expired secrets do not count: they no
  longer authenticate. The adapter's own bound (``max_secrets``, Okta: 2) caps every secret the
  server still holds, expired or not, since the server does not know our expiry.
- The limit holds under concurrent requests without a row lock held across the key-manager call:
  a short transaction locks the key's row, counts, and inserts a *reservation* (a
  ``ConsumerSecret`` with an empty ``secret_hash``); the adapter is called after that commit; the
  row is then filled in, or deleted if the call failed.
- A key always keeps one unexpired secret; deleting one does not revoke tokens issued with it.
- Values are returned once to the caller and never stored, logged or audited; only
  ``crypto.keyed_hash(value)`` is kept. In multiple-secret mode no retrievable copy is kept at all,
  and switching the mode on destroys the copies single-secret mode kept (``secrets_mask_all``).
- An expired secret must stop working. Where the key manager will not delete a client's last
  active secret (Okta), ``secrets_expire`` disables the client instead and marks the key (its
  adapter state, ``CLIENT_DISABLED_FOR_EXPIRY``); the next new secret of that key enables it again
  (``client_enable_after_new_secret``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from keymanagers.base import KeyManagerError, adapter_for
from keys.models import ApplicationKey, ConsumerSecret
from keys.remote import audit_failure, client_ref, remote_call, save_state
from keys.secrets.rules import (
    DESCRIPTION_MAX_LENGTH,
    EXPIRED_REMOTE_SECRETS,
    LAST_SECRET_MESSAGE,
    LIMIT_MESSAGE,
    LastSecret,
    SecretError,
    SecretLimitReached,
    SecretsDisabled,
    require_multiple_secrets,
    require_ready,
    validate_expiry,
)
from keys.secrets.selectors import RESERVATION_TTL, secret_usage, unexpired_q
from keys.selectors import CLIENT_DISABLED_FOR_EXPIRY
from portal import crypto
from portal.audit import audit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedSecret:
    """What ``secret_create`` made: the row, the value (show it once; never stored) and, when the
    key's client could not be enabled again after its secrets expired, what went wrong ("" when
    nothing did)."""

    secret: ConsumerSecret
    value: str
    client_enable_error: str = ""


def secret_create(
    *, key: ApplicationKey, description: str = "", expires_at: datetime | None = None, actor
) -> CreatedSecret:
    """Add a secret to ``key`` at its key manager; return the row and the value (show it once).

    Raises ``SecretError`` for a rule (disabled, limit, bad input) and ``KeyManagerError`` when the
    key manager fails; in both cases nothing is left behind.

    If the key's client was disabled because all its secrets expired, it is enabled again once the
    new secret exists. That step failing does not undo the new secret (it is made and works as soon
    as the client is enabled): the result's ``client_enable_error`` says what went wrong (empty
    when nothing did), for the caller to show beside the value.
    """
    now = timezone.now()
    description = (description or "").strip()
    require_multiple_secrets(key)
    require_ready(key)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise SecretError(
            "Invalid description", f"A description has at most {DESCRIPTION_MAX_LENGTH} characters."
        )
    validate_expiry(expires_at, now=now)

    reservation = _reserve_slot(key=key, description=description, expires_at=expires_at, actor=actor, now=now)

    adapter = adapter_for(key.key_manager)
    try:
        with remote_call(key, actor=actor, action="secret.create") as ref:
            info = adapter.create_secret(ref, expires_at=expires_at)
    except BaseException:
        ConsumerSecret.objects.filter(pk=reservation.pk).delete()
        raise

    try:
        with transaction.atomic():
            reservation.secret_hash = crypto.keyed_hash(info.value)
            reservation.remote_id = info.remote_id or ""
            reservation.expires_at = info.expires_at or expires_at
            reservation.save(update_fields=["secret_hash", "remote_id", "expires_at"])
            save_state(key, ref)
            audit(
                actor=actor,
                action="secret.create",
                key=key,
                secret_id=reservation.pk,
                description=description,
                expires_at=reservation.expires_at.isoformat() if reservation.expires_at else None,
            )
    except BaseException:
        # The server made a secret we could not record: take it back rather than leave a secret
        # that works but that nobody can see or delete.
        ConsumerSecret.objects.filter(pk=reservation.pk).delete()
        try:
            adapter.delete_secret(ref, info.remote_id)
        except KeyManagerError:
            logger.exception(
                "secret %s: could not delete it at %s after a local failure", reservation.pk, key.key_manager
            )
        raise
    return CreatedSecret(
        secret=reservation,
        value=info.value,
        client_enable_error=client_enable_after_new_secret(key=key, actor=actor),
    )


def client_enable_after_new_secret(*, key: ApplicationKey, actor) -> str:
    """Enable the key's client again if ``secrets_expire`` disabled it; call once a new secret exists.

    First deletes at the key manager the expired secrets it kept (now that they are no longer the
    client's only ones), then enables the client and clears the key's mark. Returns "" when nothing
    was needed or all went well, else a message for the developer; the mark then stays (the keys page
    keeps its warning) and the next new secret tries again. Never raises ``KeyManagerError``.
    """
    # A fresh read: the run of secrets_expire that disabled the client may postdate ``key``'s load.
    key.remote_state_encrypted = (
        ApplicationKey.objects.filter(pk=key.pk).values_list("remote_state_encrypted", flat=True).first()
        or ""
    )
    ref = client_ref(key)
    if not ref.state.get(CLIENT_DISABLED_FOR_EXPIRY):
        return ""
    adapter = adapter_for(key.key_manager)
    try:
        for remote_id in list(ref.state.get(EXPIRED_REMOTE_SECRETS) or []):
            try:
                adapter.delete_secret(ref, remote_id)
            except KeyManagerError as exc:
                if exc.status != 404:
                    raise
            ref.state[EXPIRED_REMOTE_SECRETS] = [
                r for r in ref.state[EXPIRED_REMOTE_SECRETS] if r != remote_id
            ]
        adapter.enable_client(ref)
    except KeyManagerError as exc:
        save_state(key, ref)
        audit_failure(actor=actor, action="keys.client_enable", key=key, error=exc)
        logger.warning("key %s: client not enabled again at %s: %s", key.pk, key.key_manager, exc)
        return (
            f"The new secret was made, but the client is still disabled at {key.key_manager}: {exc}. "
            "The key gets no tokens until the client is enabled; create another secret to try again, "
            "or ask an administrator."
        )
    ref.state.pop(CLIENT_DISABLED_FOR_EXPIRY, None)
    ref.state.pop(EXPIRED_REMOTE_SECRETS, None)
    with transaction.atomic():
        save_state(key, ref)
        audit(actor=actor, action="keys.client_enable", key=key, key_manager=key.key_manager.name)
    return ""


@transaction.atomic
def _reserve_slot(
    *, key: ApplicationKey, description: str, expires_at: datetime | None, actor, now: datetime
) -> ConsumerSecret:
    # The key's row lock serialises every create (and delete) of this key's secrets, for the few
    # milliseconds of count-and-insert only; the key-manager call happens after the commit.
    ApplicationKey.objects.select_for_update().filter(pk=key.pk).values_list("pk", flat=True).get()
    ConsumerSecret.objects.filter(key=key, secret_hash="", created_at__lte=now - RESERVATION_TTL).delete()
    usage = secret_usage(key=key, now=now)
    if usage.limit_reached:
        raise SecretLimitReached(
            LIMIT_MESSAGE,
            f"The limit is {usage.limit} consumer secret{'' if usage.limit == 1 else 's'} per key. "
            "Delete one before creating another.",
        )
    return ConsumerSecret.objects.create(
        key=key,
        description=description,
        secret_hash="",
        expires_at=expires_at,
        created_by=actor,
        created_at=now,
    )


def secret_delete(*, key: ApplicationKey, secret: ConsumerSecret, actor) -> None:
    """Delete ``secret`` locally and at the key manager. Tokens issued with it stay valid.

    The last unexpired secret of a key cannot be deleted (``LastSecret``).
    """
    now = timezone.now()
    require_multiple_secrets(key)
    require_ready(key)
    if secret.key_id != key.pk:
        raise ValueError("secret does not belong to key")

    # Guard and delete the row under the key's row lock, so that two concurrent deletes cannot
    # both see "another valid secret remains" and leave none. The key-manager call follows the
    # commit; if it fails, the row comes back, so the portal never hides a secret that still works.
    with transaction.atomic():
        ApplicationKey.objects.select_for_update().filter(pk=key.pk).values_list("pk", flat=True).get()
        if not secret.is_expired(now):
            others = (
                ConsumerSecret.objects.filter(key=key)
                .filter(unexpired_q(now))
                .exclude(secret_hash="")
                .exclude(pk=secret.pk)
            )
            if not others.exists():
                raise LastSecret("Cannot delete the last valid secret", LAST_SECRET_MESSAGE)
        deleted, _ = ConsumerSecret.objects.filter(pk=secret.pk, key=key).delete()
    if not deleted:
        return  # a concurrent request deleted it first

    ref = client_ref(key)
    try:
        adapter_for(key.key_manager).delete_secret(ref, secret.remote_id)
    except KeyManagerError as exc:
        if exc.status == 404:
            # Already gone at the key manager (deleted there by hand): what we wanted anyway.
            save_state(key, ref)
            audit(actor=actor, action="secret.delete", key=key, secret_id=secret.pk, remote="already deleted")
            return
        secret.save(force_insert=True)
        save_state(key, ref)
        audit_failure(actor=actor, action="secret.delete", key=key, error=exc, secret_id=secret.pk)
        raise
    except BaseException:
        secret.save(force_insert=True)
        raise
    with transaction.atomic():
        save_state(key, ref)
        audit(
            actor=actor, action="secret.delete", key=key, secret_id=secret.pk, description=secret.description
        )


# -- switching multiple secrets on ------------------------------------------------------------


def _maskable(key_manager=None):
    qs = ConsumerSecret.objects.exclude(value_encrypted="")
    if key_manager is not None:
        return qs.filter(key__key_manager=key_manager)
    return qs.filter(key__key_manager__multiple_secrets_enabled=True)


@transaction.atomic
def secrets_mask_all(*, key_manager=None, dry_run: bool = False, actor=None) -> int:
    """Destroy the retrievable copy of every secret at key managers in multiple-secret mode.

    With ``key_manager``, only that one (which must be in multiple-secret mode). Returns how many
    secrets were (or, with ``dry_run``, would be) masked. Their hashes stay: they keep working.
    """
    if key_manager is not None and not key_manager.multiple_secrets_enabled:
        raise SecretsDisabled(
            "Multiple consumer secrets are not enabled",
            f"{key_manager} is in single-secret mode, where developers may reveal their secret: nothing to mask.",
        )
    qs = _maskable(key_manager)
    if dry_run:
        return qs.count()
    masked = qs.update(value_encrypted="")
    if masked:
        audit(
            actor=actor,
            action="secrets.mask",
            masked=masked,
            key_manager=key_manager.name if key_manager is not None else None,
        )
    return masked


def on_multiple_secrets_enabled(key_manager, *, actor=None) -> int:
    """Call after an admin switches ``multiple_secrets_enabled`` on: masks its secrets for good."""
    return secrets_mask_all(key_manager=key_manager, actor=actor)
