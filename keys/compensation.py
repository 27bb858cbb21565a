"""Saving a client the key manager just made, and undoing it when a later step fails.

Generate Keys calls the key manager first and saves locally after. When that later step fails, the
client is deleted again (``compensate``); when even that fails, the key is kept as
``PARTIALLY_CREATED`` with the reason, for **Clean up**. A client another key already holds is
never deleted "to clean up": it is that key's client (``refuse_client_in_use``).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from keymanagers.base import ClientRef, KeyManagerAdapter, KeyManagerError
from keymanagers.models import KeyManager
from keys.config import KeyConfig
from keys.errors import KeysConflict, KeysNotSaved, KeysPartiallyCreated
from keys.models import ApplicationKey
from keys.remote import audit_failure
from keys.rules import CLIENT_IN_USE, already_exists, km_label

logger = logging.getLogger(__name__)


def insert_key(application, key_type, key_manager, ref: ClientRef, **fields) -> ApplicationKey:
    """A new key row for the client ``ref`` names, with the adapter's state (encrypted)."""
    key = ApplicationKey(
        application=application,
        key_type=key_type,
        key_manager=key_manager,
        consumer_key=ref.client_id,
        **fields,
    )
    key.set_remote_state(ref.state)
    key.save(force_insert=True)
    return key


def audit_generate_failure(
    actor, application, key_type: str, key_manager: KeyManager, error, **detail
) -> None:
    """Audit a failed Generate Keys, with what was asked for and how far it got (``detail``)."""
    audit_failure(
        actor,
        "keys.generate",
        application=application,
        error=error,
        key_type=key_type,
        key_manager=key_manager.name,
        **detail,
    )


def refuse_client_in_use(actor, application, key_type, key_manager, exc: Exception | None) -> None:
    """The key manager handed out a client that another key already holds. It is that key's client,
    so deleting it "to clean up" would break the other application: save nothing, delete nothing."""
    conflict = KeysConflict(CLIENT_IN_USE)
    audit_generate_failure(actor, application, key_type, key_manager, conflict, client_in_use=True)
    raise conflict from exc


def describe(exc: Exception) -> str:
    if isinstance(exc, KeyManagerError):
        return str(exc)
    if isinstance(exc, IntegrityError):
        return "saving the keys in the portal failed: they were created at the same time by another request"
    return "saving the keys in the portal failed"


def compensate(
    adapter: KeyManagerAdapter,
    ref: ClientRef,
    exc: Exception,
    *,
    application,
    key_type: str,
    key_manager: KeyManager,
    cfg: KeyConfig,
    actor,
) -> None:
    """A step after the remote client was created failed: delete the client again, or record the
    half-made key for Clean up. Always raises."""
    if not isinstance(exc, KeyManagerError):
        logger.exception(
            "Saving keys failed after %s created client %s", km_label(key_manager), ref.client_id
        )
    reason = describe(exc)
    try:
        adapter.delete_client(ref)
    except KeyManagerError as cleanup_exc:
        reason = f"{reason}; removing the client at {km_label(key_manager)} again also failed: {cleanup_exc}"
        key = save_partial(application, key_type, key_manager, cfg, ref, reason)
        audit_generate_failure(
            actor, application, key_type, key_manager, exc, key=key, partially_created=True
        )
        raise KeysPartiallyCreated(
            f"Keys are partially created: {reason}. Use Clean up to remove them."
        ) from exc
    audit_generate_failure(actor, application, key_type, key_manager, exc, client_removed=True)
    if isinstance(exc, IntegrityError):
        raise KeysConflict(already_exists(key_type, key_manager)) from exc
    if isinstance(exc, KeyManagerError):
        raise exc
    raise KeysNotSaved(
        f"{reason}; the client at {km_label(key_manager)} was removed again. Try again."
    ) from exc


def save_partial(application, key_type, key_manager, cfg: KeyConfig, ref: ClientRef, reason: str):
    try:
        with transaction.atomic():
            return insert_key(
                application,
                key_type,
                key_manager,
                ref,
                key_state=ApplicationKey.State.PARTIALLY_CREATED,
                failure_reason=reason,
                **cfg.model_fields(),
            )
    except Exception:
        # Nowhere left to record it: the log line is what an operator cleans up from.
        logger.exception(
            "Could not record partially created client %s at %s", ref.client_id, km_label(key_manager)
        )
        return None
