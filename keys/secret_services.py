"""Writes for multiple consumer secrets: create, delete, mask, expiry reminders, expiry enforcement (SPEC 3.3).

The pages (``keys.secret_views``), the REST API (``keys.secret_api``), the admin action
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
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from keymanagers.base import ClientRef, KeyManagerAdapter, KeyManagerError, adapter_for
from keymanagers.models import KeyManager
from keys.errors import KeysError
from keys.models import ApplicationKey, ConsumerSecret
from keys.secret_selectors import ENVIRONMENT_OF, RESERVATION_TTL, secret_usage, unexpired_q
from keys.selectors import CLIENT_DISABLED_FOR_EXPIRY
from portal import crypto
from portal.audit import audit

logger = logging.getLogger(__name__)

DESCRIPTION_MAX_LENGTH = 1024
#: The longest expiry a developer may choose (the Custom field's upper bound, about ten years).
MAX_EXPIRY_DAYS = 3650
#: A new secret's lifetime when none is chosen (the pages' default choice).
DEFAULT_EXPIRY_DAYS = 90
EXPIRES_IN_MESSAGE = (
    f"Give a whole number of seconds other than 0: at most {MAX_EXPIRY_DAYS * 86400} "
    f"({MAX_EXPIRY_DAYS} days), negative for a secret that never expires, or leave it out for "
    f"{DEFAULT_EXPIRY_DAYS} days."
)
LIMIT_MESSAGE = "Maximum number of consumer secrets reached"
LAST_SECRET_MESSAGE = (
    "A key must keep at least one valid secret. Create a new secret before deleting this one."
)
#: Adapter-state entry beside ``CLIENT_DISABLED_FOR_EXPIRY``: the remote ids of the expired secrets
#: the key manager would not delete while they were the client's only active ones. They are deleted
#: there before the client is enabled again, so that enabling it does not revive them.
EXPIRED_REMOTE_SECRETS = "expired_secret_ids"


class SecretError(KeysError):
    """A secrets rule refused the request: a short ``message`` and a ``description``."""

    def __init__(self, message: str, description: str = ""):
        super().__init__(description or message, message=message)
        self.args = (message,)  # str() is the short message, as logs and tests read it


class SecretsDisabled(SecretError):
    code = "multiple_secrets_disabled"


class SecretLimitReached(SecretError):
    status = 409
    code = "secret_limit_reached"


class LastSecret(SecretError):
    status = 409
    code = "last_secret"


class KeyNotReady(SecretError):
    status = 409
    code = "key_not_ready"


def multiple_secrets_available(key_manager) -> bool:
    """The policy is on AND the key manager's adapter can hold several secrets per client."""
    if not key_manager.multiple_secrets_enabled:
        return False
    try:
        return adapter_for(key_manager).supports_multiple_secrets
    except KeyManagerError:
        return False


def _require_multiple_secrets(key: ApplicationKey) -> None:
    km = key.key_manager
    if not km.multiple_secrets_enabled:
        raise SecretsDisabled(
            "Multiple consumer secrets are not enabled",
            f"The {km} key manager allows one consumer secret per key. Use Regenerate Consumer Secret "
            "instead, or ask an administrator to enable multiple consumer secrets.",
        )
    if not multiple_secrets_available(km):
        raise SecretsDisabled(
            "Multiple consumer secrets are not supported",
            f"The {km} key manager cannot hold several secrets per client. Use Regenerate Consumer Secret instead.",
        )


def _require_ready(key: ApplicationKey) -> None:
    if key.key_state != ApplicationKey.State.COMPLETED or not key.consumer_key:
        raise KeyNotReady(
            "The keys are not completely created",
            "These keys were only partially created. Clean them up and generate them again before managing secrets.",
        )


def secret_expiry_too_far(expires_at: datetime | None, *, now: datetime) -> bool:
    # A minute of slack: a page computes "now + 3650 days" a moment before the service checks it.
    return expires_at is not None and expires_at > now + timedelta(days=MAX_EXPIRY_DAYS, minutes=1)


def validate_expiry(expires_at: datetime | None, *, now: datetime) -> None:
    if expires_at is None:
        return
    if expires_at <= now:
        raise SecretError("Invalid expiry", "A secret's expiry must be in the future.")
    if secret_expiry_too_far(expires_at, now=now):
        raise SecretError("Invalid expiry", f"A secret may expire at most {MAX_EXPIRY_DAYS} days from now.")


