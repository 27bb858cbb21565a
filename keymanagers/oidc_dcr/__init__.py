"""Generic OpenID Connect Dynamic Client Registration key manager (type ``oidc-dcr``).

Clients are created with RFC 7591 (``POST`` to the registration endpoint with the admin's initial
access token) and managed with RFC 7592 (``GET|PUT|DELETE`` on ``registration_client_uri`` with the
client's registration access token, which some servers rotate on every use: the newest is always kept
in ``ref.state``). Tokens come from the token endpoint (client credentials), and are introspected
(RFC 7662) and revoked (RFC 7009) at the server's endpoints.

Key manager settings used:
    credentials  ``initial_access_token`` (optional: some servers allow open registration),
                 ``introspection_client_id`` / ``introspection_client_secret`` (optional: a client allowed
                 to introspect every token; otherwise the key's own credentials are used)
    config       ``resource`` (an RFC 8707 resource indicator sent with token requests),
                 ``client_metadata`` (extra RFC 7591 metadata merged into every registration)

The Keycloak and Okta adapters build on this one: both speak a dialect of the same protocol.
"""

from keymanagers.oidc_dcr.adapter import OidcDcrAdapter

__all__ = ["OidcDcrAdapter"]
