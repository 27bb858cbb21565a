"""The checks every keys service makes before it calls a key manager, and a token request's input.

Bad input is a ``ValidationError`` naming the field; a refusal (a disabled key manager, half-made
keys) is a ``KeysError`` (``portal.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from keymanagers.models import KeyManager
from keys.config import parse_seconds
from keys.errors import KeysConflict, KeysError
from keys.models import ApplicationKey, KeyType

CLIENT_IN_USE = "These OAuth keys are already used by an application in the portal."
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def km_label(key_manager: KeyManager) -> str:
    return key_manager.display_name or key_manager.name


def require_enabled(key_manager: KeyManager) -> None:
    if not key_manager.enabled:
        raise KeysError(
            f"The key manager {km_label(key_manager)} is disabled; ask an administrator to enable it."
        )


def key_is_complete(key: ApplicationKey) -> bool:
    """The key's client exists at its key manager and the portal holds all of it (not a half-made
    key waiting for Clean up): the one condition for anything that calls the client."""
    return key.key_state == ApplicationKey.State.COMPLETED and bool(key.consumer_key)


def require_complete(key: ApplicationKey) -> None:
    if not key_is_complete(key):
        raise KeysError("Keys are partially created: clean them up first, then generate them again.")


def check_key_type(key_type: str) -> str:
    if key_type not in KeyType.values:
        raise ValidationError({"key_type": [f"Choose one of: {', '.join(KeyType.values)}."]})
    return key_type


def clean_scopes(scopes: Iterable[str] | None) -> list[str]:
    """Scope names as the token request will carry them (the key manager decides which it grants)."""
    if scopes is None:
        return []
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise ValidationError({"scopes": ["Give the scopes as a list of names."]})
    cleaned = []
    for scope in scopes:
        if not isinstance(scope, str) or not _SCOPE_TOKEN.fullmatch(scope):
            raise ValidationError({"scopes": [f"“{scope}” is not a valid scope name."]})
        cleaned.append(scope)
    return list(dict.fromkeys(cleaned))


def clean_validity(value: Any, field: str = "validity_period") -> int | None:
    """Token validity in seconds; None = the key's own setting; negative = never expires."""
    if value is None or value == "":
        return None
    try:
        return parse_seconds(value)
    except ValueError:
        raise ValidationError(
            {field: ["Enter a whole number of seconds other than 0 (a negative number means never expires)."]}
        ) from None


def ensure_no_key(*, application, key_type: str, key_manager: KeyManager) -> None:
    if ApplicationKey.objects.filter(
        application=application, key_type=key_type, key_manager=key_manager
    ).exists():
        raise KeysConflict(already_exists(key_type, key_manager))


def already_exists(key_type: str, key_manager: KeyManager) -> str:
    return (
        f"Keys already exist for this application's {KeyType(key_type).label} environment at "
        f"{km_label(key_manager)}. Remove them first to generate new ones."
    )


def client_in_use(key_manager: KeyManager, consumer_key: str) -> bool:
    """Whether a key row already holds this client (the ``one_key_per_client`` constraint)."""
    return (
        bool(consumer_key)
        and ApplicationKey.objects.filter(key_manager=key_manager, consumer_key=consumer_key).exists()
    )


def conflict_for(key_type: str, key_manager: KeyManager, consumer_key: str) -> KeysConflict:
    """Which unique constraint a failed insert of a key hit, as the refusal a developer can act on."""
    if client_in_use(key_manager, consumer_key):
        return KeysConflict(CLIENT_IN_USE)
    return KeysConflict(already_exists(key_type, key_manager))
