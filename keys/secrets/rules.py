"""The rules of multiple consumer secrets, and their refusals: one place for each.

Whether a key may hold several secrets (``multiple_secrets_available``), when a secret may expire
(``validate_expiry``, ``secret_expiry_from_seconds``: the one rule of the pages, ``generate-keys``
and ``generate-secret``), the limits and their messages. The services (``keys.secrets.services``),
the expiry run (``keys.secrets.expiry``) and the forms read them from here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from keymanagers.base import KeyManagerError, adapter_for
from keys.errors import KeysError
from keys.models import ApplicationKey
from keys.rules import key_is_complete

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
#: The lifetimes a page offers for a new secret: days, never, or a custom number of days.
EXPIRY_CHOICES = [
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("180", "180 days"),
    ("never", "Never expires"),
    ("custom", "Custom"),
]
DEFAULT_EXPIRY_CHOICE = str(DEFAULT_EXPIRY_DAYS)
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


def require_multiple_secrets(key: ApplicationKey) -> None:
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


def require_ready(key: ApplicationKey) -> None:
    if not key_is_complete(key):
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


def expiry_from_choice(choice: str, custom_days: int | None, *, now: datetime) -> datetime | None:
    """The expiry a page's choice means (None = never expires); ``custom_days`` for "custom"."""
    if choice == "never":
        return None
    days = custom_days if choice == "custom" else int(choice)
    return now + timedelta(days=days)
