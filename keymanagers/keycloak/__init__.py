"""Keycloak key manager (type ``keycloak``): one realm of a Keycloak 24+ server (no ``/auth`` prefix).

Clients are created with the realm's OpenID Connect Dynamic Client Registration endpoint
(``/realms/{realm}/clients-registrations/openid-connect``) and managed there with the registration access
token, which Keycloak rotates on every use: the newest one from each answer is kept in ``ref.state``.
DCR cannot change a secret, so "Regenerate Consumer Secret" goes through the admin REST API with a
service-account token (``POST /admin/realms/{realm}/clients/{uuid}/client-secret``).

Keycloak's rules the adapter works with (checked in keycloak/keycloak):
- An initial access token has a use count (default 1, ``ClientInitialAccessResource``): the service
  account registers whenever one is configured; the initial access token is only the fallback, and
  Test connection never spends it.
- DCR has no field for PKCE or token lifetimes, and before 26.1 it ignores most grant types
  (``DescriptionConverter``, issue 32801): with a service account, every registration and update is
  followed by an admin API ``PUT /admin/realms/{realm}/clients/{uuid}`` setting the flows, PKCE
  (``pkce.code.challenge.method``) and ``access.token.lifespan``, then read back. Without one, the
  registration answer is checked and a client with other grant types than chosen is deleted again.
- A lost DCR answer leaves a stale registration access token; the admin API issues a new one
  (``POST .../clients/{uuid}/registration-access-token``).

Key manager settings used:
    config       ``base_url`` (e.g. ``https://sso.example.com``), ``realm``, optional ``resource``
    credentials  ``client_id`` / ``client_secret`` of a confidential client whose service account has the
                 realm-management roles ``create-client``, ``manage-clients`` and ``view-clients`` (registers
                 clients, sets flows, PKCE and lifetimes, regenerates secrets); ``initial_access_token``
                 (the registration fallback without a usable service account), optional
                 ``introspection_client_id`` / ``_secret``
Endpoint fields left empty on the key manager are derived from ``base_url`` and ``realm``.
"""

from keymanagers.keycloak.adapter import KeycloakAdapter
from keymanagers.keycloak.rules import ADMIN_REQUIRED_CONFIG, admin_credential_problems

__all__ = ["ADMIN_REQUIRED_CONFIG", "KeycloakAdapter", "admin_credential_problems"]
