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

from keymanagers.okta.adapter import OktaAdapter
from keymanagers.okta.rules import ADMIN_REQUIRED_CONFIG, admin_credential_problems

__all__ = ["ADMIN_REQUIRED_CONFIG", "OktaAdapter", "admin_credential_problems"]
