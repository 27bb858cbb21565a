"""Okta key manager (type ``okta``): an Okta org and one of its authorization servers.

Clients are OAuth apps made with Okta's Dynamic Client Registration API (``/oauth2/v1/clients``),
authorized with an API token (``Authorization: SSWS …``) or an OAuth access token with the
``okta.clients.*`` and ``okta.apps.*`` scopes. There is no registration access token: the admin's
credentials manage every client. Okta keeps up to two secrets per app
(``/api/v1/apps/{appId}/credentials/secrets``), so keys at Okta can rotate secrets without downtime.

Key manager settings used:
    config       ``base_url`` (the org URL, e.g. ``https://example.okta.com``),
                 ``authorization_server_id`` (default ``default``), optional ``resource``
    credentials  ``api_token`` or ``access_token``; optional ``introspection_client_id`` / ``_secret``
Endpoint fields left empty are derived from the org URL and the authorization server id.
Okta secrets do not expire by themselves: an expiry the portal records must be enforced by deleting
the secret (``delete_secret``) when it is due. Okta will not deactivate (so not delete) an app's only
active secret; when that one expires, the portal deactivates the app itself (``disable_client``:
a deactivated app gets no tokens) until the developer makes a new secret (``enable_client``).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from keymanagers.base import (
    ClientConfig,
    ClientRef,
    ConnectionCheck,
    KeyManagerError,
    RegisteredClient,
    SecretInfo,
    register,
)
from keymanagers.http import error_message
from keymanagers.oidc_dcr import OidcDcrAdapter

logger = logging.getLogger(__name__)

DEFAULT_GRANT_TYPES = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
]
APPLICATION_TYPES = ("web", "service", "browser", "native")


@register
class OktaAdapter(OidcDcrAdapter):
    type = "okta"
    transport: ClassVar[httpx.BaseTransport | None] = None
    supports_multiple_secrets = True
    max_secrets = 2

    # -- settings ----------------------------------------------------------------------------
    def base_url(self, step: str = "configuration") -> str:
        value = self.config.get("base_url")
        if not isinstance(value, str) or not value.strip():
            raise self.error(step, "the key manager's config has no 'base_url' (the Okta org URL)")
        return value.strip().rstrip("/")

    def authorization_server_id(self) -> str:
        value = self.config.get("authorization_server_id")
        return value.strip() if isinstance(value, str) and value.strip() else "default"

    def _derived(self, suffix: str) -> str:
        try:
            return f"{self.base_url()}/oauth2/{quote(self.authorization_server_id(), safe='')}{suffix}"
        except KeyManagerError:
            return ""

    def endpoints(self) -> dict[str, str]:
        km = self.key_manager
        return {
            "token": km.token_endpoint or self._derived("/v1/token"),
            "revoke": km.revoke_endpoint or self._derived("/v1/revoke"),
            "userinfo": km.userinfo_endpoint or self._derived("/v1/userinfo"),
            "introspect": km.introspection_endpoint or self._derived("/v1/introspect"),
            "authorize": km.authorize_endpoint or self._derived("/v1/authorize"),
            "jwks": km.jwks_endpoint or self._derived("/v1/keys"),
        }

    def registration_endpoint(self) -> str:
        if self.key_manager.registration_endpoint:
            return self.key_manager.registration_endpoint
        try:
            return f"{self.base_url()}/oauth2/v1/clients"
        except KeyManagerError:
            return ""

    def discovery_url(self) -> str:
        return self.key_manager.well_known_url or self._derived("/.well-known/oauth-authorization-server")

    def available_grant_types(self) -> list[str]:
        return list(self.key_manager.available_grant_types or DEFAULT_GRANT_TYPES)

    def application_configuration(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "application_type",
                "label": "Okta application type",
                "type": "select",
                "required": False,
                "default": "",
                "tooltip": "Leave on automatic: service for client-credentials-only keys, browser for "
                "public clients, web otherwise.",
                "values": ["", *APPLICATION_TYPES],
            }
        ]

    def registration_authorization(self, step: str) -> str:
        return self.api_authorization(step)

    def api_authorization(self, step: str) -> str:
        creds = self.credentials
        if creds.get("api_token"):
            return f"SSWS {creds['api_token']}"
        if creds.get("access_token"):
            return f"Bearer {creds['access_token']}"
        raise self.error(step, "needs an Okta API token (or an OAuth access token with okta.clients.manage)")

    def client_url(self, client_id: str) -> str:
        return f"{self.registration_endpoint().rstrip('/')}/{quote(client_id, safe='')}"

    def app_url(self, ref: ClientRef) -> str:
        """The client's app in Okta's Apps API (its app id is its client id)."""
        return f"{self.base_url()}/api/v1/apps/{quote(ref.state.get('app_id') or ref.client_id, safe='')}"

    def secrets_url(self, ref: ClientRef, secret_id: str = "") -> str:
        url = f"{self.app_url(ref)}/credentials/secrets"
        return f"{url}/{quote(secret_id, safe='')}" if secret_id else url

    # -- client metadata ---------------------------------------------------------------------
    def application_type(self, config: ClientConfig) -> str:
        chosen = (config.additional_properties or {}).get("application_type")
        if chosen in APPLICATION_TYPES:
            return chosen
        if config.public_client:
            return "browser"
        if set(config.grant_types) == {"client_credentials"}:
            return "service"
        return "web"

    def client_metadata(self, config: ClientConfig, step: str) -> dict[str, Any]:
        metadata = super().client_metadata(config, step)
        metadata.pop("scope", None)  # not part of Okta's client object
        metadata["application_type"] = self.application_type(config)
        if metadata["application_type"] == "service":
            # Okta's documented shape for a service app: no redirect URIs, the "token" response type.
            metadata["response_types"] = ["token"]
            metadata.pop("redirect_uris", None)
        return metadata

    @staticmethod
    def _unique_name(name: str) -> str:
        # Okta wants client_name unique in the org; several developers name their apps alike.
        return f"{name[:90]}-{secrets.token_hex(3)}"

    @staticmethod
    def _is_duplicate_name(exc: KeyManagerError) -> bool:
        text = exc.message.lower()
        return exc.status in (400, 409) and "client_name" in text and ("unique" in text or "already" in text)

    # -- clients -----------------------------------------------------------------------------
    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        step = "register client"
        metadata = self.client_metadata(config, step)
        for attempt in range(2):
            metadata["client_name"] = self._unique_name(config.name)
            try:
                data = self.http.json_request(
                    step,
                    "POST",
                    self.registration_endpoint(),
                    json=metadata,
                    authorization=self.api_authorization(step),
                )
                break
            except KeyManagerError as exc:
                if attempt or not self._is_duplicate_name(exc):
                    raise
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise self.error(step, "Okta answered without a client_id")
        ref = ClientRef(
            client_id=client_id, state={"app_id": client_id, "client_name": metadata["client_name"]}
        )
        if config.public_client:
            ref.state["public"] = True
        secret = self._secret_from(data)
        if secret is None and not config.public_client:
            self._compensate(ref)
            raise self.error(step, "Okta created a confidential client without a client_secret")
        if secret is not None:
            self._remember_secret(ref, secret.value)
            secret.expires_at = secret_expires_at
            try:
                secret.remote_id = self._active_secret_id(ref, step, secret.value)
            except KeyManagerError:
                self._compensate(ref)
                raise
        callbacks = data.get("redirect_uris")
        return RegisteredClient(
            ref=ref,
            secret=secret,
            grant_types=list(data.get("grant_types") or config.grant_types),
            callback_url=" ".join(callbacks) if isinstance(callbacks, list) else config.callback_url,
        )

    def _active_secret_id(self, ref: ClientRef, step: str, value: str) -> str:
        """The id Okta gives the client's current secret (needed to delete it later)."""
        response = self.http.request(
            f"{step} (find secret id)",
            "GET",
            self.secrets_url(ref),
            authorization=self.api_authorization(step),
        )
        listed = [s for s in (response.data or []) if isinstance(s, dict) and s.get("status") == "ACTIVE"]
        for item in listed:
            if item.get("client_secret") == value:
                return str(item.get("id", ""))
        # Okta may not echo values in the list: the newest active secret is the one just made.
        listed.sort(key=lambda s: str(s.get("created", "")))
        if not listed:
            raise self.error(step, "Okta lists no active secret for the new client")
        return str(listed[-1].get("id", ""))

    def get_client(self, ref: ClientRef) -> dict[str, Any]:
        step = "read client"
        data = self.http.json_request(
            step, "GET", self.client_url(ref.client_id), authorization=self.api_authorization(step)
        )
        return {k: v for k, v in data.items() if k != "client_secret"}

    def update_client(self, ref: ClientRef, config: ClientConfig) -> SecretInfo | None:
        step = "update client"
        if ref.state.get("mapped"):
            return super().update_client(ref, config)  # refuses clearly
        metadata = self.client_metadata(config, step)
        metadata["client_id"] = ref.client_id
        # PUT is a full replace: keep the unique name the client was registered with.
        metadata["client_name"] = ref.state.get("client_name") or metadata["client_name"]
        data = self.http.json_request(
            step,
            "PUT",
            self.client_url(ref.client_id),
            json=metadata,
            authorization=self.api_authorization(step),
        )
        return self._rotated_secret(ref, data)

    def delete_client(self, ref: ClientRef) -> None:
        step = "delete client"
        if ref.state.get("mapped"):
            return
        response = self.http.request(
            step,
            "DELETE",
            self.client_url(ref.client_id),
            authorization=self.api_authorization(step),
            accept=(401, 404),
        )
        if response.status == 401 and response.json_object().get("error") != "invalid_client":
            # A 401 without invalid_client is our API token being refused, not a missing client.
            raise self.error(step, error_message(response.data, 401), status=401)

    def map_client(
        self, client_id: str, client_secret: str = "", state: dict[str, Any] | None = None
    ) -> RegisteredClient:
        step = "map existing client"
        client_id = client_id.strip()
        if not client_id:
            raise self.error(step, "a consumer key is needed")
        response = self.http.request(
            step,
            "GET",
            self.client_url(client_id),
            authorization=self.api_authorization(step),
            accept=(401, 404),
        )
        if response.status in (401, 404):
            raise self.error(step, f"Okta has no client {client_id}", status=response.status)
        mapped = super().map_client(client_id, client_secret, state)
        mapped.ref.state["app_id"] = client_id
        callbacks = response.json_object().get("redirect_uris")
        mapped.grant_types = list(response.json_object().get("grant_types") or [])
        mapped.callback_url = " ".join(callbacks) if isinstance(callbacks, list) else ""
        return mapped

    # -- secrets -----------------------------------------------------------------------------
    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        step = "regenerate secret"
        data = self.http.json_request(
            step,
            "POST",
            f"{self.client_url(ref.client_id)}/lifecycle/newSecret",
            authorization=self.api_authorization(step),
        )
        secret = self._secret_from(data)
        if secret is None:
            raise self.error(step, "Okta answered without the new client_secret")
        self._remember_secret(ref, secret.value)
        try:
            secret.remote_id = self._active_secret_id(ref, step, secret.value)
        except KeyManagerError as exc:
            # The new secret is already the only valid one: losing it would be worse than lacking its id.
            logger.warning("%s: new secret made but its id could not be read: %s", self.label, exc.message)
        return secret

    def create_secret(self, ref: ClientRef, *, expires_at: datetime | None = None) -> SecretInfo:
        step = "create secret"
        data = self.http.json_request(
            step, "POST", self.secrets_url(ref), json={}, authorization=self.api_authorization(step)
        )
        value = data.get("client_secret")
        if not isinstance(value, str) or not value:
            raise self.error(step, "Okta answered without the new secret")
        return SecretInfo(value=value, remote_id=str(data.get("id", "")), expires_at=expires_at)

    def delete_secret(self, ref: ClientRef, remote_id: str) -> None:
        step = "delete secret"
        if not remote_id:
            raise self.error(step, "the secret's Okta id is unknown; delete it in the Okta admin console")
        authorization = self.api_authorization(step)
        url = self.secrets_url(ref, remote_id)
        # Okta deletes only inactive secrets.
        response = self.http.request(
            step, "POST", f"{url}/lifecycle/deactivate", authorization=authorization, accept=(404,)
        )
        if response.status == 404:
            return
        self.http.request(step, "DELETE", url, authorization=authorization, accept=(404,))

    # -- client lifecycle --------------------------------------------------------------------
    def _lifecycle(self, ref: ClientRef, step: str, operation: str) -> None:
        if ref.state.get("mapped"):
            # Provided existing keys: the app belongs to whoever made it in Okta, as in delete_client.
            raise self.error(
                step, f"the app was provided as existing keys: {operation} it in the Okta admin console"
            )
        self.http.request(
            step,
            "POST",
            f"{self.app_url(ref)}/lifecycle/{operation}",
            authorization=self.api_authorization(step),
        )

    def disable_client(self, ref: ClientRef) -> None:
        self._lifecycle(ref, "disable client", "deactivate")

    def enable_client(self, ref: ClientRef) -> None:
        self._lifecycle(ref, "enable client", "activate")

    # -- admin -------------------------------------------------------------------------------
    def check_connection(self) -> list[ConnectionCheck]:
        """Discovery of the authorization server, the API credentials (list one client), and the token
        endpoint answering. No client is created: Okta apps are heavier than a probe deserves."""
        checks: list[ConnectionCheck] = []
        try:
            self.base_url()
            self.api_authorization("configuration")
        except KeyManagerError as exc:
            checks.append(ConnectionCheck("configuration", False, exc.message))
            return checks
        if not self.discovery_check(checks):
            return checks
        step = "client management API"
        try:
            self.http.request(
                step,
                "GET",
                self.registration_endpoint(),
                params={"limit": "1"},
                authorization=self.api_authorization(step),
            )
        except KeyManagerError as exc:
            checks.append(ConnectionCheck(step, False, exc.message))
            return checks
        checks.append(ConnectionCheck(step, True, "the credentials may list OAuth clients"))
        step = "token"
        try:
            response = self.http.request(
                step,
                "POST",
                self.endpoints()["token"],
                form={"grant_type": "client_credentials"},
                accept=(400, 401),
            )
        except KeyManagerError as exc:
            checks.append(ConnectionCheck(step, False, exc.message))
            return checks
        error = response.json_object().get("error")
        if response.status == 401 or error == "invalid_client":
            checks.append(
                ConnectionCheck(
                    step,
                    True,
                    "the token endpoint answers (and refuses a request without credentials, as it should)",
                )
            )
        else:
            checks.append(
                ConnectionCheck(
                    step, False, f"unexpected answer from the token endpoint (HTTP {response.status})"
                )
            )
        return checks


# -- the key-manager admin's rules for Okta (keymanagers/admin.py applies them) -------------------

#: Adapter settings an Okta key manager cannot work without.
ADMIN_REQUIRED_CONFIG = ("base_url",)


def admin_credential_problems(kept: set[str]) -> dict[str, str]:
    """The credentials an Okta key manager cannot manage clients without, given the names typed or
    kept stored: form field → message."""
    if not kept & {"api_token", "access_token"}:
        return {"api_token": "Okta needs an API token (or an OAuth access token) to manage clients."}
    return {}
