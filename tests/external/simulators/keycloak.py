"""A Keycloak 24+ realm, as far as the adapter uses it (research.md "External key managers").

- OIDC endpoints under ``/realms/{realm}/protocol/openid-connect/``: ``token`` (client_credentials),
  ``token/introspect`` (confidential clients only), ``revoke``; discovery at
  ``/realms/{realm}/.well-known/openid-configuration``.
- DCR ``POST /realms/{realm}/clients-registrations/openid-connect`` (201; no ``client_id`` may be sent),
  with an initial access token or a service-account token holding ``create-client``;
  ``GET|PUT|DELETE .../openid-connect/{client_id}`` with the registration access token, which rotates on
  every use; PUT with another ``client_id`` → 400 "Client Identifier modified"; PUT keeps the secret.
- Admin API with a service-account token: ``GET /admin/realms/{realm}/clients?clientId=X``,
  ``POST .../clients/{uuid}/client-secret`` → ``{"type": "secret", "value": ...}``, ``DELETE .../clients/{uuid}``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.external.simulators.base import (
    Seen,
    Simulator,
    basic_credentials,
    bearer_token,
    json_response,
    token,
)

ADMIN_ROLES = {"create-client", "manage-clients", "view-clients"}
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": "Not authorized to view client. Not valid token",
}


@dataclass
class KcClient:
    client_id: str
    uuid: str
    secret: str
    rat: str
    metadata: dict[str, Any]


@dataclass
class KeycloakSimulator(Simulator):
    base_url: str = "https://sso.example.com"
    realm: str = "devportal"
    initial_access_tokens: set[str] = field(default_factory=lambda: {"kc-initial-access-token"})
    service_accounts: dict[str, tuple[str, set[str]]] = field(
        default_factory=lambda: {"portal-admin": ("portal-admin-secret", set(ADMIN_ROLES))}
    )
    clients: dict[str, KcClient] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_account_tokens: dict[str, str] = field(default_factory=dict)
    token_lifetime: int = 300

    def __post_init__(self):
        super().__post_init__()
        realm = f"/realms/{self.realm}"
        oidc = f"{realm}/protocol/openid-connect"
        dcr = f"{realm}/clients-registrations/openid-connect"
        admin = f"/admin/realms/{self.realm}"
        self.route("GET", f"{realm}/.well-known/openid-configuration", self.discovery)
        self.route("POST", f"{oidc}/token", self.token)
        self.route("POST", f"{oidc}/token/introspect", self.introspect)
        self.route("POST", f"{oidc}/revoke", self.revoke)
        self.route("POST", dcr, self.register)
        self.route("GET", f"{dcr}/(?P<client_id>[^/]+)", self.read)
        self.route("PUT", f"{dcr}/(?P<client_id>[^/]+)", self.update)
        self.route("DELETE", f"{dcr}/(?P<client_id>[^/]+)", self.delete)
        self.route("GET", f"{admin}/clients", self.admin_list)
        self.route("POST", f"{admin}/clients/(?P<uuid>[^/]+)/client-secret", self.admin_new_secret)
        self.route("DELETE", f"{admin}/clients/(?P<uuid>[^/]+)", self.admin_delete)

    @property
    def realm_url(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    def end_service_account_sessions(self) -> None:
        """Every service-account token stops working (as after a session logout)."""
        self.service_account_tokens.clear()

    # -- OIDC --------------------------------------------------------------------------------
    def discovery(self, seen: Seen) -> httpx.Response:
        oidc = f"{self.realm_url}/protocol/openid-connect"
        return json_response(
            200,
            {
                "issuer": self.realm_url,
                "authorization_endpoint": f"{oidc}/auth",
                "token_endpoint": f"{oidc}/token",
                "introspection_endpoint": f"{oidc}/token/introspect",
                "userinfo_endpoint": f"{oidc}/userinfo",
                "revocation_endpoint": f"{oidc}/revoke",
                "jwks_uri": f"{oidc}/certs",
                "registration_endpoint": f"{self.realm_url}/clients-registrations/openid-connect",
                "grant_types_supported": [
                    "authorization_code",
                    "implicit",
                    "refresh_token",
                    "password",
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
            },
        )

    def _authenticate(self, seen: Seen) -> str | None:
        creds = basic_credentials(seen)
        if creds is None:
            return None
        client_id, secret = creds
        if client_id in self.service_accounts and self.service_accounts[client_id][0] == secret:
            return client_id
        client = self.clients.get(client_id)
        if client and client.secret and client.secret == secret:
            return client_id
        return None

    def token(self, seen: Seen) -> httpx.Response:
        client_id = self._authenticate(seen)
        if client_id is None:
            return json_response(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
            )
        if seen.form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        value = token("kc-at-")
        if client_id in self.service_accounts:
            self.service_account_tokens[value] = client_id
        scope = seen.form.get("scope") or "profile email"
        self.access_tokens[value] = {
            "client_id": client_id,
            "scope": scope,
            "active": True,
            "exp": int(time.time()) + self.token_lifetime,
        }
        return json_response(
            200,
            {
                "access_token": value,
                "expires_in": self.token_lifetime,
                "token_type": "Bearer",
                "scope": scope,
            },
        )

    def introspect(self, seen: Seen) -> httpx.Response:
        if self._authenticate(seen) is None:
            return json_response(401, {"error": "invalid_client"})
        info = self.access_tokens.get(seen.form.get("token", ""))
        if not info or not info["active"]:
            return json_response(200, {"active": False})
        return json_response(200, {**info, "token_type": "Bearer"})

    def revoke(self, seen: Seen) -> httpx.Response:
        client_id = self._authenticate(seen)
        if client_id is None:
            return json_response(401, {"error": "invalid_client"})
        info = self.access_tokens.get(seen.form.get("token", ""))
        if info and info["client_id"] == client_id:
            info["active"] = False
        return json_response(200)

    # -- DCR ---------------------------------------------------------------------------------
    def _client_response(self, client: KcClient) -> dict[str, Any]:
        return {
            **client.metadata,
            "client_id": client.client_id,
            "client_secret": client.secret,
            "client_secret_expires_at": 0,
            "registration_access_token": client.rat,
            "registration_client_uri": f"{self.realm_url}/clients-registrations/openid-connect/{client.client_id}",
        }

    def _may_create(self, seen: Seen) -> bool:
        presented = bearer_token(seen)
        if presented in self.initial_access_tokens:
            return True
        account = self.service_account_tokens.get(presented)
        return bool(account) and "create-client" in self.service_accounts[account][1]

    def register(self, seen: Seen) -> httpx.Response:
        if not self._may_create(seen):
            return json_response(
                401, {"error": "invalid_token", "error_description": "Not authorized to create client"}
            )
        body = dict(seen.json or {})
        if "client_id" in body:
            return json_response(
                400,
                {
                    "error": "invalid_client_metadata",
                    "error_description": "client_id must not be set on create",
                },
            )
        if "authorization_code" in body.get("grant_types", []) and not body.get("redirect_uris"):
            return json_response(
                400,
                {
                    "error": "invalid_redirect_uri",
                    "error_description": "Client with authorization code needs a redirect uri",
                },
            )
        public = body.get("token_endpoint_auth_method") == "none"
        client = KcClient(
            client_id=str(uuid.uuid4()),
            uuid=str(uuid.uuid4()),
            secret="" if public else token("kcs-"),
            rat=token("kc-rat-"),
            metadata=body,
        )
        self.clients[client.client_id] = client
        return json_response(201, self._client_response(client))

    def _managed(self, seen: Seen, client_id: str) -> KcClient | None:
        client = self.clients.get(client_id)
        if client is None or bearer_token(seen) != client.rat:
            return None
        client.rat = token("kc-rat-")  # rotates on every use
        return client

    def read(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._managed(seen, client_id)
        if client is None:
            return json_response(401, INVALID_TOKEN)
        return json_response(200, self._client_response(client))

    def update(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._managed(seen, client_id)
        if client is None:
            return json_response(401, INVALID_TOKEN)
        body = dict(seen.json or {})
        if body.get("client_id") != client_id:
            return json_response(
                400, {"error": "invalid_client_metadata", "error_description": "Client Identifier modified"}
            )
        body.pop("client_id")
        client.metadata = body  # full replace; the secret is kept
        return json_response(200, self._client_response(client))

    def delete(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._managed(seen, client_id)
        if client is None:
            return json_response(401, INVALID_TOKEN)
        del self.clients[client_id]
        return json_response(204)

    # -- admin API ---------------------------------------------------------------------------
    def _admin(self, seen: Seen, role: str) -> httpx.Response | None:
        account = self.service_account_tokens.get(bearer_token(seen))
        if account is None:
            return json_response(401, {"error": "HTTP 401 Unauthorized"})
        if role not in self.service_accounts[account][1]:
            return json_response(
                403,
                {
                    "error": "unknown_error",
                    "error_description": "For more on this error consult the server log.",
                },
            )
        return None

    def _by_uuid(self, value: str) -> KcClient | None:
        return next((c for c in self.clients.values() if c.uuid == value), None)

    def admin_list(self, seen: Seen) -> httpx.Response:
        if refused := self._admin(seen, "view-clients"):
            return refused
        wanted = seen.query.get("clientId")
        found = [c for c in self.clients.values() if wanted is None or c.client_id == wanted]
        found = found[: int(seen.query.get("max", 100))]
        return json_response(200, [{"id": c.uuid, "clientId": c.client_id, "enabled": True} for c in found])

    def admin_new_secret(self, seen: Seen, uuid: str) -> httpx.Response:
        if refused := self._admin(seen, "manage-clients"):
            return refused
        client = self._by_uuid(uuid)
        if client is None:
            return json_response(404, {"error": "Could not find client"})
        client.secret = token("kcs-")
        return json_response(200, {"type": "secret", "value": client.secret})

    def admin_delete(self, seen: Seen, uuid: str) -> httpx.Response:
        if refused := self._admin(seen, "manage-clients"):
            return refused
        client = self._by_uuid(uuid)
        if client is None:
            return json_response(404, {"error": "Could not find client"})
        del self.clients[client.client_id]
        return json_response(204)
