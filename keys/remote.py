"""Calls to a key manager about one key: the one place that keeps the adapter's state and audits
a failure.

Adapters may change ``ref.state`` on any call, success or not (Keycloak rotates its registration
access token on every call, ``keymanagers.base``), so the caller must save it either way. A failed
call is audited and re-raised as it is; what the caller does after a success (save the key's
fields, store a secret) stays with the caller.

    with remote_call(key, actor=actor, action="keys.update", application=key.application_id) as ref:
        rotated = adapter_for(key.key_manager).update_client(ref, config)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from keymanagers.base import ClientRef, KeyManagerError
from keys.models import ApplicationKey
from portal.audit import audit
from portal.models import AuditEvent


def client_ref(key: ApplicationKey) -> ClientRef:
    """How the adapter reaches the key's client: its id and the adapter's own state."""
    return ClientRef(key.consumer_key, key.get_remote_state())


def save_state(key: ApplicationKey, ref: ClientRef) -> None:
    """Keep what the adapter learnt (a rotated registration access token, …), if anything changed."""
    if ref.state == key.get_remote_state():
        return
    key.set_remote_state(ref.state)
    ApplicationKey.objects.filter(pk=key.pk).update(
        remote_state_encrypted=key.remote_state_encrypted, updated_at=timezone.now()
    )


def audit_failure(actor, action: str, *, error: Exception, key=None, **detail) -> None:
    """Audit ``action`` as failed with ``error``'s message (adapters' errors name the key manager
    and the step, never a secret)."""
    audit(
        actor=actor,
        action=action,
        key=key,
        outcome=AuditEvent.Outcome.FAILURE,
        error=str(error)[:500],
        **detail,
    )


@contextmanager
def remote_call(key: ApplicationKey, *, actor, action: str, **detail) -> Iterator[ClientRef]:
    """Yield the key's ``ClientRef``; if the block raises ``KeyManagerError``, save the adapter's
    state, audit ``action`` as a failure (with ``detail``) and re-raise."""
    ref = client_ref(key)
    try:
        yield ref
    except KeyManagerError as exc:
        save_state(key, ref)
        audit_failure(actor=actor, action=action, key=key, error=exc, **detail)
        raise
