"""An Okta org with one custom authorization server, as far as the adapter uses it (research.md).

- Dynamic Client Registration API ``/oauth2/v1/clients`` with ``Authorization: SSWS <api token>``:
  POST (201), GET|PUT|DELETE ``/oauth2/v1/clients/{clientId}`` (PUT is a full replace), ``POST
  .../lifecycle/newSecret``.
- Apps API ``GET|PUT /api/v1/apps/{appId}`` (``credentials.oauthClient.pkce_required``).
- Apps API secrets ``/api/v1/apps/{appId}/credentials/secrets``: GET, POST (at most two per app),
  ``POST .../{secretId}/lifecycle/deactivate``, DELETE (inactive secrets only).
- Apps API lifecycle ``POST /api/v1/apps/{appId}/lifecycle/activate|deactivate`` (200 ``{}``, also when
  already in that state; unknown app → 404 ``E0000007``). A deactivated app keeps its secrets, but
  its client is refused at the token, introspect and revoke endpoints (401 ``invalid_client``).
- ``/oauth2/{authServerId}/v1/token|introspect|revoke`` and the authorization server's metadata.
Management API errors use Okta's ``errorCode``/``errorSummary``; OAuth endpoints use RFC 6749 errors.

Vendor rules encoded (Okta management OpenAPI 2026.06.3, ``shared/reference/okta``):
- an unknown client or app is 404 ``E0000007`` (``ErrorResourceNotFound404`` of getClient,
  replaceClient, deleteClient and the Apps API), a refused API token 401 ``E0000011``;
- each app type accepts only its grant types, and web and native apps must have
  ``authorization_code`` (the table of createClient);
- a client_credentials token request must have ``scope`` (``TokenRequestClientCredentials``,
  ``required: [scope]``) unless the authorization server has a default scope;
- ``client_name`` is not unique (the ``Client`` schema has no such rule; Okta dropped it in 2022);
- ``rate_limit`` answers 429 ``E0000047`` with ``X-Rate-Limit-Limit``, ``-Remaining`` and ``-Reset``
  (epoch seconds) (``ErrorTooManyRequests429``).
"""

from __future__ import annotations

import secrets
import time
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

INVALID_API_TOKEN = {
    "errorCode": "E0000011",
    "errorSummary": "Invalid token provided",
    "errorLink": "E0000011",
    "errorId": "oae-sim",
    "errorCauses": [],
}
# Grant types per app type, and the one web and native apps must have (createClient's table).
GRANTS_BY_TYPE = {
    "browser": {"authorization_code", "implicit", "urn:ietf:params:oauth:grant-type:saml2-bearer"},
    "native": {
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
        # Okta's guides: the device and token-exchange grants are for native apps.
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    },
    "service": {"client_credentials", "urn:ietf:params:oauth:grant-type:saml2-bearer"},
    "web": {
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
    },
}


def not_found(what: str) -> dict[str, Any]:
    return {
        "errorCode": "E0000007",
        "errorSummary": f"Not found: Resource not found: {what}",
        "errorLink": "E0000007",
        "errorId": "oae-sim",
        "errorCauses": [],
    }


@dataclass
class OktaSecret:
    id: str
    value: str
    status: str = "ACTIVE"
    created: str = field(default_factory=lambda: f"{time.time_ns():020d}")


@dataclass
class OktaClient:
    client_id: str
    metadata: dict[str, Any]
    secrets: list[OktaSecret] = field(default_factory=list)
    status: str = "ACTIVE"  # the app's: ACTIVE | INACTIVE
    pkce_required: bool = False


