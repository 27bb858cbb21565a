"""A client a user registered for the REST API (the reference portal's dynamic client registration)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from keymanagers.models import OAuthClient


class ApiClient(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_clients")
    # The resident OAuth client the tokens are issued to; its secrets are ClientSecret rows (keyed
    # hashes), like every other resident client's.
    oauth_client = models.OneToOneField(
        OAuthClient, on_delete=models.CASCADE, related_name="api_registration"
    )
    client_name = models.CharField(max_length=255)
    # What the registration said, answered back as the reference does (``callBackURL``,
    # ``isSaasApplication``, the grant types in ``jsonString``). The callback is never redirected
    # to: the client has no code grant.
    callback_url = models.CharField(max_length=2000, blank=True, default="")
    saas_app = models.BooleanField(default=False)
    grant_types = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "REST API client"
        constraints = [
            models.UniqueConstraint(fields=["owner", "client_name"], name="api_client_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.client_name} ({self.owner})"
