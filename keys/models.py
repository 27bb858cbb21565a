"""Application keys ("key mappings"), their consumer secrets, and the scope catalogue.

This app reaches key managers only through ``keymanagers.base`` (never DOT, never HTTP).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from keymanagers.base import EXPIRY_DEFAULTS
from portal import crypto


class KeyType(models.TextChoices):
    PRODUCTION = "PRODUCTION", "Production"
    SANDBOX = "SANDBOX", "Sandbox"


class ApplicationKey(models.Model):
    """An application's OAuth client at one key manager, in one environment."""

    class State(models.TextChoices):
        COMPLETED = "COMPLETED", "Completed"
        PARTIALLY_CREATED = "PARTIALLY_CREATED", "Partially created"

    class Mode(models.TextChoices):
        CREATED = "CREATED", "Created"
        MAPPED = "MAPPED", "Mapped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="key mapping id")
    application = models.ForeignKey("portal.Application", on_delete=models.CASCADE, related_name="keys")
    key_type = models.CharField(max_length=16, choices=KeyType.choices)
    key_manager = models.ForeignKey("keymanagers.KeyManager", on_delete=models.PROTECT, related_name="keys")
    consumer_key = models.CharField(max_length=255, blank=True, db_index=True)
    supported_grant_types = models.JSONField(default=list, blank=True)
    callback_url = models.CharField(max_length=2000, blank=True)
    key_state = models.CharField(max_length=20, choices=State.choices, default=State.COMPLETED)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.CREATED)

    # Seconds; a negative value means never expires.
    application_access_token_expiry_time = models.IntegerField(
        default=EXPIRY_DEFAULTS["application_access_token_expiry_time"]
    )
    user_access_token_expiry_time = models.IntegerField(
        default=EXPIRY_DEFAULTS["user_access_token_expiry_time"]
    )
    refresh_token_expiry_time = models.IntegerField(default=EXPIRY_DEFAULTS["refresh_token_expiry_time"])
    id_token_expiry_time = models.IntegerField(default=EXPIRY_DEFAULTS["id_token_expiry_time"])
    pkce_mandatory = models.BooleanField(default=False)
    pkce_support_plain = models.BooleanField(default=False)
    bypass_client_credentials = models.BooleanField(default=False, verbose_name="public client")
    additional_properties = models.JSONField(default=dict, blank=True)

    # What the adapter needs to reach the client again (registration URI and access token, remote
    # ids): may hold credentials, so it is encrypted.
    remote_state_encrypted = models.TextField(blank=True, default="")
    # Why a key is PARTIALLY_CREATED: the step that failed, for the page and for Clean up.
    failure_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key_type", "key_manager__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "key_type", "key_manager"], name="one_key_per_app_env_keymanager"
            ),
            # One client belongs to one key: two applications mapping the same client at once lose.
            models.UniqueConstraint(
                fields=["key_manager", "consumer_key"],
                condition=~models.Q(consumer_key=""),
                name="one_key_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.key_type} @ {self.key_manager_id}"

    def get_remote_state(self) -> dict:
        return crypto.decrypt_json(self.remote_state_encrypted)

    def set_remote_state(self, state: dict) -> None:
        self.remote_state_encrypted = crypto.encrypt_json(state) if state else ""


class ConsumerSecret(models.Model):
    """A consumer secret of a key: a keyed hash of the value, never the value itself.

    ``value_encrypted`` is only filled in single-secret mode, where the details page may reveal the
    secret (the older behaviour); switching multiple secrets on destroys it for good.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="secret id")
    key = models.ForeignKey(ApplicationKey, on_delete=models.CASCADE, related_name="secrets")
    # The id the key manager knows this secret by (the resident server's ClientSecret id, Okta's
    # secret id); empty where the key manager has only one unnamed secret.
    remote_id = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=1024, blank=True)
    secret_hash = models.CharField(max_length=64)
    value_encrypted = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when the owner was emailed that this secret is about to expire (once per secret).
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "expires_at"])]

    def __str__(self) -> str:
        return self.description or f"secret {self.id}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class Scope(models.Model):
    """An OAuth scope admins define; ``default`` is always allowed.

    Every key may get an unrestricted scope; a restricted one only keys of the ``applications``
    listed (a privileged scope must not be one sign-up away).
    """

    name = models.CharField(max_length=100, unique=True)
    display_name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    restricted = models.BooleanField(default=False, help_text="Only the applications listed may get it")
    applications = models.ManyToManyField(
        "portal.Application",
        blank=True,
        related_name="granted_scopes",
        help_text="The applications that may get this scope while it is restricted.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
