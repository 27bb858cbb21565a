"""Keycloak key manager (type ``keycloak``): one realm of a Keycloak 24+ server (no ``/auth`` prefix).

Clients are created with the realm's OpenID Connect Dynamic Client Registration endpoint
(``/realms/{realm}/clients-registrations/openid-connect``) and managed there with the registration access
token, which Keycloak rotates on every use: the newest one from each answer is kept in ``ref.state``.
DCR cannot change a secret, so "Regenerate Consumer Secret" goes through the admin REST API with a
service-account token (``POST /admin/realms/{realm}/clients/{uuid}/client-secret``).

Key manager settings used:
    config       ``base_url`` (e.g. ``https://sso.example.com``), ``realm``, optional ``resource``
    credentials  ``initial_access_token`` (registration; optional when the service account may create
                 clients), ``client_id`` / ``client_secret`` of a confidential client whose service account
                 has the realm-management roles ``create-client``, ``manage-clients`` and ``view-clients``
                 (needed for secret regeneration), optional ``introspection_client_id`` / ``_secret``
Endpoint fields left empty on the key manager are derived from ``base_url`` and ``realm``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from django.core.cache import cache

from keymanagers.base import ClientRef, ConnectionCheck, KeyManagerError, SecretInfo, register
from keymanagers.http import Response, basic_auth, bearer
from keymanagers.oidc_dcr import OidcDcrAdapter
from portal import crypto

logger = logging.getLogger(__name__)

DEFAULT_GRANT_TYPES = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
]
# Renew the cached service-account token this long before Keycloak says it expires.
TOKEN_CACHE_MARGIN = 30


@register
class KeycloakAdapter(OidcDcrAdapter):
    type = "keycloak"
    transport: ClassVar[httpx.BaseTransport | None] = None

    # -- settings ----------------------------------------------------------------------------
    def _setting(self, name: str, step: str) -> str:
        value = self.config.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(step, f"the key manager's config has no '{name}'")
        return value.strip()

    def realm_url(self, step: str = "configuration") -> str:
        base = self._setting("base_url", step).rstrip("/")
        return f"{base}/realms/{quote(self._setting('realm', step), safe='')}"

    def admin_url(self, path: str, step: str) -> str:
        base = self._setting("base_url", step).rstrip("/")
        return f"{base}/admin/realms/{quote(self._setting('realm', step), safe='')}/{path}"

    def _derived(self, suffix: str) -> str:
        try:
            return f"{self.realm_url()}{suffix}"
        except KeyManagerError:  # an unconfigured realm shows as "no endpoint", not a crash
            return ""

    def endpoints(self) -> dict[str, str]:
        km = self.key_manager
        oidc = "/protocol/openid-connect"
        return {
            "token": km.token_endpoint or self._derived(f"{oidc}/token"),
            "revoke": km.revoke_endpoint or self._derived(f"{oidc}/revoke"),
            "userinfo": km.userinfo_endpoint or self._derived(f"{oidc}/userinfo"),
            "introspect": km.introspection_endpoint or self._derived(f"{oidc}/token/introspect"),
            "authorize": km.authorize_endpoint or self._derived(f"{oidc}/auth"),
            "jwks": km.jwks_endpoint or self._derived(f"{oidc}/certs"),
        }

    def registration_endpoint(self) -> str:
        return self.key_manager.registration_endpoint or self._derived(
            "/clients-registrations/openid-connect"
        )

    def discovery_url(self) -> str:
        return self.key_manager.well_known_url or self._derived("/.well-known/openid-configuration")

    def available_grant_types(self) -> list[str]:
        return list(self.key_manager.available_grant_types or DEFAULT_GRANT_TYPES)

    @property
    def has_service_account(self) -> bool:
        return bool(self.credentials.get("client_id") and self.credentials.get("client_secret"))

    # -- the service account -----------------------------------------------------------------
    def _token_cache_key(self) -> str:
        # Keyed by key manager and by (a hash of) the credentials, so changed credentials never
        # reuse a token of the old ones. The cache is shared by every instance of the portal.
        creds = f"{self.credentials.get('client_id')}:{self.credentials.get('client_secret')}"
        return f"keymanagers:keycloak:{self.key_manager.pk}:sa-token:{crypto.keyed_hash(creds)[:16]}"

    def service_account_token(self, step: str, *, fresh: bool = False) -> str:
        """A client_credentials token of the admin's service account, cached until shortly before expiry."""
        if not self.has_service_account:
            raise self.error(
                step, "needs a service account: set the key manager's client id and client secret"
            )
        key = self._token_cache_key()
        if not fresh:
            cached = cache.get(key)
            if cached:
                return cached
        data = self.http.json_request(
            f"{step} (service account token)",
            "POST",
            self.endpoints()["token"],
            form={"grant_type": "client_credentials"},
            authorization=basic_auth(self.credentials["client_id"], self.credentials["client_secret"]),
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.error(step, "the service account got no access_token")
        expires_in = data.get("expires_in")
        if isinstance(expires_in, int) and expires_in > TOKEN_CACHE_MARGIN:
            cache.set(key, token, timeout=expires_in - TOKEN_CACHE_MARGIN)
        return token

    def admin_request(
        self, step: str, method: str, path: str, *, accept: tuple[int, ...] = (), **kwargs: Any
    ) -> Response:
        """An admin REST API call with the service account; one retry with a fresh token on 401
        (the cached one may have been revoked or its session ended early)."""
        url = self.admin_url(path, step)
        token = self.service_account_token(step)
        response = self.http.request(
            step, method, url, authorization=bearer(token), accept=(401, *accept), **kwargs
        )
        if response.status == 401:
            token = self.service_account_token(step, fresh=True)
            response = self.http.request(
                step, method, url, authorization=bearer(token), accept=accept, **kwargs
            )
        return response

    def registration_authorization(self, step: str) -> str:
        token = self.credentials.get("initial_access_token", "")
        if token:
            return bearer(token)
        if self.has_service_account:
            return bearer(self.service_account_token(step))
        raise self.error(step, "needs an initial access token or a service account allowed to create clients")

    def client_uuid(self, ref: ClientRef, step: str) -> str | None:
        """Keycloak's internal id of the client (the admin API's key), cached in the state."""
        if ref.state.get("uuid"):
            return ref.state["uuid"]
        response = self.admin_request(
            step, "GET", "clients", params={"clientId": ref.client_id, "first": "0", "max": "2"}
        )
        found = [
            c for c in (response.data or []) if isinstance(c, dict) and c.get("clientId") == ref.client_id
        ]
        if not found:
            return None
        ref.state["uuid"] = found[0]["id"]
        return ref.state["uuid"]

    # -- clients -----------------------------------------------------------------------------
    def delete_client(self, ref: ClientRef) -> None:
        step = "delete client"
        if ref.state.get("mapped"):
            return
        uri, rat = self._management(ref, step)
        response = self.http.request(step, "DELETE", uri, authorization=bearer(rat), accept=(401, 404))
        if response.status != 401 or not self.has_service_account:
            return
        # The registration access token was refused: either the client is gone or we lost the newest
        # token. The admin API can tell the two apart (and delete it in the second case).
        uuid = self.client_uuid(ref, step)
        if uuid is None:
            return
        self.admin_request(step, "DELETE", f"clients/{quote(uuid, safe='')}", accept=(404,))

    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        step = "regenerate secret"
        uuid = self.client_uuid(ref, step)
        if uuid is None:
            raise self.error(step, f"client {ref.client_id} does not exist in the realm", status=404)
        response = self.admin_request(step, "POST", f"clients/{quote(uuid, safe='')}/client-secret")
        data = response.json_object()
        value = data.get("value")
        if not isinstance(value, str) or not value:
            raise self.error(step, "Keycloak answered without the new secret")
        self._remember_secret(ref, value)
        return SecretInfo(value=value)

    # -- tokens ------------------------------------------------------------------------------
    def introspection_authorization(self, step: str, ref: ClientRef | None, client_secret: str) -> str:
        # Keycloak lets any confidential client of the realm introspect: prefer a dedicated client,
        # then the service account, then the key's own client.
        creds = self.credentials
        if creds.get("introspection_client_id") and creds.get("introspection_client_secret"):
            return basic_auth(creds["introspection_client_id"], creds["introspection_client_secret"])
        if self.has_service_account:
            return basic_auth(creds["client_id"], creds["client_secret"])
        return super().introspection_authorization(step, ref, client_secret)

    # -- admin -------------------------------------------------------------------------------
    def check_connection(self) -> list[ConnectionCheck]:
        """Discovery of the realm, the service account and its admin API rights (if configured), then a
        probe client registered, used for a token, introspected, revoked and deleted."""
        checks: list[ConnectionCheck] = []
        try:
            self.realm_url()
        except KeyManagerError as exc:
            checks.append(ConnectionCheck("configuration", False, exc.message))
            return checks
        if not self.discovery_check(checks):
            return checks
        if self.has_service_account:
            step = "service account"
            try:
                self.service_account_token(step, fresh=True)
                response = self.admin_request(
                    step, "GET", "clients", params={"first": "0", "max": "1"}, accept=(403,)
                )
            except KeyManagerError as exc:
                checks.append(ConnectionCheck(step, False, exc.message))
                return checks
            if response.status == 403:
                checks.append(
                    ConnectionCheck(
                        step,
                        False,
                        "the service account got a token but may not read "
                        "clients: give it view-clients and manage-clients",
                    )
                )
            else:
                checks.append(ConnectionCheck(step, True, "got a token and may use the admin API"))
        self.round_trip_checks(checks)
        return checks


# -- the key-manager admin's rules for Keycloak (keymanagers/admin.py applies them) ---------------

#: Adapter settings a Keycloak key manager cannot work without.
ADMIN_REQUIRED_CONFIG = ("base_url", "realm")


def admin_credential_problems(kept: set[str]) -> dict[str, str]:
    """The credentials a Keycloak key manager cannot register clients without, given the names typed
    or kept stored: form field → message."""
    if "initial_access_token" not in kept and not ({"client_id", "client_secret"} <= kept):
        return {
            "initial_access_token": "Keycloak needs an initial access token or a service account "
            "(client id and secret) to register clients."
        }
    return {}
