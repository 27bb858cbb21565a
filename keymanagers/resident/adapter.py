"""The Resident adapter: the key-manager interface on the portal's own authorization server.

Clients are ``OAuthClient`` rows (DOT's swapped Application) and secrets ``ClientSecret`` rows.
``issue_token`` runs the very same oauthlib server as ``/oauth2/token`` in process (no HTTP to
ourselves), so a token made from the portal obeys exactly the rules of the endpoint.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_backends import get_oauthlib_core

from keymanagers.base import (
    ClientConfig,
    ClientRef,
    ConnectionCheck,
    InvalidScope,
    KeyManagerAdapter,
    LastUse,
    RegisteredClient,
    SecretInfo,
    TokenResult,
    register,
)
from keymanagers.models import REDIRECT_GRANT_TYPES, ClientSecret, GrantType, KeyManager, OAuthClient
from keymanagers.resident import introspection, lookup, revocation, scopes, signing, tokens, usage
from portal import crypto

log = logging.getLogger(__name__)

SECRET_PREFIX = "dps_"
CLIENT_ID_BYTES = 24  # 32 URL-safe characters
# DOT's single ``authorization_grant_type`` column uses its own spellings.
DOT_GRANT_NAMES = {
    GrantType.AUTHORIZATION_CODE: OAuthClient.GRANT_AUTHORIZATION_CODE,
    GrantType.CLIENT_CREDENTIALS: OAuthClient.GRANT_CLIENT_CREDENTIALS,
    GrantType.PASSWORD: OAuthClient.GRANT_PASSWORD,
    GrantType.IMPLICIT: OAuthClient.GRANT_IMPLICIT,
    GrantType.DEVICE_CODE: OAuthClient.GRANT_DEVICE_CODE,
}
# What the resident server serves at /oauth2/token and /oauth2/authorize: a key manager row may
# list more (the admin form refuses that), but developers are never offered the rest.
SERVED_GRANT_TYPES = (
    GrantType.CLIENT_CREDENTIALS,
    GrantType.REFRESH_TOKEN,
    GrantType.AUTHORIZATION_CODE,
    GrantType.PASSWORD,
    GrantType.IMPLICIT,
)
ENDPOINT_PATHS = {
    "token": "/oauth2/token",
    "revoke": "/oauth2/revoke",
    "userinfo": "/oauth2/userinfo",
    "introspect": "/oauth2/introspect",
    "authorize": "/oauth2/authorize",
    "jwks": "/oauth2/jwks",
    "discovery": "/.well-known/openid-configuration",
}

F = TypeVar("F", bound=Callable[..., Any])


def _database_errors_as(step: str) -> Callable[[F], F]:
    """Adapters never raise raw database errors: turn them into a KeyManagerError for ``step``."""

    def decorate(method: F) -> F:
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except DatabaseError as exc:
                log.exception("resident key manager: %s failed", step)
                raise self.error(step, f"the database refused the change ({exc.__class__.__name__})") from exc

        return wrapper  # type: ignore[return-value]

    return decorate


@register
class ResidentAdapter(KeyManagerAdapter):
    type = KeyManager.Type.RESIDENT
    supports_multiple_secrets = True
    # The token endpoint checks ``ClientSecret.expires_at`` itself.
    enforces_secret_expiry = True
    honours_token_type = True
    honours_scope_grants = True
    # keymanagers.resident.usage records it at every client authentication.
    reports_last_use = True

    # -- description -------------------------------------------------------------------------
    def available_grant_types(self) -> list[str]:
        served = {str(g) for g in SERVED_GRANT_TYPES}
        return [g for g in super().available_grant_types() if g in served]

    def endpoints(self) -> dict[str, str]:
        return {name: settings.SITE_URL + path for name, path in ENDPOINT_PATHS.items()}

    def check_connection(self) -> list[ConnectionCheck]:
        checks = []
        try:
            count = OAuthClient.objects.count()
            checks.append(ConnectionCheck("database", True, f"reachable ({count} clients)"))
        except DatabaseError as exc:
            checks.append(ConnectionCheck("database", False, f"not reachable: {exc.__class__.__name__}"))
            return checks
        try:
            key = signing.active_key()
            now = int(timezone.now().timestamp())
            probe = signing.sign(
                {"iss": settings.RESIDENT_ISSUER, "jti": "probe", "iat": now, "exp": now + 60}
            )
            signing.verify(probe)
            checks.append(
                ConnectionCheck("signing key", True, f"{key.algorithm} key {key.kid} signs and verifies")
            )
        except Exception as exc:  # any failure here is what the admin needs to see
            checks.append(ConnectionCheck("signing key", False, str(exc)))
        return checks

    # -- clients -----------------------------------------------------------------------------
    def _client(self, ref: ClientRef, step: str, *, lock: bool = False) -> OAuthClient:
        queryset = OAuthClient.objects.select_for_update() if lock else OAuthClient.objects
        client = queryset.filter(client_id=ref.client_id).first()
        if client is None:
            raise self.error(step, f"no client {ref.client_id!r} at the resident key manager")
        return client

    def _validated(self, config: ClientConfig, step: str) -> tuple[list[str], list[str], str]:
        """(grant types, redirect URIs, token format) for ``config``, or a KeyManagerError."""
        grant_types = list(dict.fromkeys(config.grant_types))
        if not grant_types:
            raise self.error(step, "choose at least one grant type")
        offered = set(self.available_grant_types())
        refused = [g for g in grant_types if g not in offered]
        if refused:
            raise self.error(step, f"grant type(s) not offered by {self.label}: {', '.join(refused)}")
        callback = config.callback_url.strip()
        # A regexp= callback is one pattern (it may itself contain commas or spaces).
        redirect_uris = [callback] if callback.startswith("regexp=") else config.callback_urls
        if set(grant_types) & {str(g) for g in REDIRECT_GRANT_TYPES} and not redirect_uris:
            raise self.error(step, "a callback URL is required for the Code and Implicit grant types")
        token_format = {
            KeyManager.TokenFormat.JWT: "JWT",
            KeyManager.TokenFormat.OPAQUE: "OAUTH",
        }.get(self.key_manager.token_format, config.token_type)
        if token_format not in ("JWT", "OAUTH"):
            raise self.error(step, f"token type must be JWT or OAUTH, not {config.token_type!r}")
        return grant_types, redirect_uris, token_format

    def _apply(
        self, client: OAuthClient, config: ClientConfig, grant_types, redirect_uris, token_format
    ) -> None:
        client.name = config.name[:255]
        client.application_name = config.application_name[:255]
        client.client_type = (
            OAuthClient.CLIENT_PUBLIC if config.public_client else OAuthClient.CLIENT_CONFIDENTIAL
        )
        client.authorization_grant_type = next(
            (DOT_GRANT_NAMES[g] for g in grant_types if g in DOT_GRANT_NAMES), grant_types[0]
        )
        client.grant_types = grant_types
        client.redirect_uris = " ".join(redirect_uris)
        client.token_format = token_format
        client.application_token_lifetime = config.application_access_token_expiry_time
        client.user_token_lifetime = config.user_access_token_expiry_time
        client.refresh_token_lifetime = config.refresh_token_expiry_time
        client.id_token_lifetime = config.id_token_expiry_time
        client.pkce_required = config.pkce_mandatory
        client.pkce_plain_allowed = config.pkce_support_plain
        client.granted_scopes = sorted(set(config.granted_scopes))
        # skip_authorization is left alone: new clients start without it, and it is the admin's decision.
        # DOT must never check this column (it would use the password hasher): secrets are ClientSecret rows.
        client.client_secret = ""
        client.hash_client_secret = False

    def _new_secret(self, client: OAuthClient, expires_at: datetime | None) -> SecretInfo:
        value = crypto.generate_secret(SECRET_PREFIX)
        row = ClientSecret.objects.create(
            client=client, secret_hash=crypto.keyed_hash(value), expires_at=expires_at
        )
        return SecretInfo(value=value, remote_id=str(row.id), expires_at=expires_at)

    @_database_errors_as("register client")
    @transaction.atomic
    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        grant_types, redirect_uris, token_format = self._validated(config, "register client")
        client = OAuthClient(client_id=secrets.token_urlsafe(CLIENT_ID_BYTES))
        self._apply(client, config, grant_types, redirect_uris, token_format)
        client.user = get_user_model().objects.filter(username=config.owner).first() if config.owner else None
        client.save()
        secret = self._new_secret(client, secret_expires_at)
        return RegisteredClient(
            ref=ClientRef(client.client_id),
            secret=secret,
            grant_types=grant_types,
            callback_url=client.redirect_uris,
        )

    @_database_errors_as("update client")
    @transaction.atomic
    def update_client(self, ref: ClientRef, config: ClientConfig) -> None:
        grant_types, redirect_uris, token_format = self._validated(config, "update client")
        client = self._client(ref, "update client", lock=True)
        self._apply(client, config, grant_types, redirect_uris, token_format)
        client.save()

    @_database_errors_as("delete client")
    @transaction.atomic
    def delete_client(self, ref: ClientRef) -> None:
        # Its secrets, tokens, refresh tokens and grants cascade with it: they stop working at once.
        OAuthClient.objects.filter(client_id=ref.client_id).delete()

    # -- secrets -----------------------------------------------------------------------------
    @_database_errors_as("regenerate secret")
    @transaction.atomic
    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        client = self._client(ref, "regenerate secret", lock=True)
        client.secrets.all().delete()
        return self._new_secret(client, None)

    @_database_errors_as("create secret")
    @transaction.atomic
    def create_secret(self, ref: ClientRef, *, expires_at: datetime | None = None) -> SecretInfo:
        client = self._client(ref, "create secret", lock=True)
        return self._new_secret(client, expires_at)

    @_database_errors_as("delete secret")
    @transaction.atomic
    def delete_secret(self, ref: ClientRef, remote_id: str) -> None:
        try:
            secret_id = uuid.UUID(str(remote_id))
        except ValueError:
            raise self.error("delete secret", f"{remote_id!r} is not a secret id") from None
        deleted, _ = ClientSecret.objects.filter(id=secret_id, client__client_id=ref.client_id).delete()
        if not deleted:
            # 404 tells the caller the secret is already gone, so it may forget it too.
            raise self.error("delete secret", "no such secret for this client", status=404)

    @_database_errors_as("report last use")
    def last_used(self, refs: list[ClientRef]) -> dict[str, LastUse]:
        # One query: the clients' rows joined with their secrets (none for a public client).
        rows = OAuthClient.objects.filter(client_id__in=[ref.client_id for ref in refs]).values_list(
            "client_id", "last_used_at", "secrets__id", "secrets__last_used_at"
        )
        report: dict[str, LastUse] = {}
        for client_id, client_used, secret_id, secret_used in rows:
            entry = report.setdefault(client_id, LastUse(client=client_used))
            if secret_id is not None:
                entry.secrets[str(secret_id)] = secret_used
        return report

    # -- tokens ------------------------------------------------------------------------------
    def issue_token(
        self,
        ref: ClientRef,
        *,
        client_secret: str,
        scopes: list[str],
        validity_period: int | None = None,
        grant_type: str = "client_credentials",
    ) -> TokenResult:
        step = "generate token"
        if grant_type != GrantType.CLIENT_CREDENTIALS:
            raise self.error(step, f"only client_credentials tokens can be generated here, not {grant_type}")
        if not client_secret:
            raise self.error(step, "the consumer secret is required")
        params = [
            ("grant_type", "client_credentials"),
            ("client_id", ref.client_id),
            ("client_secret", client_secret),
        ]
        if scopes:
            params.append(("scope", " ".join(scopes)))
        core = get_oauthlib_core()
        try:
            # The portal's own token request: not the developer's software using the secret.
            with tokens.validity_period(validity_period), usage.not_recorded():
                _, body, status = core.server.create_token_response(
                    self.endpoints()["token"],
                    http_method="POST",
                    body=urlencode(params),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
        except DatabaseError as exc:
            raise self.error(step, f"the database failed ({exc.__class__.__name__})") from exc
        answer = json.loads(body or "{}")
        if status != 200 or "access_token" not in answer:
            message = self._token_error_message(answer, scopes, ref)
            if answer.get("error") == "invalid_scope":
                raise InvalidScope(self.label, step, message, status=status)
            raise self.error(step, message, status=status)
        expires_in = answer.get("expires_in")
        return TokenResult(
            access_token=answer["access_token"],
            expires_in=None if expires_in is None or tokens.is_never(int(expires_in)) else int(expires_in),
            scopes=answer.get("scope", "").split(),
            token_type=answer.get("token_type", "Bearer"),
        )

    @staticmethod
    def _token_error_message(answer: dict[str, Any], requested: list[str], ref: ClientRef) -> str:
        error = answer.get("error", "server_error")
        if error == "invalid_scope":
            defined = scopes.defined_scopes(requested)
            unknown = sorted(set(requested) - set(defined))
            if unknown:
                return f"invalid_scope: unknown scope(s): {', '.join(unknown)}"
            client = OAuthClient.objects.filter(client_id=ref.client_id).first()
            allowed = set(scopes.allowed_scopes(requested, client)) if client else set()
            refused = sorted(set(requested) - allowed)
            if refused:
                return (
                    f"invalid_scope: restricted scope(s) not granted to this application: "
                    f"{', '.join(refused)} (an administrator grants them)"
                )
            return "invalid_scope: scope not allowed"
        if error == "invalid_client":
            return "invalid_client: the consumer secret is wrong, expired or deleted"
        if error == "unauthorized_client":
            return "unauthorized_client: the Client Credentials grant type is not enabled for this key"
        description = answer.get("error_description", "")
        return f"{error}: {description}" if description else error

    @_database_errors_as("introspect token")
    def introspect(self, token: str) -> dict[str, Any]:
        return introspection.claims_for(token, viewer=None) or {"active": False}

    @_database_errors_as("revoke token")
    @transaction.atomic
    def revoke_token(self, ref: ClientRef, token: str, *, client_secret: str = "") -> None:
        if not revocation.revoke(token, client_id=ref.client_id):
            lookup.revoke_by_value(token, application__client_id=ref.client_id)

    @_database_errors_as("revoke tokens")
    @transaction.atomic
    def revoke_client_tokens(self, ref: ClientRef) -> int:
        client = self._client(ref, "revoke tokens")
        # Its client_credentials JWTs have no rows: they are refused from now on by their time.
        revocation.revoke_earlier_tokens(client)
        # Refresh tokens first, or they could mint new access tokens after the delete.
        get_refresh_token_model().objects.filter(application=client, revoked__isnull=True).update(
            revoked=timezone.now()
        )
        AccessToken = get_access_token_model()
        _, per_model = AccessToken.objects.filter(application=client).delete()
        return per_model.get(AccessToken._meta.label, 0)
