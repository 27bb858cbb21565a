"""A Keycloak 24+ realm, as far as the adapter uses it (research.md "External key managers").

- OIDC endpoints under ``/realms/{realm}/protocol/openid-connect/``: ``token`` (client_credentials),
  ``token/introspect`` (confidential clients only), ``revoke``; discovery at
  ``/realms/{realm}/.well-known/openid-configuration``.
- DCR ``POST /realms/{realm}/clients-registrations/openid-connect`` (201; no ``client_id`` may be sent),
  with an initial access token or a service-account token holding ``create-client``;
  ``GET|PUT|DELETE .../openid-connect/{client_id}`` with the registration access token, which rotates on
  every use; PUT with another ``client_id`` → 400 "Client Identifier modified"; PUT keeps the secret.
- Admin API with a service-account token: ``GET /admin/realms/{realm}/clients?clientId=X``,
  ``GET|PUT|DELETE .../clients/{uuid}`` (a PUT changes only the members it sends),
  ``POST .../clients/{uuid}/client-secret`` → ``{"type": "secret", "value": ...}``,
  ``POST .../clients/{uuid}/registration-access-token`` (a fresh registration access token).

Vendor rules encoded (each names its source in keycloak/keycloak):
- an initial access token has a use count (default 1): ``ClientInitialAccessResource`` creates it
  with ``count``, ``ClientRegistrationAuth`` spends one per registration and answers 401 "No
  remaining count on initial access token" at zero;
- client_credentials for a client without a service account is 401 ``unauthorized_client`` "Client
  not enabled to retrieve service account" (``ClientCredentialsGrantType``), not ``invalid_client``;
- the registration answer is derived from the client's flags (``DescriptionConverter``): before
  26.1 the flags come from ``response_types`` (empty: code), only ``password`` and
  ``client_credentials`` are read from ``grant_types`` and the device grant is never enabled
  (keycloak issue 32801, fixed in 26.1 by PR 35224);
- PKCE and token lifetimes are client attributes (``pkce.code.challenge.method``,
  ``access.token.lifespan``) that only the admin API sets; DCR has no field for them.
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


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_ATTRIBUTE = "oauth2.device.authorization.grant.enabled"
# Flags and attributes of a ClientRepresentation that the portal manages through the admin API.
FLAGS = ("standardFlowEnabled", "implicitFlowEnabled", "directAccessGrantsEnabled", "serviceAccountsEnabled")


@dataclass
class KcClient:
    client_id: str
    uuid: str
    secret: str
    rat: str
    metadata: dict[str, Any]
    public: bool = False
    flags: dict[str, bool] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def grant_types(self) -> list[str]:
        """The grant types Keycloak reports for the client, from its flags
        (``DescriptionConverter.getOIDCGrantTypes``)."""
        grants = []
        if self.flags.get("standardFlowEnabled"):
            grants.append("authorization_code")
        if self.flags.get("implicitFlowEnabled"):
            grants.append("implicit")
        if self.flags.get("directAccessGrantsEnabled"):
            grants.append("password")
        if self.flags.get("serviceAccountsEnabled"):
            grants.append("client_credentials")
        if self.attributes.get(DEVICE_ATTRIBUTE) == "true":
            grants.append(DEVICE_GRANT)
        if self.attributes.get("use.refresh.tokens", "true") == "true":
            grants.append("refresh_token")
        return grants

    def representation(self) -> dict[str, Any]:
        return {
            "id": self.uuid,
            "clientId": self.client_id,
            "enabled": True,
            "publicClient": self.public,
            **{name: bool(self.flags.get(name)) for name in FLAGS},
            "attributes": dict(self.attributes),
        }


@dataclass
class KeycloakSimulator(Simulator):
    base_url: str = "https://sso.example.com"
    realm: str = "devportal"
    #: Keycloak's version: before 26.1 registration ignores most grant types (issue 32801).
    version: tuple[int, int] = (26, 1)
    #: Each initial access token with its remaining count (``ClientInitialAccessResource``: default 1).
    initial_access_tokens: dict[str, int] = field(default_factory=lambda: {"kc-initial-access-token": 1})
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
        self.route("POST", f"{admin}/clients/(?P<uuid>[^/]+)/registration-access-token", self.admin_new_rat)
        self.route("GET", f"{admin}/clients/(?P<uuid>[^/]+)", self.admin_read)
        self.route("PUT", f"{admin}/clients/(?P<uuid>[^/]+)", self.admin_update)
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
        client = self.clients.get(client_id)
        if client is not None and not client.flags.get("serviceAccountsEnabled"):
            # ClientCredentialsGrantType: the secret was right, the client has no service account.
            return json_response(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client not enabled to retrieve service account",
                },
            )
        lifetime = self.token_lifetime
        if client is not None and client.attributes.get("access.token.lifespan"):
            # OIDCAdvancedConfigWrapper: the client's access.token.lifespan overrides the realm's.
            lifetime = int(client.attributes["access.token.lifespan"])
        value = token("kc-at-")
        if client_id in self.service_accounts:
            self.service_account_tokens[value] = client_id
        scope = seen.form.get("scope") or "profile email"
        self.access_tokens[value] = {
            "client_id": client_id,
            "scope": scope,
            "active": True,
            "exp": int(time.time()) + lifetime,
        }
        return json_response(
            200,
            {
                "access_token": value,
                "expires_in": lifetime,
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
        # DescriptionConverter.toExternalResponse: grant and response types are derived from the
        # client's flags (getOIDCGrantTypes, getOIDCResponseTypes), not echoed from the request.
        standard, implicit = client.flags.get("standardFlowEnabled"), client.flags.get("implicitFlowEnabled")
        response_types = ["code", "none"] if standard else []
        if implicit:
            response_types += ["id_token", "id_token token"]
        if standard and implicit:
            response_types += ["code id_token", "code token", "code id_token token"]
        return {
            **client.metadata,
            "grant_types": client.grant_types,
            "response_types": response_types,
            "token_endpoint_auth_method": "none" if client.public else "client_secret_basic",
            "client_id": client.client_id,
            "client_secret": client.secret,
            "client_secret_expires_at": 0,
            "registration_access_token": client.rat,
            "registration_client_uri": f"{self.realm_url}/clients-registrations/openid-connect/{client.client_id}",
        }

    def _may_create(self, seen: Seen) -> str:
        """Why the caller may not register a client ("" if it may)."""
        presented = bearer_token(seen)
        if presented in self.initial_access_tokens:
            # ClientRegistrationAuth: each registration spends one use of the initial access token.
            if self.initial_access_tokens[presented] < 1:
                return "No remaining count on initial access token"
            self.initial_access_tokens[presented] -= 1
            return ""
        account = self.service_account_tokens.get(presented)
        if account and "create-client" in self.service_accounts[account][1]:
            return ""
        return "Not authorized to create client"

    def _derive_flags(self, client: KcClient, body: dict[str, Any], *, creating: bool = False) -> None:
        """DescriptionConverter.toInternal: the client's flags from a registration or update."""
        grants = body.get("grant_types") or []
        if creating and body.get("grant_types") is not None:
            # OIDCClientRegistrationProvider.createOIDC: grant types without refresh_token switch
            # refresh tokens off.
            client.attributes["use.refresh.tokens"] = str("refresh_token" in grants).lower()
        if self.version >= (26, 1):
            # PR 35224: every flag follows grant_types.
            client.flags = {
                "standardFlowEnabled": "authorization_code" in grants,
                "implicitFlowEnabled": "implicit" in grants,
                "directAccessGrantsEnabled": "password" in grants,
                "serviceAccountsEnabled": "client_credentials" in grants,
            }
            client.attributes[DEVICE_ATTRIBUTE] = str(DEVICE_GRANT in grants).lower()
            client.attributes["use.refresh.tokens"] = str("refresh_token" in grants).lower()
            return
        # Before 26.1 (issue 32801): response_types decide the browser flows (empty means code),
        # and only password and client_credentials are read from grant_types.
        response_types = body.get("response_types") or ["code"]
        client.flags = {
            "standardFlowEnabled": "code" in response_types,
            "implicitFlowEnabled": any(t in response_types for t in ("token", "id_token")),
            "directAccessGrantsEnabled": "password" in grants,
            "serviceAccountsEnabled": "client_credentials" in grants,
        }

    def register(self, seen: Seen) -> httpx.Response:
        if refused := self._may_create(seen):
            return json_response(401, {"error": "invalid_token", "error_description": refused})
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
            public=public,
        )
        self._derive_flags(client, body, creating=True)
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
        client.public = body.get("token_endpoint_auth_method") == "none"
        self._derive_flags(client, body)
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

    def admin_read(self, seen: Seen, uuid: str) -> httpx.Response:
        if refused := self._admin(seen, "view-clients"):
            return refused
        client = self._by_uuid(uuid)
        if client is None:
            return json_response(404, {"error": "Could not find client"})
        return json_response(200, client.representation())

    def admin_update(self, seen: Seen, uuid: str) -> httpx.Response:
        """ClientResource.update / RepresentationToModel.updateClient: only the members sent change;
        an attribute sent empty is removed."""
        if refused := self._admin(seen, "manage-clients"):
            return refused
        client = self._by_uuid(uuid)
        if client is None:
            return json_response(404, {"error": "Could not find client"})
        body = dict(seen.json or {})
        for name in FLAGS:
            if isinstance(body.get(name), bool):
                client.flags[name] = body[name]
        if isinstance(body.get("publicClient"), bool):
            client.public = body["publicClient"]
        for name, value in (body.get("attributes") or {}).items():
            if value in (None, ""):
                client.attributes.pop(name, None)
            else:
                client.attributes[name] = str(value)
        return json_response(204)

    def admin_new_rat(self, seen: Seen, uuid: str) -> httpx.Response:
        """ClientResource.regenerateRegistrationAccessToken: the old token stops working."""
        if refused := self._admin(seen, "manage-clients"):
            return refused
        client = self._by_uuid(uuid)
        if client is None:
            return json_response(404, {"error": "Could not find client"})
        client.rat = token("kc-rat-")
        return json_response(200, {**client.representation(), "registrationAccessToken": client.rat})
