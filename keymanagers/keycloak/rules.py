"""The key-manager admin's rules for a Keycloak key manager (``keymanagers/admin_forms.py`` applies them)."""

from __future__ import annotations

#: Adapter settings a Keycloak key manager cannot work without.
ADMIN_REQUIRED_CONFIG = ("base_url", "realm")


def admin_credential_problems(kept: set[str]) -> dict[str, str]:
    """The credentials a Keycloak key manager cannot register clients without, given the names typed
    or kept stored: form field → message."""
    if "initial_access_token" not in kept and not ({"client_id", "client_secret"} <= kept):
        return {
            "initial_access_token": "Keycloak needs an initial access token or a service account "
            "(client id and secret) to register clients."
        }
    return {}
