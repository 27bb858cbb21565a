"""Test connection for an Okta key manager (the key-manager admin's button)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keymanagers.base import ConnectionCheck, KeyManagerError
from keymanagers.oidc_dcr.checks import discovery_check

if TYPE_CHECKING:
    from keymanagers.okta.adapter import OktaAdapter


def connection_checks(adapter: OktaAdapter) -> list[ConnectionCheck]:
    """Discovery of the authorization server, the API credentials (list one client), and the token
    endpoint answering. No client is created: Okta apps are heavier than a probe deserves."""
    checks: list[ConnectionCheck] = []
    try:
        adapter.base_url()
        adapter.api_authorization("configuration")
    except KeyManagerError as exc:
        checks.append(ConnectionCheck("configuration", False, exc.message))
        return checks
    if not discovery_check(adapter, checks):
        return checks
    step = "client management API"
    try:
        adapter.http.request(
            step,
            "GET",
            adapter.registration_endpoint(),
            params={"limit": "1"},
            authorization=adapter.api_authorization(step),
        )
    except KeyManagerError as exc:
        checks.append(ConnectionCheck(step, False, exc.message))
        return checks
    checks.append(ConnectionCheck(step, True, "the credentials may list OAuth clients"))
    step = "token"
    try:
        response = adapter.http.request(
            step,
            "POST",
            adapter.endpoints()["token"],
            form={"grant_type": "client_credentials", **adapter.token_request_extras()},
            accept=(400, 401),
        )
    except KeyManagerError as exc:
        checks.append(ConnectionCheck(step, False, exc.message))
        return checks
    error = response.json_object().get("error")
    if response.status == 401 or error == "invalid_client":
        checks.append(
            ConnectionCheck(
                step,
                True,
                "the token endpoint answers (and refuses a request without credentials, as it should)",
            )
        )
    else:
        checks.append(
            ConnectionCheck(
                step, False, f"unexpected answer from the token endpoint (HTTP {response.status})"
            )
        )
    return checks