def secret_expiry_from_seconds(expires_in: Any, *, now: datetime | None = None) -> datetime | None:
    """A secret's expiry time from the REST API's ``expiresIn`` (seconds): the one rule of both
    ``generate-keys`` and ``generate-secret``.

    Absent (None or "") → 90 days; negative → never expires (None); 0 is refused; at most 3650
    days. Takes an integer or its decimal string; raises ``SecretError`` otherwise.
    """
    now = now or timezone.now()
    if expires_in is None or expires_in == "":
        return now + timedelta(days=DEFAULT_EXPIRY_DAYS)
    if isinstance(expires_in, str) and re.fullmatch(r"\s*-?\d{1,20}\s*", expires_in):
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in == 0:
        raise SecretError("Invalid expiry", EXPIRES_IN_MESSAGE)
    if expires_in < 0:
        return None
    if expires_in > MAX_EXPIRY_DAYS * 86400:
        raise SecretError("Invalid expiry", EXPIRES_IN_MESSAGE)
    return now + timedelta(seconds=expires_in)


def _persist_remote_state(key: ApplicationKey, ref: ClientRef) -> None:
    """Keep what the adapter changed in ``ref.state`` (Keycloak rotates its token on every call)."""
    if ref.state != key.get_remote_state():
        key.set_remote_state(ref.state)
        ApplicationKey.objects.filter(pk=key.pk).update(
            remote_state_encrypted=key.remote_state_encrypted, updated_at=timezone.now()
        )


def secret_create(
    *, key: ApplicationKey, description: str = "", expires_at: datetime | None = None, actor
) -> tuple[ConsumerSecret, str]:
    """Add a secret to ``key`` at its key manager; return the row and the value (show it once).

    Raises ``SecretError`` for a rule (disabled, limit, bad input) and ``KeyManagerError`` when the
    key manager fails; in both cases nothing is left behind.

    If the key's client was disabled because all its secrets expired, it is enabled again once the
    new secret exists. That step failing does not undo the new secret (it is made and works as soon
    as the client is enabled): the returned row's ``client_enable_error`` says what went wrong
    (empty when nothing did), for the caller to show beside the value.
    """
    now = timezone.now()
    description = (description or "").strip()
    _require_multiple_secrets(key)
    _require_ready(key)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise SecretError(
            "Invalid description", f"A description has at most {DESCRIPTION_MAX_LENGTH} characters."
        )
    validate_expiry(expires_at, now=now)

    reservation = _reserve_slot(key=key, description=description, expires_at=expires_at, actor=actor, now=now)

    adapter = adapter_for(key.key_manager)
    ref = ClientRef(key.consumer_key, key.get_remote_state())
    try:
        info = adapter.create_secret(ref, expires_at=expires_at)
    except KeyManagerError as exc:
        ConsumerSecret.objects.filter(pk=reservation.pk).delete()
        _persist_remote_state(key, ref)
        audit(actor=actor, action="secret.create", key=key, outcome="failure", error=str(exc))
        raise
    except BaseException:
        ConsumerSecret.objects.filter(pk=reservation.pk).delete()
        raise

    try:
        with transaction.atomic():
            reservation.secret_hash = crypto.keyed_hash(info.value)
            reservation.remote_id = info.remote_id or ""
            reservation.expires_at = info.expires_at or expires_at
            reservation.save(update_fields=["secret_hash", "remote_id", "expires_at"])
            _persist_remote_state(key, ref)
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
    reservation.client_enable_error = client_enable_after_new_secret(key=key, actor=actor)
    return reservation, info.value


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
    ref = ClientRef(key.consumer_key, key.get_remote_state())
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
        _persist_remote_state(key, ref)
        audit(actor=actor, action="keys.client_enable", key=key, outcome="failure", error=str(exc))
        logger.warning("key %s: client not enabled again at %s: %s", key.pk, key.key_manager, exc)
        return (
            f"The new secret was made, but the client is still disabled at {key.key_manager}: {exc}. "
            "The key gets no tokens until the client is enabled; create another secret to try again, "
            "or ask an administrator."
        )
    ref.state.pop(CLIENT_DISABLED_FOR_EXPIRY, None)
    ref.state.pop(EXPIRED_REMOTE_SECRETS, None)
    with transaction.atomic():
        _persist_remote_state(key, ref)
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
    _require_multiple_secrets(key)
    _require_ready(key)
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

    ref = ClientRef(key.consumer_key, key.get_remote_state())
    try:
        adapter_for(key.key_manager).delete_secret(ref, secret.remote_id)
    except KeyManagerError as exc:
        if exc.status == 404:
            # Already gone at the key manager (deleted there by hand): what we wanted anyway.
            _persist_remote_state(key, ref)
            audit(actor=actor, action="secret.delete", key=key, secret_id=secret.pk, remote="already deleted")
            return
        secret.save(force_insert=True)
        _persist_remote_state(key, ref)
        audit(
            actor=actor,
            action="secret.delete",
            key=key,
            secret_id=secret.pk,
            outcome="failure",
            error=str(exc),
        )
        raise
    except BaseException:
        secret.save(force_insert=True)
        raise
    with transaction.atomic():
        _persist_remote_state(key, ref)
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


