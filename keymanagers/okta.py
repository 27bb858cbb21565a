"""Okta key manager (type ``okta``): an Okta org and one of its authorization servers.

Clients are OAuth apps made with Okta's Dynamic Client Registration API (``/oauth2/v1/clients``),
authorized with an API token (``Authorization: SSWS …``) or an OAuth access token with the scopes
Okta's OpenAPI specification names per operation: ``okta.clients.register`` (create),
``okta.clients.read`` and ``okta.clients.manage`` (read, replace, delete, new secret), and
``okta.apps.read`` / ``okta.apps.manage`` (secrets, PKCE and app lifecycle). There is no registration access token: the admin's
credentials manage every client. Okta keeps up to two secrets per app
(``/api/v1/apps/{appId}/credentials/secrets``), so keys at Okta can rotate secrets without downtime.

Okta's rules the adapter works with (Okta management OpenAPI 2026.06.3, ``../shared/reference/okta``):
- the app type decides the grant types (``createClient``'s table): ``service`` is Client Credentials
  only, ``web`` and ``native`` must have Code, ``browser`` has neither Refresh Token nor Client
  Credentials; ``config_problems`` refuses another combination before anything is created;
- a client_credentials token request must carry ``scope`` (``TokenRequestClientCredentials``): the
  key's *Token scopes*, else the key manager's ``default_scope``, else the key is refused up front;
- PKCE is ``credentials.oauthClient.pkce_required`` of the Apps API (DCR has no such field), and
  token lifetimes belong to the authorization server's access policies: not settable per client;
- an unknown client is 404 ``E0000007``; a 429 carries ``X-Rate-Limit-Reset`` (epoch seconds);
- ``client_name`` need not be unique (Okta dropped that rule in 2022).

Key manager settings used:
    config       ``base_url`` (the org URL, e.g. ``https://example.okta.com``),
                 ``authorization_server_id`` (default ``default``), optional ``resource``,
                 optional ``default_scope`` (space-separated; for Client Credentials tokens)
    credentials  ``api_token`` or ``access_token``; optional ``introspection_client_id`` / ``_secret``
Endpoint fields left empty are derived from the org URL and the authorization server id.
Okta secrets do not expire by themselves: an expiry the portal records must be enforced by deleting
the secret (``delete_secret``) when it is due. Okta will not deactivate (so not delete) an app's only
active secret; when that one expires, the portal deactivates the app itself (``disable_client``:
a deactivated app gets no tokens) until the developer makes a new secret (``enable_client``).
Deactivating an app also removes its group-based assignments (Okta's ``deactivateApplication``):
they are not restored on activation.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
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
    TokenResult,
    register,
)
from keymanagers.http import KeyManagerHttp, Response, error_message
from keymanagers.models import GrantType
from keymanagers.oidc_dcr import OidcDcrAdapter

logger = logging.getLogger(__name__)

APPLICATION_TYPES = ("web", "service", "browser", "native")
# The grant types each app type accepts, and the one it must have: the table in Okta's OpenAPI
# (createClient, /oauth2/v1/clients) for the grant types the portal offers. Device Code and Token
# Exchange are native-app grants in Okta's guides ("Configure Device Authorization Grant Flow",
# "Set up OAuth 2.0 On-Behalf-Of Token Exchange").
GRANTS_BY_TYPE = {
    "service": {"client_credentials"},
    "web": {"authorization_code", "implicit", "refresh_token", "client_credentials"},
    "browser": {"authorization_code", "implicit"},
    "native": {
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
        GrantType.DEVICE_CODE,
        GrantType.TOKEN_EXCHANGE,
    },
}
REQUIRED_GRANT = {"web": "authorization_code", "native": "authorization_code"}
APP_READ_ONLY = {"id", "status", "created", "lastUpdated", "features", "orn", "_embedded", "_links"}
GRANT_LABELS = dict(GrantType.choices)


class OktaHttp(KeyManagerHttp):
    """Okta's rate limits: a 429 says when to try again (``X-Rate-Limit-Reset``, epoch seconds)."""

    def request(
        self, step: str, method: str, url: str, *, accept: tuple[int, ...] = (), **kwargs: Any
    ) -> Response:
        response = super().request(step, method, url, accept=(*accept, 429), **kwargs)
        if response.status != 429 or 429 in accept:
            return response
        message = f"{error_message(response.data, 429)}; Okta's rate limit"
        reset = response.headers.get("X-Rate-Limit-Reset", "")
        if reset.isdigit():
            at = datetime.fromtimestamp(int(reset), UTC)
            wait = max(0, int(reset) - int(datetime.now(UTC).timestamp()))
            message += f" resets at {at:%H:%M:%S} UTC (in {wait} s): try again then"
        else:
            message += ": try again in a minute"
        raise self.error(step, message, status=429)


