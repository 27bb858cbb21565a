"""An application's token type (JWT or opaque) reaching the clients of its keys.

``portal.applications.services.application_update`` calls ``keys_apply_token_type`` before it
saves a new token type: all or nothing, since the clients live at key managers a rollback cannot
reach.
"""

from __future__ import annotations

import copy
import logging

from django.core.exceptions import ValidationError

from keymanagers.base import KeyManagerError, adapter_for
from keys.config import config_from_key
from keys.errors import KeysError
from keys.models import ApplicationKey
from keys.rules import km_label, require_enabled
from keys.services import keys_update

logger = logging.getLogger(__name__)


def _token_type_keys(application) -> list[ApplicationKey]:
    keys = application.keys.select_related("key_manager").order_by("key_type", "key_manager__order")
    return [
        key
        for key in keys
        # External servers choose their token format themselves: updating a client there would
        # change nothing, and could rotate its secret (RFC 7592 servers, Okta) or be refused.
        if adapter_for(key.key_manager).honours_token_type
        # A half-made key issues no tokens; Clean up removes it.
        and key.key_state == ApplicationKey.State.COMPLETED
    ]


def _apply_token_type(key: ApplicationKey, application, actor) -> None:
    """Update ``key``'s client with its current configuration and ``application``'s token type."""
    key.application = application
    try:
        keys_update(key=key, config=config_from_key(key), actor=actor)
    except ValidationError as exc:
        # The stored configuration no longer passes today's rules (an admin narrowed the grant
        # types, …): say which keys, since the developer did not touch them in this request.
        raise KeysError(
            f"The {key.get_key_type_display()} keys at {km_label(key.key_manager)} could not take the new "
            f"token type: {' '.join(exc.messages)} Update their Key Configurations first."
        ) from exc


def keys_apply_token_type(*, application, token_type: str, actor) -> int:
    """Give every client of ``application`` the token type ``token_type``; returns how many changed.

    Called before the application is saved with its new token type. All or nothing: when a key
    cannot be updated, the keys already updated get the application's current token type back
    and the error propagates (``KeyManagerError``, or ``KeysError`` for a disabled key manager or a
    configuration that no longer passes). If putting a key back fails too, the error says so.
    """
    keys = _token_type_keys(application)
    for key in keys:
        require_enabled(key.key_manager)
    target = copy.copy(application)
    target.token_type = token_type
    done: list[ApplicationKey] = []
    for key in keys:
        try:
            _apply_token_type(key, target, actor)
        except (KeyManagerError, KeysError) as exc:
            not_restored = _restore_token_type(done, application, actor)
            if not not_restored:
                raise
            detail = (
                f"; putting the token type {application.token_type} back on the keys already changed "
                f"also failed: {'; '.join(not_restored)}"
            )
            if isinstance(exc, KeyManagerError):
                raise KeyManagerError(
                    exc.key_manager, exc.step, exc.message + detail, status=exc.status
                ) from exc
            raise KeysError(exc.description + detail) from exc
        done.append(key)
    return len(done)


def _restore_token_type(keys: list[ApplicationKey], application, actor) -> list[str]:
    """Put ``application``'s token type back on ``keys``; returns what could not be restored."""
    failures = []
    for key in keys:
        try:
            _apply_token_type(key, application, actor)
        except (KeyManagerError, KeysError) as exc:
            logger.warning("Could not restore the token type of key %s: %s", key.pk, exc)
            failures.append(f"{key.get_key_type_display()} keys at {km_label(key.key_manager)}: {exc}")
    return failures
