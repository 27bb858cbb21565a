"""The OIDC Dynamic Client Registration adapter (the protocol: the package's docstring)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from keymanagers.base import (
    ClientConfig,
    ClientRef,
    ConnectionCheck,
    KeyManagerAdapter,
    KeyManagerError,
    NotSupported,
    RegisteredClient,
    SecretInfo,
    TokenResult,
    register,
)
from keymanagers.http import KeyManagerHttp, basic_auth, bearer, origin
from keymanagers.oidc_dcr.checks import discovery_check, round_trip_checks
from portal import crypto

logger = logging.getLogger(__name__)

# Members a client may not send in an RFC 7592 update (the server owns them).
SERVER_OWNED = {
    "registration_access_token",
    "registration_client_uri",
    "client_secret",
    "client_secret_expires_at",
    "client_id_issued_at",
}


@register
class OidcDcrAdapter(KeyManagerAdapter):
    type = "oidc-dcr"

    #: Tests set this (``monkeypatch.setattr(Adapter, "transport", httpx.MockTransport(...))``) to route
    #: every adapter made by ``adapter_for`` to a simulator; production leaves it None (real network).
    transport: ClassVar[httpx.BaseTransport | None] = None
    #: Who made a client, in the messages about a registration's answer.
    server_name: ClassVar[str] = "the server"

    def __init__(self, key_manager, *, transport: httpx.BaseTransport | None = None):
        super().__init__(key_manager)
        self.http = KeyManagerHttp(key_manager, transport=transport or type(self).transport)
        self._credentials: dict[str, Any] | None = None

    # -- settings ----------------------------------------------------------------------------
    @property
    def credentials(self) -> dict[str, Any]:
        if self._credentials is None:
            try:
                self._credentials = self.key_manager.get_credentials()
            except ValueError as exc:
                raise self.error("read credentials", str(exc)) from None
        return self._credentials

    @property
    def config(self) -> dict[str, Any]:
        return self.key_manager.config or {}

    def registration_endpoint(self) -> str:
        return self.key_manager.registration_endpoint

    def registration_authorization(self, step: str) -> str:
        """The Authorization header for a registration (RFC 7591 3: an initial access token, if any)."""
        token = self.credentials.get("initial_access_token", "")
        return bearer(token) if token else ""

    def token_request_extras(self) -> dict[str, str]:
        resource = self.config.get("resource")
        return {"resource": resource} if isinstance(resource, str) and resource else {}

    def unsupported_settings(self) -> dict[str, str]:
        # RFC 7591 client metadata has no member for PKCE or token lifetimes.
        lifetimes = "Dynamic Client Registration has no token lifetimes; the server applies its own"
        pkce = "Dynamic Client Registration has no PKCE setting; the server decides"
        return {
            "pkce_mandatory": pkce,
            "pkce_support_plain": pkce,
            "application_access_token_expiry_time": lifetimes,
            "user_access_token_expiry_time": lifetimes,
            "refresh_token_expiry_time": lifetimes,
            "id_token_expiry_time": lifetimes,
        }

    def application_configuration(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "scope",
                "label": "Client scopes",
                "type": "input",
                "required": False,
                "default": "",
                "tooltip": "Space-separated scopes the client may request, registered as its RFC 7591 "
                "'scope'. Leave empty for the server's default.",
                "values": [],
            }
        ]

    # -- client metadata ---------------------------------------------------------------------
    def client_metadata(self, config: ClientConfig, step: str) -> dict[str, Any]:
        """RFC 7591 metadata for ``config``: everything we manage, so an RFC 7592 PUT can replace it all."""
        urls = config.callback_urls
        if any(url.startswith("regexp=") for url in urls):
            raise self.error(
                step, "callback URLs given as regexp= cannot be registered here; list the exact URLs"
            )
        grant_types = list(config.grant_types)
        response_types = []
        if "authorization_code" in grant_types:
            response_types.append("code")
        if "implicit" in grant_types:
            response_types.append("token")
        metadata: dict[str, Any] = {
            "client_name": config.name,
            "grant_types": grant_types,
            "response_types": response_types,
            "redirect_uris": urls,
            "token_endpoint_auth_method": "none" if config.public_client else "client_secret_basic",
        }
        scope = (config.additional_properties or {}).get("scope")
        if isinstance(scope, str) and scope.strip():
            metadata["scope"] = " ".join(scope.split())
        extra = self.config.get("client_metadata")
        if isinstance(extra, dict):
            metadata.update({k: v for k, v in extra.items() if k not in SERVER_OWNED and k != "client_id"})
        return metadata

    # -- registration management (RFC 7592) --------------------------------------------------
    def _management(self, ref: ClientRef, step: str) -> tuple[str, str]:
        if ref.state.get("mapped"):
            raise NotSupported(
                self.label,
                step,
                "this client was mapped, not created by the portal: change it at the key manager itself",
            )
        rat = ref.state.get("registration_access_token", "")
        if not rat:
            raise self.error(step, "no registration access token is stored for this client")
        endpoint = self.registration_endpoint()
        uri = ref.state.get("registration_client_uri") or f"{endpoint.rstrip('/')}/{ref.client_id}"
        # The server chooses this URI, and we send it the registration access token and show its
        # answer: only at the registration endpoint's own origin (scheme, host and port).
        if origin(uri) != origin(endpoint):
            raise self.error(
                step,
                f"the server's registration_client_uri is not at the registration endpoint's origin "
                f"({urlsplit(uri).netloc or 'no host'}); refusing to send the registration access token there",
            )
        return uri, rat

    @staticmethod
    def _remember(ref: ClientRef, data: dict[str, Any]) -> None:
        """Keep the newest registration access token and URI the server handed out."""
        for member in ("registration_access_token", "registration_client_uri"):
            value = data.get(member)
            if isinstance(value, str) and value:
                ref.state[member] = value

    @staticmethod
    def _remember_secret(ref: ClientRef, secret: str) -> None:
        # A keyed hash (not the secret) so that an update can tell whether the server changed it.
        ref.state["secret_hash"] = crypto.keyed_hash(secret)

    def _secret_from(self, data: dict[str, Any]) -> SecretInfo | None:
        value = data.get("client_secret")
        if not isinstance(value, str) or not value:
            return None
        expires = data.get("client_secret_expires_at")
        expires_at = (
            datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) and expires > 0 else None
        )
        return SecretInfo(value=value, expires_at=expires_at)

    def _rotated_secret(self, ref: ClientRef, data: dict[str, Any], previous: str = "") -> SecretInfo | None:
        """The secret in an update's answer, if the server changed it (some rotate on every update)."""
        secret = self._secret_from(data)
        if secret is None:
            return None
        known = ref.state.get("secret_hash") or (crypto.keyed_hash(previous) if previous else "")
        if not known or crypto.hash_matches(secret.value, known):
            return None
        self._remember_secret(ref, secret.value)
        return secret

    # -- clients -----------------------------------------------------------------------------
    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        step = "register client"
        _metadata, data = self._post_registration(step, config)
        return self._registered(step, data, config)

    def _post_registration(
        self, step: str, config: ClientConfig, *, authorization: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send the client's metadata to the registration endpoint: what was sent, and the answer."""
        metadata = self.client_metadata(config, step)
        if authorization is None:
            authorization = self.registration_authorization(step)
        data = self.http.json_request(
            step, "POST", self.registration_endpoint(), json=metadata, authorization=authorization
        )
        return metadata, data

    def _registered(self, step: str, data: dict[str, Any], config: ClientConfig) -> RegisteredClient:
        client_id = self._client_id_from(step, data)
        ref = ClientRef(client_id=client_id, state={})
        self._remember(ref, data)
        if not ref.state.get("registration_access_token"):
            raise self.error(
                step,
                f"the server created client {client_id} but gave no registration access "
                "token, so the portal could never update or delete it; delete it at the server",
            )
        secret = self._registered_secret(step, ref, data, config)
        if config.public_client:
            ref.state["public"] = True
        return self._registered_client(ref, secret, data, config)

    # The three steps of reading a registration's answer, shared with the adapters built on this one.
    def _client_id_from(self, step: str, data: dict[str, Any]) -> str:
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise self.error(step, f"{self.server_name} answered without a client_id")
        return client_id

    def _registered_secret(
        self, step: str, ref: ClientRef, data: dict[str, Any], config: ClientConfig
    ) -> SecretInfo | None:
        """The new client's secret, remembered as a keyed hash; a confidential client the server made
        without one is deleted again (it could never get a token) and the registration fails."""
        secret = self._secret_from(data)
        if secret is None and not config.public_client:
            self._compensate(ref)
            raise self.error(
                step, f"{self.server_name} created a confidential client without a client_secret"
            )
        if secret is not None:
            self._remember_secret(ref, secret.value)
        return secret

    @staticmethod
    def _registered_client(
        ref: ClientRef, secret: SecretInfo | None, data: dict[str, Any], config: ClientConfig
    ) -> RegisteredClient:
        """What the server says it registered (grant types, callbacks), else what was asked for."""
        callbacks = data.get("redirect_uris")
        return RegisteredClient(
            ref=ref,
            secret=secret,
            grant_types=list(data.get("grant_types") or config.grant_types),
            callback_url=" ".join(callbacks) if isinstance(callbacks, list) else config.callback_url,
        )

    def _compensate(self, ref: ClientRef) -> None:
        """Delete a client we just created and cannot use; report, never mask, the original failure."""
        try:
            self.delete_client(ref)
        except KeyManagerError as exc:
            logger.warning(
                "%s: could not delete client after a failed registration: %s", self.label, exc.message
            )

    def update_client(self, ref: ClientRef, config: ClientConfig) -> SecretInfo | None:
        """RFC 7592 full replace. Returns the new secret if the server rotated it on this update
        (a policy some servers have), so the caller can show it once instead of losing it."""
        step = "update client"
        uri, rat = self._management(ref, step)
        metadata = self.client_metadata(config, step)
        metadata["client_id"] = ref.client_id
        data = self.http.json_request(step, "PUT", uri, json=metadata, authorization=bearer(rat))
        self._remember(ref, data)
        return self._rotated_secret(ref, data)

    def delete_client(self, ref: ClientRef) -> None:
        step = "delete client"
        if ref.state.get("mapped"):
            return  # a mapped client belongs to someone else: the portal only forgets it
        uri, rat = self._management(ref, step)
        response = self.http.request(step, "DELETE", uri, authorization=bearer(rat), accept=(401, 404))
        if response.status == 401:
            # RFC 7592 3: a server answers 401 for a client that no longer exists (and revokes its
            # registration access token), so a refused token means there is nothing left to delete.
            logger.warning(
                "%s: registration access token refused on delete; treating client as deleted", self.label
            )

    def map_client(
        self, client_id: str, client_secret: str = "", state: dict[str, Any] | None = None
    ) -> RegisteredClient:
        step = "map existing client"
        client_id = self._consumer_key(step, client_id)
        if client_secret:
            self.verify_client_credentials(step, client_id, client_secret)
        ref = ClientRef(client_id=client_id, state={**(state or {}), "mapped": True})
        if client_secret:
            self._remember_secret(ref, client_secret)
        return RegisteredClient(ref=ref, secret=SecretInfo(value=client_secret) if client_secret else None)

    def _consumer_key(self, step: str, client_id: str) -> str:
        if not client_id.strip():
            raise self.error(step, "a consumer key is needed")
        return client_id.strip()

    def verify_client_credentials(self, step: str, client_id: str, client_secret: str) -> None:
        """Prove the pair authenticates: servers check client authentication before the grant, so
        anything but 401 ``invalid_client`` (even ``unauthorized_client``) means the secret is right."""
        form = {"grant_type": "client_credentials", **self.token_request_extras()}
        response = self.http.request(
            step,
            "POST",
            self.endpoints()["token"],
            form=form,
            authorization=basic_auth(client_id, client_secret),
            accept=(400, 401, 403),
        )
        error = response.json_object().get("error")
        # Keycloak answers 401 unauthorized_client to a right secret of a client without a service
        # account (ClientCredentialsGrantType): the client authenticated, only the grant is refused.
        if error == "invalid_client" or (response.status == 401 and error != "unauthorized_client"):
            raise self.error(
                step, "the key manager does not accept this consumer key and secret", status=response.status
            )

    # -- secrets -----------------------------------------------------------------------------
    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        """Plain DCR has no "new secret" call; some servers issue one on every RFC 7592 update.
        Re-send the client's own metadata and accept the answer only if its secret really changed."""
        step = "regenerate secret"
        uri, rat = self._management(ref, step)
        current = self.http.json_request(step, "GET", uri, authorization=bearer(rat))
        self._remember(ref, current)
        previous = current.get("client_secret") if isinstance(current.get("client_secret"), str) else ""
        metadata = {k: v for k, v in current.items() if k not in SERVER_OWNED}
        metadata["client_id"] = ref.client_id
        data = self.http.json_request(
            step,
            "PUT",
            uri,
            json=metadata,
            authorization=bearer(ref.state.get("registration_access_token", rat)),
        )
        self._remember(ref, data)
        secret = self._rotated_secret(ref, data, previous=previous)
        if secret is None:
            raise NotSupported(
                self.label,
                step,
                "this server keeps the client secret when a client is updated, "
                "so the portal cannot regenerate it; remove and generate the keys "
                "again, or rotate the secret at the server",
            )
        return secret

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
        if grant_type != "client_credentials":
            raise NotSupported(
                self.label,
                step,
                f"the portal can only request client_credentials tokens here, not {grant_type}",
            )
        if not client_secret:
            raise self.error(step, "the consumer secret is needed to get a token")
        form = {"grant_type": "client_credentials", **self.token_request_extras()}
        if scopes:
            form["scope"] = " ".join(scopes)
        data = self.http.json_request(
            step,
            "POST",
            self.endpoints()["token"],
            form=form,
            authorization=basic_auth(ref.client_id, client_secret),
        )
        return self._token_result(step, data, scopes)

    def _token_result(self, step: str, data: dict[str, Any], requested: list[str]) -> TokenResult:
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.error(step, "the token endpoint answered without an access_token")
        expires_in = data.get("expires_in")
        scope = data.get("scope")
        return TokenResult(
            access_token=token,
            expires_in=int(expires_in) if isinstance(expires_in, int | float) else None,
            # RFC 6749 5.1: scope may be left out when it is exactly what was requested.
            scopes=scope.split() if isinstance(scope, str) else list(requested),
            token_type=str(data.get("token_type") or "Bearer"),
        )

    def introspection_authorization(self, step: str, ref: ClientRef | None, client_secret: str) -> str:
        """Who asks: the admin's introspection client if configured, else the key's own client."""
        creds = self.credentials
        if creds.get("introspection_client_id") and creds.get("introspection_client_secret"):
            return basic_auth(creds["introspection_client_id"], creds["introspection_client_secret"])
        if ref is not None and client_secret:
            return basic_auth(ref.client_id, client_secret)
        raise self.error(step, "no introspection credentials are configured for this key manager")

    def introspect(
        self, token: str, *, ref: ClientRef | None = None, client_secret: str = ""
    ) -> dict[str, Any]:
        step = "introspect token"
        authorization = self.introspection_authorization(step, ref, client_secret)
        data = self.http.json_request(
            step,
            "POST",
            self.endpoints()["introspect"],
            form={"token": token, "token_type_hint": "access_token"},
            authorization=authorization,
        )
        if not isinstance(data.get("active"), bool):
            raise self.error(step, "the introspection endpoint answered without 'active'")
        return data

    def revoke_token(self, ref: ClientRef, token: str, *, client_secret: str = "") -> None:
        step = "revoke token"
        form = {"token": token, "token_type_hint": "access_token"}
        if client_secret:
            authorization = basic_auth(ref.client_id, client_secret)
        elif ref.state.get("public"):
            authorization, form["client_id"] = "", ref.client_id
        else:
            raise self.error(step, "the consumer secret is needed to revoke a token")
        self.http.request(step, "POST", self.endpoints()["revoke"], form=form, authorization=authorization)

    # -- admin -------------------------------------------------------------------------------
    def check_connection(self) -> list[ConnectionCheck]:
        """Discovery, then a real round trip: register a probe client, get a token with it,
        introspect and revoke that token, and delete the probe client again."""
        checks: list[ConnectionCheck] = []
        if discovery_check(self, checks):
            round_trip_checks(self, checks)
        return checks

    def discovery_url(self) -> str:
        return self.key_manager.well_known_url
