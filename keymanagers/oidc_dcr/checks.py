"""Test connection (the key-manager admin's button) for the servers that speak OIDC Dynamic Client
Registration: discovery, then a real round trip with a probe client. Keycloak and Okta run these
steps too, around their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keymanagers.base import ClientConfig, ConnectionCheck, KeyManagerError, RegisteredClient
from keymanagers.http import fetch_well_known

if TYPE_CHECKING:
    from keymanagers.oidc_dcr.adapter import OidcDcrAdapter

PROBE_CLIENT_NAME = "devportal connection test"


def discovery_check(adapter: OidcDcrAdapter, checks: list[ConnectionCheck]) -> bool:
    """The discovery document answers (nothing to check when none is configured)."""
    url = adapter.discovery_url()
    if not url:
        return True
    try:
        doc = fetch_well_known(url, key_manager=adapter.key_manager, transport=adapter.http.transport)
    except KeyManagerError as exc:
        checks.append(ConnectionCheck("discovery", False, exc.message))
        return False
    checks.append(ConnectionCheck("discovery", True, f"{url} answers; issuer {doc['issuer']}"))
    return True


def round_trip_checks(adapter: OidcDcrAdapter, checks: list[ConnectionCheck]) -> None:
    """Register a probe client, get a token with it, introspect and revoke the token, delete the
    client again: each step a check."""
    config = ClientConfig(name=PROBE_CLIENT_NAME, grant_types=["client_credentials"])
    try:
        client = adapter.register_client(config)
    except KeyManagerError as exc:
        checks.append(ConnectionCheck("registration", False, exc.message))
        return
    checks.append(
        ConnectionCheck("registration", True, f"registered a probe client ({client.ref.client_id})")
    )
    try:
        _probe_tokens(adapter, checks, client)
    finally:
        try:
            adapter.delete_client(client.ref)
        except KeyManagerError as exc:
            checks.append(ConnectionCheck("delete probe client", False, exc.message))
        else:
            checks.append(ConnectionCheck("delete probe client", True, "deleted the probe client"))


def _probe_tokens(adapter: OidcDcrAdapter, checks: list[ConnectionCheck], client: RegisteredClient) -> None:
    secret = client.secret.value if client.secret else ""
    try:
        token = adapter.issue_token(client.ref, client_secret=secret, scopes=[])
    except KeyManagerError as exc:
        checks.append(ConnectionCheck("token", False, exc.message))
        return
    checks.append(ConnectionCheck("token", True, "issued a client_credentials token to the probe client"))
    if adapter.endpoints().get("introspect"):
        try:
            answer = adapter.introspect(token.access_token, ref=client.ref, client_secret=secret)
        except KeyManagerError as exc:
            checks.append(ConnectionCheck("introspection", False, exc.message))
        else:
            state = "active" if answer.get("active") else "NOT active"
            checks.append(
                ConnectionCheck("introspection", bool(answer.get("active")), f"the probe token is {state}")
            )
    if adapter.endpoints().get("revoke"):
        try:
            adapter.revoke_token(client.ref, token.access_token, client_secret=secret)
        except KeyManagerError as exc:
            checks.append(ConnectionCheck("revocation", False, exc.message))
        else:
            checks.append(ConnectionCheck("revocation", True, "revoked the probe token"))
