"""The Keycloak adapter (Keycloak's rules and settings: the package's docstring)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from django.core.cache import cache

from keymanagers.base import (
    ClientConfig,
    ClientRef,
    ConnectionCheck,
    KeyManagerError,
    RegisteredClient,
    SecretInfo,
    register,
)
from keymanagers.http import Response, basic_auth, bearer
from keymanagers.keycloak.checks import connection_checks
from keymanagers.models import GrantType
from keymanagers.oidc_dcr import OidcDcrAdapter
from portal import crypto

logger = logging.getLogger(__name__)

# Renew the cached service-account token this long before Keycloak says it expires.
TOKEN_CACHE_MARGIN = 30
NEEDS_ADMIN_API = (
    "it is a Keycloak client attribute that only the admin API sets: configure a service account"
)


@register
class KeycloakAdapter(OidcDcrAdapter):
    type = "keycloak"
    transport: ClassVar[httpx.BaseTransport | None] = None
    grant_types_offered = (
        GrantType.CLIENT_CREDENTIALS,
        GrantType.AUTHORIZATION_CODE,
        GrantType.REFRESH_TOKEN,
        GrantType.DEVICE_CODE,
    )
    #: Whether a registration may fall back to the initial access token (never in Test connection).
    may_spend_iat = True

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
                try:  # kept encrypted: a copy of Redis holds no usable admin token
                    return crypto.decrypt(cached)
                except ValueError:  # another encryption key (rotated): fetch a new token
                    pass
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
            cache.set(key, crypto.encrypt(token), timeout=expires_in - TOKEN_CACHE_MARGIN)
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
        # The service account first: every registration spends one use of an initial access token.
        if self.has_service_account:
            return bearer(self.service_account_token(step))
        token = self.credentials.get("initial_access_token", "")
        if token:
            return bearer(token)
        raise self.error(step, "needs an initial access token or a service account allowed to create clients")

    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        step = "register client"
        try:
            registered = super().register_client(config, secret_expires_at=secret_expires_at)
        except KeyManagerError as exc:
            # A service account without create-client: fall back to the initial access token.
            iat = self.credentials.get("initial_access_token", "") if self.may_spend_iat else ""
            if not (self.has_service_account and iat and exc.status in (401, 403)):
                raise
            _metadata, data = self._post_registration(step, config, authorization=bearer(iat))
            registered = self._registered(step, data, config)
        try:
            registered.grant_types = self.apply_client_settings(registered.ref, config, step)
        except KeyManagerError:
            self._compensate(registered.ref)
            raise
        return registered

    def update_client(self, ref: ClientRef, config: ClientConfig) -> SecretInfo | None:
        step = "update client"
        rotated = self._with_fresh_registration_token(
            ref, step, lambda: super(KeycloakAdapter, self).update_client(ref, config)
        )
        self.apply_client_settings(ref, config, step)
        return rotated

    def _with_fresh_registration_token(self, ref: ClientRef, step: str, call: Callable[[], Any]) -> Any:
        """``call``, and once more with a registration access token fresh from the admin API if
        Keycloak refused the stored one (an answer lost on the way leaves it stale)."""
        try:
            return call()
        except KeyManagerError as exc:
            if exc.status != 401 or not self.has_service_account or ref.state.get("mapped"):
                raise
            if not self.renew_registration_token(ref, step):
                raise
        return call()

    def renew_registration_token(self, ref: ClientRef, step: str) -> bool:
        """Ask the admin API for a new registration access token; False if the client is gone."""
        uuid = self.client_uuid(ref, step)
        if uuid is None:
            return False
        response = self.admin_request(
            f"{step} (new registration access token)",
            "POST",
            f"clients/{quote(uuid, safe='')}/registration-access-token",
        )
        value = response.json_object().get("registrationAccessToken")
        if not isinstance(value, str) or not value:
            raise self.error(step, "Keycloak answered without a registration access token")
        ref.state["registration_access_token"] = value
        return True

    # -- what DCR cannot set -------------------------------------------------------------------
    def _admin_api(self) -> bool:
        """Whether a service account is configured (unreadable credentials count as none here: the
        keys page still renders, and registration then says what is wrong)."""
        try:
            return self.has_service_account
        except KeyManagerError:
            return False

    def unsupported_settings(self) -> dict[str, str]:
        unsupported = {
            # Keycloak enforces one code challenge method per client; the portal sets S256.
            "pkce_support_plain": "Keycloak allows one PKCE method per client; the portal uses S256",
            "refresh_token_expiry_time": "Keycloak sets refresh token lifetimes per realm session, not per client",
            "id_token_expiry_time": "Keycloak's ID tokens live as long as its access tokens",
        }
        if not self._admin_api():
            unsupported["pkce_mandatory"] = NEEDS_ADMIN_API
            unsupported["application_access_token_expiry_time"] = NEEDS_ADMIN_API
            unsupported["user_access_token_expiry_time"] = NEEDS_ADMIN_API
        return unsupported

    def config_problems(self, config: ClientConfig) -> dict[str, str]:
        problems = super().config_problems(config)
        if not self._admin_api():
            return problems
        app, user = config.application_access_token_expiry_time, config.user_access_token_expiry_time
        if app < 0:
            problems.setdefault(
                "application_access_token_expiry_time",
                "Keycloak access tokens always expire: give a number of seconds.",
            )
        elif app != user:
            problems.setdefault(
                "user_access_token_expiry_time",
                "Keycloak has one access token lifespan per client: give both access token expiry "
                "times the same value.",
            )
        return problems

    def client_settings(self, config: ClientConfig) -> dict[str, Any]:
        """The admin API's ClientRepresentation members that make the client exactly ``config``."""
        grants = set(config.grant_types)
        return {
            "standardFlowEnabled": "authorization_code" in grants,
            "implicitFlowEnabled": "implicit" in grants,
            "directAccessGrantsEnabled": "password" in grants,
            "serviceAccountsEnabled": "client_credentials" in grants,
            "publicClient": config.public_client,
            "attributes": {
                "oauth2.device.authorization.grant.enabled": str(GrantType.DEVICE_CODE in grants).lower(),
                "use.refresh.tokens": str("refresh_token" in grants).lower(),
                # An empty value removes the attribute: PKCE is then optional.
                "pkce.code.challenge.method": "S256" if config.pkce_mandatory else "",
                "access.token.lifespan": str(config.application_access_token_expiry_time),
            },
        }

    def apply_client_settings(self, ref: ClientRef, config: ClientConfig, step: str) -> list[str]:
        """Make the client's flows, PKCE and lifetime exactly ``config`` (admin API), read them back,
        and return the client's grant types. Without a service account only the check is possible:
        Keycloak's registration answer must already show the chosen grant types."""
        if not self.has_service_account:
            reported = self._reported_grant_types(ref, step)
            if set(reported) != set(config.grant_types):
                raise self.error(
                    step,
                    f"Keycloak gave the client the grant types {', '.join(sorted(reported))} instead of "
                    f"{', '.join(sorted(config.grant_types))} (Keycloak before 26.1 ignores most grant "
                    "types at registration); configure a service account so the portal can set them",
                )
            return reported
        uuid = self.client_uuid(ref, step)
        if uuid is None:
            raise self.error(step, f"client {ref.client_id} does not exist in the realm", status=404)
        wanted = self.client_settings(config)
        path = f"clients/{quote(uuid, safe='')}"
        self.admin_request(f"{step} (client settings)", "PUT", path, json=wanted)
        actual = self.admin_request(f"{step} (read back settings)", "GET", path).json_object()
        attributes = actual.get("attributes") if isinstance(actual.get("attributes"), dict) else {}
        wrong = [name for name, value in wanted.items() if name != "attributes" and actual.get(name) != value]
        wrong += [
            name for name, value in wanted["attributes"].items() if (attributes.get(name) or "") != value
        ]
        if wrong:
            raise self.error(step, f"Keycloak did not keep the client settings {', '.join(sorted(wrong))}")
        return list(config.grant_types)

    def _reported_grant_types(self, ref: ClientRef, step: str) -> list[str]:
        data = self.http.json_request(
            f"{step} (read back)",
            "GET",
            self._management(ref, step)[0],
            authorization=bearer(ref.state["registration_access_token"]),
        )
        self._remember(ref, data)
        grants = data.get("grant_types")
        return [g for g in grants if isinstance(g, str)] if isinstance(grants, list) else []

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
        return connection_checks(self)
