"""Writes on keys: generation, mapping, configuration, removal, clean-up, secret and token requests.

The pages (``keys/views.py``) and the REST API (``keys/api/views.py``) both call these.

Key managers may be remote servers, so no adapter call ever runs inside a transaction: a service
calls the adapter first and then saves locally in a short ``transaction.atomic()``. When the
key manager made a client and a later step failed, the service deletes that client again; when
that fails too, the key is kept as ``PARTIALLY_CREATED`` with the reason, for **Clean up**.
The adapter's state (``ref.state``) is saved after every call that may have changed it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keymanagers.base import (
    KeyManagerError,
    SecretInfo,
    TokenResult,
    adapter_for,
)
from keymanagers.models import GrantType, KeyManager
from keys.compensation import audit_generate_failure, compensate, insert_key, refuse_client_in_use
from keys.config import clean_key_config
from keys.errors import KeysConflict, KeysError
from keys.models import ApplicationKey, ConsumerSecret
from keys.remote import audit_failure, remote_call
from keys.rules import (
    CLIENT_IN_USE,
    check_key_type,
    clean_scopes,
    clean_validity,
    client_in_use,
    conflict_for,
    ensure_no_key,
    km_label,
    require_complete,
    require_enabled,
)
from keys.secrets.rules import DESCRIPTION_MAX_LENGTH, MAX_EXPIRY_DAYS, secret_expiry_too_far
from keys.secrets.services import client_enable_after_new_secret
from portal import crypto
from portal.audit import audit

logger = logging.getLogger(__name__)


@dataclass
class GeneratedKeys:
    """What Generate Keys made. ``consumer_secret`` and ``token`` are shown once, then forgotten."""

    key: ApplicationKey
    consumer_secret: str
    secret: ConsumerSecret | None
    token: TokenResult | None


@dataclass
class UpdatedKeys:
    """What Update did. ``consumer_secret`` is set only when the server rotated the secret."""

    key: ApplicationKey
    consumer_secret: str | None


# -- small helpers ---------------------------------------------------------------------------------


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _clean_secret_fields(description: str, expires_at: datetime | None) -> str:
    description = (description or "").strip()
    errors = {}
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors["secret_description"] = [f"Use at most {DESCRIPTION_MAX_LENGTH} characters."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["secret_expires_at"] = ["The secret's expiry must be in the future."]
    elif secret_expiry_too_far(expires_at, now=timezone.now()):
        errors["secret_expires_at"] = [f"A secret may expire at most {MAX_EXPIRY_DAYS} days from now."]
    if errors:
        raise ValidationError(errors)
    return description


def _store_secret(
    key: ApplicationKey, info: SecretInfo, *, description: str = "", actor=None
) -> ConsumerSecret:
    """A keyed hash always; the encrypted value only in single-secret mode (the page may reveal it)."""
    single = not key.key_manager.multiple_secrets_enabled
    return ConsumerSecret.objects.create(
        key=key,
        remote_id=info.remote_id or "",
        description="" if single else description,
        secret_hash=crypto.keyed_hash(info.value),
        value_encrypted=crypto.encrypt(info.value) if single else "",
        expires_at=info.expires_at,
        created_by=_user(actor),
    )


def stored_secret_value(key: ApplicationKey) -> str:
    """The secret the portal may read back (single-secret mode only), or ""."""
    if key.key_manager.multiple_secrets_enabled:
        return ""
    now = timezone.now()
    for secret in key.secrets.all():
        if secret.value_encrypted and not secret.is_expired(now):
            try:
                return crypto.decrypt(secret.value_encrypted)
            except ValueError:
                # Encrypted under another PORTAL_ENCRYPTION_KEY: unreadable, as if masked.
                logger.warning("Consumer secret %s of key %s cannot be decrypted", secret.pk, key.pk)
                return ""
    return ""


# -- generate ---------------------------------------------------------------------------------------


def keys_generate(
    *,
    application,
    key_type: str,
    key_manager: KeyManager,
    config: Mapping[str, Any],
    actor,
    secret_description: str = "",
    secret_expires_at: datetime | None = None,
    scopes: Iterable[str] = (),
    validity_time: Any = None,
) -> GeneratedKeys:
    """Create the client at the key manager, store the key and its first secret, and (with Client
    Credentials, where the key manager allows it) get an access token."""
    check_key_type(key_type)
    require_enabled(key_manager)
    if not key_manager.enable_oauth_app_creation:
        raise KeysError(
            f"{km_label(key_manager)} does not allow creating OAuth applications from the portal; "
            "use Provide Existing OAuth Keys instead."
        )
    adapter = adapter_for(key_manager)
    scopes = clean_scopes(scopes)
    cfg = clean_key_config(config, adapter=adapter, token_scopes=scopes)
    multiple = key_manager.multiple_secrets_enabled
    description = _clean_secret_fields(secret_description, secret_expires_at) if multiple else ""
    validity = clean_validity(validity_time, "validity_time")
    ensure_no_key(application=application, key_type=key_type, key_manager=key_manager)

    try:
        registered = adapter.register_client(
            cfg.client_config(application=application, key_type=key_type),
            secret_expires_at=secret_expires_at if multiple else None,
        )
    except KeyManagerError as exc:
        audit_generate_failure(actor, application, key_type, key_manager, exc)
        raise

    ref = registered.ref
    info = registered.secret
    if client_in_use(key_manager, ref.client_id):
        refuse_client_in_use(actor, application, key_type, key_manager, None)
    wants_token = (
        GrantType.CLIENT_CREDENTIALS in cfg.grant_types
        and key_manager.enable_token_generation
        and info is not None
    )
    token: TokenResult | None = None
    try:
        if wants_token:
            token = adapter.issue_token(
                ref, client_secret=info.value, scopes=scopes, validity_period=validity
            )
        with transaction.atomic():
            key = insert_key(application, key_type, key_manager, ref, **cfg.model_fields())
            secret = _store_secret(key, info, description=description, actor=actor) if info else None
            audit(
                actor=actor,
                action="keys.generate",
                application=application,
                key=key,
                secret_id=secret.pk if secret else None,
                key_type=key_type,
                key_manager=key_manager.name,
                grant_types=cfg.grant_types,
                token_issued=token is not None,
            )
    except Exception as exc:
        if isinstance(exc, IntegrityError) and client_in_use(key_manager, ref.client_id):
            refuse_client_in_use(actor, application, key_type, key_manager, exc)
        compensate(
            adapter,
            ref,
            exc,
            application=application,
            key_type=key_type,
            key_manager=key_manager,
            cfg=cfg,
            actor=actor,
        )
        raise  # _compensate raises; this keeps linters and readers sure of it

    return GeneratedKeys(key=key, consumer_secret=info.value if info else "", secret=secret, token=token)


# -- map existing ----------------------------------------------------------------------------------


def keys_map(
    *,
    application,
    key_type: str,
    key_manager: KeyManager,
    consumer_key: str,
    consumer_secret: str,
    actor,
) -> ApplicationKey:
    """Provide Existing OAuth Keys: adopt a client that already exists at the key manager."""
    check_key_type(key_type)
    require_enabled(key_manager)
    if not key_manager.enable_map_oauth_consumer_apps:
        raise KeysError(f"{km_label(key_manager)} does not allow providing existing OAuth keys.")
    consumer_key = (consumer_key or "").strip()
    consumer_secret = (consumer_secret or "").strip()
    errors = {}
    if not consumer_key:
        errors["consumer_key"] = ["Enter the consumer key (client id)."]
    elif len(consumer_key) > 255:
        errors["consumer_key"] = ["Use at most 255 characters."]
    if not consumer_secret:
        errors["consumer_secret"] = ["Enter the consumer secret."]
    if errors:
        raise ValidationError(errors)
    ensure_no_key(application=application, key_type=key_type, key_manager=key_manager)
    if client_in_use(key_manager, consumer_key):
        raise KeysConflict(CLIENT_IN_USE)

    adapter = adapter_for(key_manager)
    try:
        registered = adapter.map_client(consumer_key, consumer_secret)
    except KeyManagerError as exc:
        audit_failure(
            actor,
            "keys.map",
            application=application,
            error=exc,
            key_type=key_type,
            key_manager=key_manager.name,
        )
        raise
    info = registered.secret or SecretInfo(value=consumer_secret)
    try:
        with transaction.atomic():
            key = insert_key(
                application,
                key_type,
                key_manager,
                registered.ref,
                mode=ApplicationKey.Mode.MAPPED,
                supported_grant_types=list(registered.grant_types),
                callback_url=registered.callback_url or "",
            )
            secret = _store_secret(key, info, actor=actor)
            audit(
                actor=actor,
                action="keys.map",
                application=application,
                key=key,
                secret_id=secret.pk,
                key_type=key_type,
                key_manager=key_manager.name,
            )
    except IntegrityError as exc:
        # Another request saved this client, or keys for this environment, since the checks
        # above. Nothing was created remotely, so there is nothing to undo there.
        conflict = conflict_for(key_type, key_manager, registered.ref.client_id)
        audit_failure(
            actor,
            "keys.map",
            application=application,
            error=conflict,
            key_type=key_type,
            key_manager=key_manager.name,
        )
        raise conflict from exc
    return key


# -- update, remove, clean up ---------------------------------------------------------------------


def keys_update(
    *, key: ApplicationKey, config: Mapping[str, Any], actor, _admin_sync: bool = False
) -> UpdatedKeys:
    """Apply a changed Key Configuration at the key manager, then locally.

    Some servers rotate the client secret on every update (an RFC 7592 registration policy): the
    new secret then replaces the stored ones and is returned, to be shown once. ``_admin_sync``
    (``scopes_sync`` only) also reaches a disabled key manager: a withdrawn scope grant must take
    effect even where developers may not change keys.
    """
    key_manager = key.key_manager
    if not _admin_sync:
        require_enabled(key_manager)
    require_complete(key)
    adapter = adapter_for(key_manager)
    cfg = clean_key_config(config, adapter=adapter)
    with remote_call(key, actor=actor, action="keys.update", application=key.application_id) as ref:
        rotated = adapter.update_client(
            ref, cfg.client_config(application=key.application, key_type=key.key_type)
        )
    with transaction.atomic():
        for name, value in cfg.model_fields().items():
            setattr(key, name, value)
        key.set_remote_state(ref.state)
        key.save()
        if rotated is not None:
            # The old secret no longer works at the server: keep only the new one.
            key.secrets.all().delete()
            _store_secret(key, rotated, actor=actor)
        audit(
            actor=actor,
            action="keys.update",
            application=key.application_id,
            key=key,
            grant_types=cfg.grant_types,
            secret_rotated=rotated is not None,
        )
    return UpdatedKeys(key=key, consumer_secret=rotated.value if rotated is not None else None)


def _remove(key: ApplicationKey, actor, action: str) -> None:
    # A mapped client was made by someone else, outside the portal: forgetting it is all we do.
    if key.mode == ApplicationKey.Mode.CREATED and key.consumer_key:
        with remote_call(key, actor=actor, action=action, application=key.application_id) as ref:
            adapter_for(key.key_manager).delete_client(ref)
    with transaction.atomic():
        audit(
            actor=actor,
            action=action,
            application=key.application_id,
            key=key.pk,
            key_type=key.key_type,
            key_manager=key.key_manager.name,
            consumer_key=key.consumer_key,
        )
        key.delete()


def keys_delete(*, key: ApplicationKey, actor) -> None:
    """Remove Keys: delete the client at the key manager (revoking its tokens), then the key."""
    _remove(key, actor, "keys.delete")


def keys_clean_up(*, key: ApplicationKey, actor) -> None:
    """Remove a partially created key: what exists at the key manager first, then the row."""
    if key.key_state != ApplicationKey.State.PARTIALLY_CREATED:
        raise KeysError("These keys are complete: nothing to clean up. Use Remove Keys to delete them.")
    _remove(key, actor, "keys.clean_up")


def keys_delete_all(*, application, actor=None) -> None:
    """Delete every key of ``application`` at its key manager, then locally (application delete).

    Stops at the first key manager that fails (``KeyManagerError``): the keys removed so far stay
    removed, the rest stay in place, and the caller keeps the application.
    """
    for key in application.keys.select_related("key_manager", "application"):
        _remove(key, actor, "keys.delete")


# -- secrets and tokens ----------------------------------------------------------------------------


def secret_regenerate(*, key: ApplicationKey, actor) -> str:
    """Replace the key's secret (single-secret mode); returns the new value, to be shown once."""
    key_manager = key.key_manager
    require_enabled(key_manager)
    require_complete(key)
    if key_manager.multiple_secrets_enabled:
        raise KeysError(
            f"{km_label(key_manager)} keeps several secrets per key: create a new secret, then delete "
            "the old one (generate-secret and revoke-secret in the API)."
        )
    with remote_call(
        key, actor=actor, action="keys.secret_regenerate", application=key.application_id
    ) as ref:
        info = adapter_for(key_manager).regenerate_secret(ref)
    with transaction.atomic():
        # Serialise with other writers of this key's secrets for the short local part.
        ApplicationKey.objects.select_for_update().filter(pk=key.pk).first()
        key.secrets.all().delete()
        secret = _store_secret(key, info, actor=actor)
        key.set_remote_state(ref.state)
        key.save(update_fields=["remote_state_encrypted", "updated_at"])
        audit(
            actor=actor,
            action="keys.secret_regenerate",
            application=key.application_id,
            key=key,
            secret_id=secret.pk,
        )
    # A client disabled when its last secret expired (Okta) works again with the new one; if that
    # fails, the key keeps its warning on the page and the failure is in the audit log.
    client_enable_after_new_secret(key=key, actor=actor)
    return info.value
