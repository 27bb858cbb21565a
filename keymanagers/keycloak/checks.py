"""Test connection for a Keycloak key manager (the key-manager admin's button)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keymanagers.base import ConnectionCheck, KeyManagerError
from keymanagers.oidc_dcr.checks import discovery_check, round_trip_checks

if TYPE_CHECKING:
    from keymanagers.keycloak.adapter import KeycloakAdapter


def connection_checks(adapter: KeycloakAdapter) -> list[ConnectionCheck]:
    """Discovery of the realm, the service account and its admin API rights (if configured), then a
    probe client registered, used for a token, introspected, revoked and deleted."""
    checks: list[ConnectionCheck] = []
    try:
        adapter.realm_url()
    except KeyManagerError as exc:
        checks.append(ConnectionCheck("configuration", False, exc.message))
        return checks
    if not discovery_check(adapter, checks):
        return checks
    if adapter.has_service_account:
        step = "service account"
        try:
            adapter.service_account_token(step, fresh=True)
            response = adapter.admin_request(
                step, "GET", "clients", params={"first": "0", "max": "1"}, accept=(403,)
            )
        except KeyManagerError as exc:
            checks.append(ConnectionCheck(step, False, exc.message))
            return checks
        if response.status == 403:
            checks.append(
                ConnectionCheck(
                    step,
                    False,
                    "the service account got a token but may not read "
                    "clients: give it view-clients and manage-clients",
                )
            )
        else:
            checks.append(ConnectionCheck(step, True, "got a token and may use the admin API"))
    else:
        # Registering a probe client would spend a use of the initial access token, which the
        # next developer's registration needs (Keycloak counts them).
        checks.append(
            ConnectionCheck(
                "registration",
                True,
                "not tested: without a service account a probe client would spend a use of the "
                "initial access token",
            )
        )
        return checks
    adapter.may_spend_iat = False
    try:
        round_trip_checks(adapter, checks)
    finally:
        adapter.may_spend_iat = True
    return checks