@dataclass
class OktaSimulator(Simulator):
    base_url: str = "https://dev-123.okta.com"
    authorization_server_id: str = "aus1portal"
    api_token: str = "okta-api-token"
    custom_scopes: set[str] = field(default_factory=lambda: {"default", "read", "write"})
    #: Scopes the authorization server grants when a request names none (scopes marked default).
    default_scopes: set[str] = field(default_factory=set)
    clients: dict[str, OktaClient] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        auth_server = f"/oauth2/{self.authorization_server_id}"
        self.route("GET", f"{auth_server}/.well-known/oauth-authorization-server", self.discovery)
        self.route("POST", f"{auth_server}/v1/token", self.token)
        self.route("POST", f"{auth_server}/v1/introspect", self.introspect)
        self.route("POST", f"{auth_server}/v1/revoke", self.revoke)
        self.route("GET", "/oauth2/v1/clients", self.list_clients)
        self.route("POST", "/oauth2/v1/clients", self.create)
        self.route("GET", "/oauth2/v1/clients/(?P<client_id>[^/]+)", self.read)
        self.route("PUT", "/oauth2/v1/clients/(?P<client_id>[^/]+)", self.replace)
        self.route("DELETE", "/oauth2/v1/clients/(?P<client_id>[^/]+)", self.delete)
        self.route("POST", "/oauth2/v1/clients/(?P<client_id>[^/]+)/lifecycle/newSecret", self.new_secret)
        secrets_path = "/api/v1/apps/(?P<app_id>[^/]+)/credentials/secrets"
        self.route("GET", secrets_path, self.list_secrets)
        self.route("POST", secrets_path, self.add_secret)
        self.route(
            "POST", f"{secrets_path}/(?P<secret_id>[^/]+)/lifecycle/deactivate", self.deactivate_secret
        )
        self.route("DELETE", f"{secrets_path}/(?P<secret_id>[^/]+)", self.delete_secret)
        self.route("GET", "/api/v1/apps/(?P<app_id>[^/]+)", self.read_app)
        self.route("PUT", "/api/v1/apps/(?P<app_id>[^/]+)", self.replace_app)
        app_path = "/api/v1/apps/(?P<app_id>[^/]+)/lifecycle"
        self.route("POST", f"{app_path}/activate", self.activate_app)
        self.route("POST", f"{app_path}/deactivate", self.deactivate_app)

    def rate_limit(self, method: str, path: str, *, reset_in: int = 30, times: int = 1) -> None:
        """The next ``times`` requests to ``path`` get Okta's 429 with its rate-limit headers."""
        self.fail(
            method,
            path,
            status=429,
            body={
                "errorCode": "E0000047",
                "errorSummary": "You exceeded the maximum number of requests. Try again in a while.",
                "errorLink": "E0000047",
                "errorId": "oae-sim",
                "errorCauses": [],
            },
            times=times,
            headers={
                "X-Rate-Limit-Limit": "100",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": str(int(time.time()) + reset_in),
            },
        )

    @property
    def auth_server_url(self) -> str:
        return f"{self.base_url}/oauth2/{self.authorization_server_id}"

    def discovery(self, seen: Seen) -> httpx.Response:
        base = self.auth_server_url
        return json_response(
            200,
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/v1/authorize",
                "token_endpoint": f"{base}/v1/token",
                "introspection_endpoint": f"{base}/v1/introspect",
                "revocation_endpoint": f"{base}/v1/revoke",
                "jwks_uri": f"{base}/v1/keys",
                "registration_endpoint": f"{self.base_url}/oauth2/v1/clients",
                "grant_types_supported": [
                    "authorization_code",
                    "implicit",
                    "refresh_token",
                    "password",
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ],
            },
        )

    # -- OAuth -------------------------------------------------------------------------------
    def _authenticate(self, seen: Seen) -> OktaClient | None:
        creds = basic_credentials(seen)
        if creds is None:
            return None
        client = self.clients.get(creds[0])
        if (
            client
            and client.status == "ACTIVE"
            and any(s.status == "ACTIVE" and s.value == creds[1] for s in client.secrets)
        ):
            return client
        return None

    def token(self, seen: Seen) -> httpx.Response:
        client = self._authenticate(seen)
        if client is None:
            return json_response(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed. Either the client or the client "
                    "credentials are invalid.",
                },
            )
        if seen.form.get("grant_type") not in client.metadata.get("grant_types", []):
            return json_response(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "The client is not authorized to use the provided grant type.",
                },
            )
        # TokenRequestClientCredentials: scope is required unless the server has default scopes.
        scopes = seen.form.get("scope", "").split() or sorted(self.default_scopes)
        if not scopes or not set(scopes) <= self.custom_scopes:
            return json_response(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": "One or more scopes are not configured for the "
                    "authorization server resource.",
                },
            )
        value = token("okta-at-")
        self.access_tokens[value] = {"client_id": client.client_id, "scope": " ".join(scopes), "active": True}
        return json_response(
            200,
            {"token_type": "Bearer", "expires_in": 3600, "access_token": value, "scope": " ".join(scopes)},
        )

    def introspect(self, seen: Seen) -> httpx.Response:
        if self._authenticate(seen) is None:
            return json_response(401, {"error": "invalid_client"})
        info = self.access_tokens.get(seen.form.get("token", ""))
        return json_response(200, info if info and info["active"] else {"active": False})

    def revoke(self, seen: Seen) -> httpx.Response:
        client = self._authenticate(seen)
        if client is None:
            return json_response(401, {"error": "invalid_client"})
        info = self.access_tokens.get(seen.form.get("token", ""))
        if info and info["client_id"] == client.client_id:
            info["active"] = False
        return json_response(200)

    # -- clients -----------------------------------------------------------------------------
    def _api(self, seen: Seen) -> httpx.Response | None:
        if bearer_token(seen, "SSWS") != self.api_token:
            return json_response(401, INVALID_API_TOKEN)
        return None

    def _client_body(self, client: OktaClient, *, with_secret: bool = True) -> dict[str, Any]:
        body = {
            **client.metadata,
            "client_id": client.client_id,
            "client_id_issued_at": 1700000000,
            "client_secret_expires_at": 0,
        }
        active = [s for s in client.secrets if s.status == "ACTIVE"]
        if with_secret and active:
            body["client_secret"] = active[-1].value
        return body

    def _invalid(self, description: str) -> httpx.Response:
        return json_response(400, {"error": "invalid_client_metadata", "error_description": description})

    def _validate(self, body: dict[str, Any], client_id: str = "") -> httpx.Response | None:
        name = body.get("client_name")
        if not name:
            return self._invalid("client_name: The field cannot be left blank")
        # No uniqueness check on client_name: Okta dropped that rule in 2022.
        app_type = body.get("application_type", "web")
        grants = set(body.get("grant_types") or ["authorization_code"])  # the schema's default
        refused = sorted(grants - GRANTS_BY_TYPE.get(app_type, set()))
        if refused:
            return self._invalid(
                f"grant_types: {', '.join(refused)} is not valid for the '{app_type}' application type"
            )
        if app_type in ("web", "native") and "authorization_code" not in grants:
            return self._invalid(
                f"grant_types: A '{app_type}' application must have at least 'authorization_code'"
            )
        if app_type in ("web", "browser", "native") and not body.get("redirect_uris"):
            return self._invalid("redirect_uris: 'redirect_uris' must contain at least one valid URI")
        return None

    def list_clients(self, seen: Seen) -> httpx.Response:
        if refused := self._api(seen):
            return refused
        limit = int(seen.query.get("limit", 20))
        return json_response(
            200, [self._client_body(c, with_secret=False) for c in list(self.clients.values())[:limit]]
        )

    def create(self, seen: Seen) -> httpx.Response:
        if refused := self._api(seen):
            return refused
        body = dict(seen.json or {})
        if invalid := self._validate(body):
            return invalid
        client = OktaClient(client_id="0oa" + secrets.token_hex(8), metadata=body)
        if body.get("token_endpoint_auth_method") != "none":
            client.secrets.append(OktaSecret(id="ocs" + secrets.token_hex(6), value=token("okta-s-")))
        self.clients[client.client_id] = client
        return json_response(201, self._client_body(client))

    def _client(self, seen: Seen, client_id: str) -> OktaClient | httpx.Response:
        if refused := self._api(seen):
            return refused
        client = self.clients.get(client_id)
        return client if client is not None else json_response(404, not_found(f"{client_id} (Client)"))

    def read(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._client(seen, client_id)
        return client if isinstance(client, httpx.Response) else json_response(200, self._client_body(client))

    def replace(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._client(seen, client_id)
        if isinstance(client, httpx.Response):
            return client
        body = dict(seen.json or {})
        body.pop("client_id", None)
        if invalid := self._validate(body, client_id):
            return invalid
        client.metadata = body
        return json_response(200, self._client_body(client))

    def delete(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._client(seen, client_id)
        if isinstance(client, httpx.Response):
            return client
        del self.clients[client_id]
        return json_response(204)

    def new_secret(self, seen: Seen, client_id: str) -> httpx.Response:
        client = self._client(seen, client_id)
        if isinstance(client, httpx.Response):
            return client
        client.secrets = [OktaSecret(id="ocs" + secrets.token_hex(6), value=token("okta-s-"))]
        return json_response(200, self._client_body(client))

    # -- secrets -----------------------------------------------------------------------------
    def _app(self, seen: Seen, app_id: str) -> OktaClient | httpx.Response:
        if refused := self._api(seen):
            return refused
        client = self.clients.get(app_id)
        if client is None:
            return json_response(404, not_found(f"{app_id} (AppInstance)"))
        return client

    @staticmethod
    def _secret_body(secret: OktaSecret) -> dict[str, Any]:
        return {
            "id": secret.id,
            "status": secret.status,
            "client_secret": secret.value,
            "secret_hash": secrets.token_hex(8),
            "created": secret.created,
            "lastUpdated": secret.created,
        }

    def list_secrets(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        return json_response(200, [self._secret_body(s) for s in client.secrets])

    def add_secret(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        if len(client.secrets) >= 2:
            return json_response(
                400,
                {
                    "errorCode": "E0000001",
                    "errorSummary": "Api validation failed: client_secret",
                    "errorCauses": [{"errorSummary": "You can't have more than two secrets at a time."}],
                },
            )
        secret = OktaSecret(id="ocs" + secrets.token_hex(6), value=token("okta-s-"))
        client.secrets.append(secret)
        return json_response(201, self._secret_body(secret))

    def _secret(self, client: OktaClient, secret_id: str) -> OktaSecret | None:
        return next((s for s in client.secrets if s.id == secret_id), None)

    def deactivate_secret(self, seen: Seen, app_id: str, secret_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        secret = self._secret(client, secret_id)
        if secret is None:
            return json_response(404, not_found(f"{secret_id} (ClientSecret)"))
        if secret.status == "ACTIVE" and sum(s.status == "ACTIVE" for s in client.secrets) == 1:
            return json_response(
                400,
                {
                    "errorCode": "E0000001",
                    "errorSummary": "Api validation failed: Can't deactivate the only active secret.",
                },
            )
        secret.status = "INACTIVE"
        return json_response(200, self._secret_body(secret))

    def delete_secret(self, seen: Seen, app_id: str, secret_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        secret = self._secret(client, secret_id)
        if secret is None:
            return json_response(404, not_found(f"{secret_id} (ClientSecret)"))
        if secret.status == "ACTIVE":
            return json_response(
                400,
                {
                    "errorCode": "E0000001",
                    "errorSummary": "Api validation failed: Can't delete an active secret.",
                },
            )
        client.secrets.remove(secret)
        return json_response(204)

    # -- app lifecycle -----------------------------------------------------------------------
    def activate_app(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        client.status = "ACTIVE"
        return json_response(200, {})

    def deactivate_app(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        client.status = "INACTIVE"
        return json_response(200, {})

    # -- the app (Apps API) ------------------------------------------------------------------
    def _app_body(self, client: OktaClient) -> dict[str, Any]:
        """The OIDC app as the Apps API shows it (getApplication's OPENID_CONNECT example)."""
        return {
            "id": client.client_id,
            "name": "oidc_client",
            "label": client.metadata.get("client_name", ""),
            "status": client.status,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {
                "oauthClient": {
                    "autoKeyRotation": True,
                    "client_id": client.client_id,
                    "token_endpoint_auth_method": client.metadata.get(
                        "token_endpoint_auth_method", "client_secret_basic"
                    ),
                    "pkce_required": client.pkce_required,
                }
            },
            "settings": {
                "oauthClient": {
                    "redirect_uris": list(client.metadata.get("redirect_uris") or []),
                    "response_types": list(client.metadata.get("response_types") or []),
                    "grant_types": list(client.metadata.get("grant_types") or []),
                    "application_type": client.metadata.get("application_type", "web"),
                }
            },
        }

    def read_app(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        return json_response(200, self._app_body(client))

    def replace_app(self, seen: Seen, app_id: str) -> httpx.Response:
        client = self._app(seen, app_id)
        if isinstance(client, httpx.Response):
            return client
        body = dict(seen.json or {})
        if not body.get("signOnMode") or not body.get("label"):
            # replaceApplication: "All required properties must be specified in the request body".
            return json_response(
                400,
                {
                    "errorCode": "E0000001",
                    "errorSummary": "Api validation failed: label, signOnMode",
                    "errorLink": "E0000001",
                    "errorId": "oae-sim",
                    "errorCauses": [],
                },
            )
        oauth = (body.get("credentials") or {}).get("oauthClient") or {}
        if isinstance(oauth.get("pkce_required"), bool):
            client.pkce_required = oauth["pkce_required"]
        return json_response(200, self._app_body(client))
