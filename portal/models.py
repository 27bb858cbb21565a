"""The applications domain: applications, personal API tokens and the audit log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class TokenType(models.TextChoices):
    JWT = "JWT", "JWT"
    OAUTH = "OAUTH", "OAuth (opaque)"


class Application(models.Model):
    """A developer's registered application: the thing keys are generated for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="application id")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(max_length=70)
    description = models.TextField(blank=True, max_length=1024)
    token_type = models.CharField(max_length=8, choices=TokenType.choices, default=TokenType.JWT)
    throttling_policy = models.CharField(max_length=64, default="Unlimited")
    status = models.CharField(max_length=32, default="APPROVED")
    # The values of the admin-defined ``ApplicationAttribute``s, by attribute name (checked by
    # ``portal.applications.services.clean_attributes``).
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="application_name_unique_per_owner"),
        ]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return self.name


class ApplicationAttribute(models.Model):
    """Something an admin asks of every application (the reference's application attributes):
    shown on the application form, stored per application, in the REST API as ``attributes``."""

    name = models.CharField(
        max_length=100, unique=True, help_text="What developers see, and the key in the API's attributes."
    )
    description = models.CharField(max_length=255, blank=True, help_text="Shown under the field.")
    required = models.BooleanField(default=False, help_text="An application cannot be saved without it.")
    hidden = models.BooleanField(
        default=False,
        help_text="Not shown to developers: every application gets the default value.",
    )
    default = models.CharField(max_length=1024, blank=True, help_text="The value when none is given.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token: ``Authorization: Bearer dpt_…`` for scripts. Only a keyed hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, unique: finds the row in one indexed lookup, and lets a
    # user recognise a token in the list without the value.
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class AuditEvent(models.Model):
    """Who did what to which application, key or secret, and how it ended. Never a secret value."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    # Plain ids, not foreign keys: the history must outlive what it describes.
    application_id = models.UUIDField(null=True, blank=True, db_index=True)
    key_mapping_id = models.UUIDField(null=True, blank=True)
    secret_id = models.UUIDField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.outcome}"


class PendingSignup(models.Model):
    """An account made by sign-up whose e-mail address is not verified yet (the user is inactive).

    Kept apart from ``is_active`` so that verifying an address can never re-enable an account an
    admin switched off; an unverified one older than the link's lifetime gives way to a new sign-up.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_signup"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"pending sign-up of user {self.user_id}"