# -- expiry reminders -------------------------------------------------------------------------


@dataclass
class ReminderResult:
    emails: int = 0
    secrets: int = 0
    failed_emails: int = 0
    recipients: list[str] = field(default_factory=list)


def _expiring(*, days: int, now: datetime):
    return (
        ConsumerSecret.objects.filter(
            reminder_sent_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .exclude(secret_hash="")
        .exclude(Q(key__application__owner__email="") | Q(key__application__owner__is_active=False))
    )


def secrets_notify_expiring(
    *, days: int = 14, dry_run: bool = False, now: datetime | None = None
) -> ReminderResult:
    """Email each owner once per secret about their secrets expiring within ``days`` days.

    Safe to run from cron on several machines at once: each run claims its rows (sets
    ``reminder_sent_at``) in a short transaction, skipping rows another run has locked, and only
    then sends. A failed email un-claims its rows so that the next run tries again.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or timezone.now()
    result = ReminderResult()
    related = ("key__application__owner", "key__key_manager")
    if dry_run:
        claimed = list(_expiring(days=days, now=now).select_related(*related))
    else:
        with transaction.atomic():
            claimed = list(
                _expiring(days=days, now=now)
                .select_related(*related)
                .select_for_update(skip_locked=True, of=("self",))
            )
            # The condition repeats ``reminder_sent_at IS NULL``: on databases without row locks
            # (SQLite) this UPDATE, serialised by the write lock, is what keeps a row from being
            # claimed twice.
            ConsumerSecret.objects.filter(
                pk__in=[s.pk for s in claimed], reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)

    by_owner: dict[int, list[ConsumerSecret]] = {}
    for secret in claimed:
        by_owner.setdefault(secret.key.application.owner_id, []).append(secret)

    connection = None if dry_run else get_connection()
    for secrets_of_owner in by_owner.values():
        owner = secrets_of_owner[0].key.application.owner
        secrets_of_owner.sort(key=lambda s: s.expires_at)
        result.recipients.append(owner.email)
        if dry_run:
            result.emails += 1
            result.secrets += len(secrets_of_owner)
            continue
        message = _reminder_email(owner=owner, secrets=secrets_of_owner, days=days, now=now)
        try:
            connection.send_messages([message])
        except Exception:
            logger.exception("could not email %s about %d expiring secrets", owner.pk, len(secrets_of_owner))
            ConsumerSecret.objects.filter(pk__in=[s.pk for s in secrets_of_owner]).update(
                reminder_sent_at=None
            )
            result.failed_emails += 1
            continue
        result.emails += 1
        result.secrets += len(secrets_of_owner)
    return result


def _reminder_email(*, owner, secrets: list[ConsumerSecret], days: int, now: datetime) -> EmailMessage:
    rows = [
        {
            "application": s.key.application.name,
            "environment": s.key.get_key_type_display(),
            "key_manager": str(s.key.key_manager),
            "description": s.description or "No description",
            "expires_at": s.expires_at,
            "url": f"{settings.SITE_URL}/applications/{s.key.application_id}/keys/{ENVIRONMENT_OF[s.key.key_type]}/",
        }
        for s in secrets
    ]
    context = {"owner": owner, "rows": rows, "days": days, "count": len(rows)}
    subject = render_to_string("keys/secrets/email/expiring_subject.txt", context).strip()
    body = render_to_string("keys/secrets/email/expiring.txt", context)
    return EmailMessage(subject=subject, body=body, to=[owner.email])


# -- expiry at key managers that do not enforce it --------------------------------------------

#: Said in every ``secret.expire`` audit event: this deletion skips the rule ``secret_delete`` keeps.
EXPIRE_NOTE = (
    "expired: deleted even if it was the key's last secret, because an expired secret must stop working"
)
#: Added when the key manager would not delete the key's last active secret and the client was
#: disabled instead.
CLIENT_DISABLED_NOTE = (
    "the key manager would not delete the client's only active secret, so the client was disabled there "
    "(it gets no tokens) until a new secret is created for the key"
)


@dataclass
class ExpireFailure:
    """One expired secret the key manager could not delete; it stays listed and is retried next run."""

    secret_id: str
    key_id: str
    key_manager: str
    error: str


@dataclass
class ExpireResult:
    #: Secrets deleted at their key manager and locally (with ``dry_run``: that would be).
    expired: int = 0
    #: Of those, the key manager no longer had (deleted there by hand): removed locally only.
    already_gone: int = 0
    #: Expired secrets at key managers that neither enforce expiry nor can delete a secret: they
    #: may still work there, and this command cannot help (an administrator must).
    unenforceable: int = 0
    #: Of ``expired``, the key's last secret, which the key manager would not delete: the client
    #: was disabled there instead (the key gets no tokens until a new secret is made).
    clients_disabled: int = 0
    failures: list[ExpireFailure] = field(default_factory=list)


def _deletes_secrets(adapter_class: type[KeyManagerAdapter]) -> bool:
    return adapter_class.delete_secret is not KeyManagerAdapter.delete_secret


def _disables_clients(adapter_class: type[KeyManagerAdapter]) -> bool:
    return adapter_class.disable_client is not KeyManagerAdapter.disable_client


def _expiry_scope() -> tuple[list[int], list[int]]:
    """(key managers whose expired secrets we delete, those where nobody can enforce expiry)."""
    deletable, unenforceable = [], []
    for km in KeyManager.objects.all():
        try:
            adapter_class = type(adapter_for(km))
        except KeyManagerError:
            logger.warning("secrets_expire: key manager %s has an unknown type %r", km.pk, km.type)
            unenforceable.append(km.pk)
            continue
        if adapter_class.enforces_secret_expiry:
            continue
        (deletable if _deletes_secrets(adapter_class) else unenforceable).append(km.pk)
    return deletable, unenforceable


def _expired(*, now: datetime):
    return (
        ConsumerSecret.objects.filter(
            expires_at__lte=now,
            key__key_state=ApplicationKey.State.COMPLETED,
        )
        .exclude(secret_hash="")
        .exclude(key__consumer_key="")
    )


def secrets_expire(*, now: datetime | None = None, dry_run: bool = False) -> ExpireResult:
    """Delete expired secrets at key managers that do not refuse them by themselves (Okta).

    A secret whose ``expires_at`` has passed is deleted at its key manager (a 404 there means it is
    already gone) and locally, whether or not the key keeps another secret: the last-secret rule of
    ``secret_delete`` protects developers from locking themselves out by hand, but an expired
    secret must stop working. Key managers whose adapter ``enforces_secret_expiry`` (Resident) are
    left alone. One failure does not stop the run: it is reported, its row stays, and the next run
    tries again.

    Okta will not delete a client's only active secret. When the deletion fails and the key has no
    other usable secret (none unexpired, no creation under way), the client is disabled at the key
    manager instead (``disable_client``), the row deleted, and the key marked
    (``CLIENT_DISABLED_FOR_EXPIRY`` and the secret's remote id in its adapter state): the keys page
    says so, and the key's next new secret enables the client again after deleting the expired one
    there (``client_enable_after_new_secret``).

    Safe to run from cron on several machines at once. Each secret is claimed in its own short
    transaction by deleting its row (skipping a row another run has locked); the key-manager call
    follows the commit, so no row lock is held across HTTP, and a failed call puts the row back,
    like ``secret_delete`` does.
    """
    now = now or timezone.now()
    result = ExpireResult()
    deletable, unenforceable = _expiry_scope()
    if unenforceable:
        result.unenforceable = _expired(now=now).filter(key__key_manager__in=unenforceable).count()
    candidates = list(
        _expired(now=now)
        .filter(key__key_manager__in=deletable)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)
    )
    if dry_run:
        result.expired = len(candidates)
        return result
    for pk in candidates:
        _expire_one(pk=pk, now=now, result=result)
    return result


def _expire_one(*, pk, now: datetime, result: ExpireResult) -> None:
    with transaction.atomic():
        # A fresh read of the key in the claim: an earlier secret of the same key may have changed
        # its remote state.
        secret = (
            _expired(now=now)
            .select_related("key__key_manager")
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk)
            .first()
        )
        if secret is None:
            return  # another run holds it or took it, or it changed meanwhile
        # Without row locks (SQLite) two runs may both read the row; the DELETE's row count,
        # serialised by the write lock, tells which of them claimed it.
        deleted, _ = ConsumerSecret.objects.filter(pk=pk).delete()
    if not deleted:
        return

    key = secret.key
    km = key.key_manager
    ref = ClientRef(key.consumer_key, key.get_remote_state())
    remote = "deleted"
    refused: KeyManagerError | None = None  # Okta's refusal to delete the last active secret
    try:
        adapter = adapter_for(km)
        try:
            adapter.delete_secret(ref, secret.remote_id)
        except KeyManagerError as exc:
            if exc.status == 404:
                remote = "already deleted"
            elif _disables_clients(type(adapter)) and not _has_usable_secret(key, now=now):
                refused = exc
                try:
                    adapter.disable_client(ref)
                except KeyManagerError as disable_exc:
                    raise KeyManagerError(
                        disable_exc.key_manager,
                        disable_exc.step,
                        f"{disable_exc.message} (after: {refused})",
                        status=disable_exc.status,
                    ) from disable_exc
                remote = "client disabled"
                _mark_client_disabled(ref, secret.remote_id)
            else:
                raise
    except KeyManagerError as exc:
        _restore(secret)
        _persist_remote_state(key, ref)
        logger.warning("secrets_expire: secret %s of key %s not deleted at %s: %s", pk, key.pk, km.pk, exc)
        result.failures.append(
            ExpireFailure(secret_id=str(pk), key_id=str(key.pk), key_manager=str(km), error=str(exc))
        )
        return
    except BaseException:
        _restore(secret)
        raise
    detail = {"reason": str(refused), "client": "disabled"} if refused is not None else {}
    with transaction.atomic():
        _persist_remote_state(key, ref)
        audit(
            actor=None,
            action="secret.expire",
            key=key,
            secret_id=secret.pk,
            key_manager=km.name,
            description=secret.description,
            expires_at=secret.expires_at.isoformat(),
            remote=remote,
            note=f"{EXPIRE_NOTE}; {CLIENT_DISABLED_NOTE}" if detail else EXPIRE_NOTE,
            **detail,
        )
    result.expired += 1
    if remote == "already deleted":
        result.already_gone += 1
    elif remote == "client disabled":
        result.clients_disabled += 1


def _has_usable_secret(key: ApplicationKey, *, now: datetime) -> bool:
    """Whether the key has another unexpired secret, or one being created (a fresh reservation)."""
    return (
        ConsumerSecret.objects.filter(key=key)
        .filter(unexpired_q(now))
        .filter(~Q(secret_hash="") | Q(created_at__gt=timezone.now() - RESERVATION_TTL))
        .exists()
    )


def _mark_client_disabled(ref: ClientRef, remote_id: str) -> None:
    ref.state[CLIENT_DISABLED_FOR_EXPIRY] = True
    if remote_id:
        kept = [r for r in ref.state.get(EXPIRED_REMOTE_SECRETS) or [] if r != remote_id]
        ref.state[EXPIRED_REMOTE_SECRETS] = [*kept, remote_id]


def _restore(secret: ConsumerSecret) -> None:
    """Put back a claimed row whose deletion at the key manager failed: it still works there."""
    try:
        with transaction.atomic():
            secret.save(force_insert=True)
    except IntegrityError:
        # The key itself was deleted meanwhile (with its client at the key manager).
        logger.warning("secrets_expire: secret %s not restored: its key %s is gone", secret.pk, secret.key_id)
