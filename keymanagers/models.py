"""Key managers (the authorization servers keys are created at) and the resident server's own data.

``OAuthClient`` is django-oauth-toolkit's swapped Application model (OAUTH2_PROVIDER_APPLICATION_MODEL):
it is swapped from the very first migration, because swapping later leaves DOT's token tables
pointing at the old table.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from portal import crypto


class GrantType(models.TextChoices):
    CLIENT_CREDENTIALS = "client_credentials", "Client Credentials"
    REFRESH_TOKEN = "refresh_token", "Refresh Token"
    AUTHORIZATION_CODE = "authorization_code", "Code"
    PASSWORD = "password", "Password"
    IMPLICIT = "implicit", "Implicit"
    JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer", "JWT"
    TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange", "Token Exchange"
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code", "Device Code"


# Current OAuth security guidance (RFC 9700) forbids these: offered only where an admin allows them.
DISCOURAGED_GRANT_TYPES = {GrantType.PASSWORD, GrantType.IMPLICIT}
# Grant types that send the user back to the client, and so need a callback URL.
REDIRECT_GRANT_TYPES = {GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT}


DEFAULT_SECRET_COUNT = 10


class KeyManager(models.Model):
    """An authorization server the portal creates OAuth clients at (``type`` selects the adapter)."""

    class Type(models.TextChoices):
        RESIDENT = "resident", "Resident (built in)"
        OIDC_DCR = "oidc-dcr", "OpenID Connect Dynamic Client Registration"
        KEYCLOAK = "keycloak", "Keycloak"
        OKTA = "okta", "Okta"

    class TokenFormat(models.TextChoices):
        JWT = "JWT", "JWT"
        OPAQUE = "OPAQUE", "Opaque (reference)"
        DIRECT = "DIRECT", "Chosen by the application's token type"

    id = models.BigAutoField(primary_key=True)
    name = models.SlugField(max_length=100, unique=True)
    display_name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=Type.choices)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=100, help_text="Tabs are shown in this order.")

    well_known_url = models.URLField(blank=True, max_length=500)
    issuer = models.CharField(blank=True, max_length=500)
    authorize_endpoint = models.URLField(blank=True, max_length=500)
    token_endpoint = models.URLField(blank=True, max_length=500)
    revoke_endpoint = models.URLField(blank=True, max_length=500)
    introspection_endpoint = models.URLField(blank=True, max_length=500)
    userinfo_endpoint = models.URLField(blank=True, max_length=500)
    jwks_endpoint = models.URLField(blank=True, max_length=500)
    registration_endpoint = models.URLField(blank=True, max_length=500)

    available_grant_types = models.JSONField(default=list, blank=True)
    token_format = models.CharField(max_length=8, choices=TokenFormat.choices, default=TokenFormat.DIRECT)
    enable_oauth_app_creation = models.BooleanField(default=True)
    enable_token_generation = models.BooleanField(default=True)
    enable_map_oauth_consumer_apps = models.BooleanField(default=False)

    # Multiple consumer secrets (SPEC 3.3). Unlimited only when an admin empties secret_count:
    # thousands of secrets on one key make its pages and API answers slow and large.
    multiple_secrets_enabled = models.BooleanField(
        default=True,
        help_text="Several secrets per key, each shown only once. Switching this on masks every "
        "existing secret of this key manager for good: developers can no longer reveal them.",
    )
    secret_count = models.PositiveIntegerField(
        null=True, blank=True, default=DEFAULT_SECRET_COUNT, help_text="Empty: unlimited."
    )

    # Adapter settings that are not secret (realm, Okta authorization server id, …).
    config = models.JSONField(default=dict, blank=True)
    # Admin credentials for the external server, Fernet-encrypted JSON; never shown back.
    credentials_encrypted = models.TextField(blank=True, default="")
    timeout = models.FloatField(
        null=True, blank=True, help_text="Seconds; empty uses PORTAL_KEYMANAGER_TIMEOUT."
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.display_name or self.name

    @property
    def is_resident(self) -> bool:
        return self.type == self.Type.RESIDENT

    def get_credentials(self) -> dict:
        return crypto.decrypt_json(self.credentials_encrypted)

    def set_credentials(self, credentials: dict) -> None:
        self.credentials_encrypted = crypto.encrypt_json(credentials) if credentials else ""


class OAuthClient(AbstractApplication):
    """A client of the resident authorization server (DOT's Application, swapped).

    DOT allows one grant type per client; ``grant_types`` holds several and ``allows_grant_type``
    honours them. Secrets are not in DOT's ``client_secret`` (which DOT would check with the slow
    password hasher): they are ``ClientSecret`` rows, checked with a keyed hash.
    """

    grant_types = models.JSONField(default=list, blank=True)
    token_format = models.CharField(max_length=8, default="JWT")  # JWT | OAUTH (opaque)
    # Seconds; negative means never expires; empty means the server default.
    application_token_lifetime = models.IntegerField(null=True, blank=True)
    user_token_lifetime = models.IntegerField(null=True, blank=True)
    refresh_token_lifetime = models.IntegerField(null=True, blank=True)
    id_token_lifetime = models.IntegerField(null=True, blank=True)
    pkce_required = models.BooleanField(default=False)
    pkce_plain_allowed = models.BooleanField(default=False)
    # A resource server may introspect and revoke any client's tokens.
    is_resource_server = models.BooleanField(default=False)
    # The restricted scopes this client may get besides the unrestricted ones (filled by the portal
    # from the application's grants; see ``keymanagers.resident.scopes``).
    granted_scopes = models.JSONField(default=list, blank=True)
    # The portal application's name, shown to end users on the consent page (``name`` is internal).
    application_name = models.CharField(max_length=255, blank=True, default="")
    # A client a user registered for the portal's own REST API (/client-registration/v0.17/register):
    # its tokens act as ``user`` at the API and carry only the scopes in ``granted_scopes``
    # (``apim:*``), never the catalogue's; it holds no application key.
    api_client = models.BooleanField(default=False)
    # When the client last authenticated at the token, introspection or revocation endpoint (to the
    # minute: ``keymanagers.resident.usage`` writes at most once a minute per client and secret).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Access tokens this client was issued at or before this moment are refused ("revoke earlier
    # tokens"): its client_credentials JWTs are not stored, so they cannot be deleted one by one
    # (``keymanagers.resident.revocation``).
    tokens_revoked_before = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "resident OAuth client"

    def allows_grant_type(self, *grant_types):
        allowed = set(self.grant_types or [self.authorization_grant_type])
        # DOT names the code grant "authorization-code"; oauthlib and RFCs say "authorization_code".
        normalised = {g.replace("-", "_") for g in allowed}
        return bool(normalised & {g.replace("-", "_") for g in grant_types})


class ClientSecret(models.Model):
    """One consumer secret of a resident client: a keyed hash, an optional expiry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="secrets")
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When this secret last authenticated its client (to the minute; ``keymanagers.resident.usage``).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["client", "expires_at"])]

    def __str__(self) -> str:
        return f"secret {self.id} of {self.client_id}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class SigningKey(models.Model):
    """A key the resident server signs JWTs with. Retired keys stay in the JWKS until ``publish_until``."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=8, default="RS256")
    private_key_encrypted = models.TextField(help_text="PEM, Fernet-encrypted")
    public_jwk = models.JSONField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(null=True, blank=True)
    # No earlier than this, the latest expiry of an unstored JWT this key signed: those tokens have
    # no row to count when the key is retired (``signing.publish_until``). Raised in steps, so a
    # worker writes it about once an hour, not once per token.
    unstored_expiry = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kid} ({self.algorithm}, {self.state})"


class RedeemedCode(models.Model):
    """An authorization code of the resident server that was exchanged, and what it gave.

    A second use of the code is refused, and the tokens issued from it are revoked (RFC 6749
    4.1.2): the code was stolen, or the first exchange was. Kept until the code would have
    expired plus the clean-up's grace period. Codes are kept only as their keyed hash.
    """

    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    access_token_id = models.BigIntegerField(null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True)
    expires = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "redeemed authorization code"

    def __str__(self) -> str:
        return f"Redeemed code #{self.pk}"


class ResidentStamp(models.Model):
    """One row whose ``version`` changes with every change to a resident client, its secrets or a
    key manager, whoever makes it (the portal, the admin, a bulk update, SQL by hand).

    Database triggers bump it (migration 0007), in the same transaction as the change, so a reader
    sees the new version exactly when it can see the new rows. Each worker caches clients, their
    grant rules and their secrets' hashes under the version it read first
    (``keymanagers.resident.cache``) and reads the version once per request: a deleted secret stops
    working on every instance at the next request.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "resident cache stamp"

    def __str__(self) -> str:
        return f"resident cache stamp {self.version}"


class RevokedToken(models.Model):
    """An access token of the resident server that is revoked but has no row to delete: a
    client_credentials JWT, which is not stored (README "Token storage and revocation").

    Kept by its ``jti`` until the token would have expired; ``clear_resident_tokens`` deletes it
    after that, when the token is refused for its expiry anyway.
    """

    jti = models.CharField(max_length=64, primary_key=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "revoked JWT"

    def __str__(self) -> str:
        return f"revoked JWT {self.jti}"