@register
class OktaAdapter(OidcDcrAdapter):
    type = "okta"
    server_name = "Okta"
    transport: ClassVar[httpx.BaseTransport | None] = None
    grant_types_offered = (
        GrantType.CLIENT_CREDENTIALS,
        GrantType.AUTHORIZATION_CODE,
        GrantType.REFRESH_TOKEN,
        GrantType.DEVICE_CODE,
        GrantType.TOKEN_EXCHANGE,
    )
    supports_multiple_secrets = True
    max_secrets = 2

    def __init__(self, key_manager, *, transport: httpx.BaseTransport | None = None):
        super().__init__(key_manager, transport=transport)
        self.http = OktaHttp(key_manager, transport=transport or type(self).transport)

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

    def default_grant_types(self) -> list[str]:
        # Client Credentials with Refresh Token fits no Okta app type: a service app has Client
        # Credentials only, a web app must have Code.
        return [g for g in ("client_credentials",) if g in self.available_grant_types()]

    def token_request_extras(self) -> dict[str, str]:
        # TokenRequestClientCredentials requires scope, also in the requests that only check a
        # client's credentials (Okta authenticates the client first, so any scope does there).
        # issue_token replaces it with the token's real scopes.
        return {**super().token_request_extras(), "scope": " ".join(self.default_scope()) or "openid"}

    def default_scope(self) -> list[str]:
        value = self.config.get("default_scope")
        return value.split() if isinstance(value, str) else []

    def application_configuration(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "application_type",
                "label": "Okta application type",
                "type": "select",
                "required": False,
                "default": "",
                "tooltip": "Leave on automatic: service for Client Credentials only, web with Code, "
                "browser or native for public clients.",
                "values": ["", *APPLICATION_TYPES],
            },
            {
                "name": "scope",
                "label": "Token scopes",
                "type": "input",
                "required": False,
                "default": "",
                "tooltip": "Space-separated scopes for Client Credentials tokens (Okta requires one). "
                "Empty: the key manager's default scope.",
                "values": [],
            },
        ]

    # -- Okta's rules, checked before anything is created --------------------------------------
    def unsupported_settings(self) -> dict[str, str]:
        lifetimes = "Okta sets token lifetimes in the authorization server's access policies, not per app"
        return {
            "pkce_support_plain": "Okta accepts only the S256 code challenge method",
            "application_access_token_expiry_time": lifetimes,
            "user_access_token_expiry_time": lifetimes,
            "refresh_token_expiry_time": lifetimes,
            "id_token_expiry_time": lifetimes,
        }

    def config_problems(self, config: ClientConfig) -> dict[str, str]:
        problems = super().config_problems(config)
        app_type, problem = self._application_type(config)
        if problem:
            problems.setdefault("grant_types", problem)
        if (
            config.token_scopes == []  # Generate Keys asks for a token at once, without scopes
            and "client_credentials" in config.grant_types
            and self.key_manager.enable_token_generation
            and not self._key_scopes(config)
            and not self.default_scope()
        ):
            problems.setdefault(
                "additional_properties.scope",
                "Okta needs a scope for every Client Credentials token and this key manager has no "
                "default scope: enter Token scopes, or ask an admin to set one.",
            )
        return problems

    @staticmethod
    def _key_scopes(config: ClientConfig) -> list[str]:
        value = (config.additional_properties or {}).get("scope")
        return value.split() if isinstance(value, str) else []

    def _application_type(self, config: ClientConfig) -> tuple[str, str]:
        """The Okta app type for ``config`` and, if Okta would refuse the combination, what to change."""
        grants = set(config.grant_types)
        names = ", ".join(GRANT_LABELS.get(g, g) for g in config.grant_types)
        chosen = (config.additional_properties or {}).get("application_type")
        if chosen in APPLICATION_TYPES:
            app_type = chosen
        elif config.public_client:
            app_type = "native" if grants - GRANTS_BY_TYPE["browser"] else "browser"
        elif grants == {"client_credentials"}:
            app_type = "service"
        elif "authorization_code" in grants:
            app_type = "web"
        else:
            return "web", (
                f"Okta has no app type for {names}: a confidential app with these grants must also "
                "have Code (tick Code and give a callback URL), or use Client Credentials alone."
            )
        refused = sorted(grants - GRANTS_BY_TYPE[app_type])
        if refused:
            labels = ", ".join(GRANT_LABELS.get(g, g) for g in refused)
            hint = {
                "service": "a service app has Client Credentials only",
                "web": "a web app takes Code, Implicit, Refresh Token and Client Credentials",
                "browser": "a browser app takes Code and Implicit only; tick Code for a native app "
                "with Refresh Token",
                "native": "a native app takes Code, Implicit, Password, Refresh Token, Device Code "
                "and Token Exchange",
            }[app_type]
            return app_type, f"An Okta {app_type} app cannot use {labels} ({hint}): untick it."
        required = REQUIRED_GRANT.get(app_type)
        if required and required not in grants:
            return app_type, f"An Okta {app_type} app must have Code: tick Code and give a callback URL."
        if app_type in ("service", "web") and config.public_client:
            return app_type, f"An Okta {app_type} app is confidential: untick Public client."
        if app_type == "browser" and not config.public_client:
            return app_type, "An Okta browser app has no secret: tick Public client, or pick web."
        return app_type, ""

    def registration_authorization(self, step: str) -> str:
        return self.api_authorization(step)

    def api_authorization(self, step: str) -> str:
        creds = self.credentials
        if creds.get("api_token"):
            return f"SSWS {creds['api_token']}"
        if creds.get("access_token"):
            return f"Bearer {creds['access_token']}"
        raise self.error(
            step,
            "needs an Okta API token, or an OAuth access token with okta.clients.register, "
            "okta.clients.manage and okta.apps.manage",
        )

    def client_url(self, client_id: str) -> str:
        return f"{self.registration_endpoint().rstrip('/')}/{quote(client_id, safe='')}"

    def app_url(self, ref: ClientRef) -> str:
        """The client's app in Okta's Apps API (its app id is its client id)."""
        return f"{self.base_url()}/api/v1/apps/{quote(ref.state.get('app_id') or ref.client_id, safe='')}"

    def secrets_url(self, ref: ClientRef, secret_id: str = "") -> str:
        url = f"{self.app_url(ref)}/credentials/secrets"
        return f"{url}/{quote(secret_id, safe='')}" if secret_id else url

    # -- client metadata ---------------------------------------------------------------------
    def application_type(self, config: ClientConfig, step: str = "configuration") -> str:
        app_type, problem = self._application_type(config)
        if problem:
            raise self.error(step, problem, status=400)
        return app_type

    def client_metadata(self, config: ClientConfig, step: str) -> dict[str, Any]:
        metadata = super().client_metadata(config, step)
        metadata.pop("scope", None)  # not part of Okta's client object
        metadata["application_type"] = self.application_type(config, step)
        if metadata["application_type"] == "service":
            # Okta's documented shape for a service app: no redirect URIs, the "token" response type.
            metadata["response_types"] = ["token"]
            metadata.pop("redirect_uris", None)
        return metadata

    # -- clients -----------------------------------------------------------------------------
    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        step = "register client"
        # Okta dropped client_name uniqueness in 2022: the portal's name is sent as it is.
        metadata, data = self._post_registration(step, config)
        client_id = self._client_id_from(step, data)
        ref = ClientRef(
            client_id=client_id, state={"app_id": client_id, "client_name": metadata["client_name"]}
        )
        if config.public_client:
            ref.state["public"] = True
        if self._key_scopes(config):
            ref.state["scopes"] = self._key_scopes(config)
        try:
            self.apply_pkce(ref, config, step)
        except KeyManagerError:
            self._compensate(ref)
            raise
        secret = self._registered_secret(step, ref, data, config)
        if secret is not None:
            secret.expires_at = secret_expires_at
            try:
                secret.remote_id = self._active_secret_id(ref, step, secret.value)
            except KeyManagerError:
                self._compensate(ref)
                raise
        return self._registered_client(ref, secret, data, config)

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
        if self._key_scopes(config):
            ref.state["scopes"] = self._key_scopes(config)
        else:
            ref.state.pop("scopes", None)
        self.apply_pkce(ref, config, step)
        return self._rotated_secret(ref, data)

    def apply_pkce(self, ref: ClientRef, config: ClientConfig, step: str) -> None:
        """Enable PKCE sets the app's ``credentials.oauthClient.pkce_required`` (Apps API: DCR has no
        such field), read back from Okta's answer. Public clients always get PKCE, as at Resident."""
        if "authorization_code" not in config.grant_types:
            return  # PKCE only concerns the code flow
        wanted = bool(config.pkce_mandatory or config.public_client)
        url = self.app_url(ref)
        app = self.http.json_request(
            f"{step} (read app)", "GET", url, authorization=self.api_authorization(step)
        )
        credentials = app.get("credentials") if isinstance(app.get("credentials"), dict) else {}
        oauth = credentials.get("oauthClient") if isinstance(credentials.get("oauthClient"), dict) else {}
        if oauth.get("pkce_required") is wanted:
            return
        # PUT replaces the app: send back what Okta gave, with the one change, less the read-only
        # members (Application schema: Okta ignores them in a PUT).
        app = {k: v for k, v in app.items() if k not in APP_READ_ONLY}
        app["credentials"] = {**credentials, "oauthClient": {**oauth, "pkce_required": wanted}}
        answer = self.http.json_request(
            f"{step} (PKCE)", "PUT", url, json=app, authorization=self.api_authorization(step)
        )
        kept = ((answer.get("credentials") or {}).get("oauthClient") or {}).get("pkce_required")
        if kept is not wanted:
            raise self.error(step, f"Okta did not keep pkce_required={str(wanted).lower()} on the app")

    def delete_client(self, ref: ClientRef) -> None:
        step = "delete client"
        if ref.state.get("mapped"):
            return
        # An unknown client is 404 E0000007 (Okta's OpenAPI, deleteClient): already gone is fine.
        # A 401 is the API token being refused, which is an error.
        self.http.request(
            step,
            "DELETE",
            self.client_url(ref.client_id),
            authorization=self.api_authorization(step),
            accept=(404,),
        )

    def map_client(
        self, client_id: str, client_secret: str = "", state: dict[str, Any] | None = None
    ) -> RegisteredClient:
        step = "map existing client"
        client_id = self._consumer_key(step, client_id)
        response = self.http.request(
            step,
            "GET",
            self.client_url(client_id),
            authorization=self.api_authorization(step),
            accept=(404,),
        )
        if response.status == 404:  # E0000007; a refused API token (401) raised above
            raise self.error(step, f"Okta has no client {client_id}", status=404)
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
        # TokenRequestClientCredentials requires scope: the asked scopes, else the key's, else the
        # key manager's default.
        scopes = list(scopes) or list(ref.state.get("scopes") or []) or self.default_scope()
        if grant_type == "client_credentials" and not scopes:
            raise self.error(
                "generate token",
                "Okta needs a scope for a Client Credentials token: choose one, or ask an admin to set "
                "the key manager's default scope",
            )
        return super().issue_token(
            ref,
            client_secret=client_secret,
            scopes=scopes,
            validity_period=validity_period,
            grant_type=grant_type,
        )

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
        # Okta also removes the app's group-based assignments on deactivation (deactivateApplication).
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
                form={"grant_type": "client_credentials", **self.token_request_extras()},
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
