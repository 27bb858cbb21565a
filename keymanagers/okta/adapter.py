"""The Okta adapter: its HTTP calls (Okta's rules: ``rules.py``; the overview: the package's docstring)."""

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
from keymanagers.okta.checks import connection_checks
from keymanagers.okta.rules import APPLICATION_CONFIGURATION, UNSUPPORTED_SETTINGS, app_type_for, key_scopes

logger = logging.getLogger(__name__)

APP_READ_ONLY = {"id", "status", "created", "lastUpdated", "features", "orn", "_embedded", "_links"}


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
        return [dict(item) for item in APPLICATION_CONFIGURATION]

    # -- Okta's rules, checked before anything is created --------------------------------------
    def unsupported_settings(self) -> dict[str, str]:
        return dict(UNSUPPORTED_SETTINGS)

    def config_problems(self, config: ClientConfig) -> dict[str, str]:
        problems = super().config_problems(config)
        app_type, problem = app_type_for(config)
        if problem:
            problems.setdefault("grant_types", problem)
        if (
            config.token_scopes == []  # Generate Keys asks for a token at once, without scopes
            and "client_credentials" in config.grant_types
            and self.key_manager.enable_token_generation
            and not key_scopes(config)
            and not self.default_scope()
        ):
            problems.setdefault(
                "additional_properties.scope",
                "Okta needs a scope for every Client Credentials token and this key manager has no "
                "default scope: enter Token scopes, or ask an admin to set one.",
            )
        return problems

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
        app_type, problem = app_type_for(config)
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
        if key_scopes(config):
            ref.state["scopes"] = key_scopes(config)
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
        if key_scopes(config):
            ref.state["scopes"] = key_scopes(config)
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
        return connection_checks(self)
