"""Expiry at key managers that do not enforce it (``manage.py expire_secrets``, from cron).

Okta's secrets never expire by themselves, so an expired secret is deleted there; where Okta will
not delete a client's last active secret, the client is disabled instead until the key gets a new
secret (``keys.secrets.services.client_enable_after_new_secret``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from keymanagers.base import ClientRef, KeyManagerAdapter, KeyManagerError, adapter_for
from keymanagers.models import KeyManager
from keys.models import ApplicationKey, ConsumerSecret
from keys.remote import client_ref, save_state
from keys.secrets.rules import EXPIRED_REMOTE_SECRETS
from keys.secrets.selectors import RESERVATION_TTL, unexpired_q
from keys.selectors import CLIENT_DISABLED_FOR_EXPIRY
from portal.audit import audit

logger = logging.getLogger(__name__)

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
    ref = client_ref(key)
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
        save_state(key, ref)
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
        save_state(key, ref)
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
