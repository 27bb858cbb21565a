"""Okta's rules, checked before anything is created (``OktaAdapter.config_problems``): the app type
a configuration makes and the grant types each type takes, what Okta does not let a client set;
and the key-manager admin's rules for an Okta key manager."""

from __future__ import annotations

from keymanagers.base import ClientConfig
from keymanagers.models import GrantType

APPLICATION_TYPES = ("web", "service", "browser", "native")
# The grant types each app type accepts, and the one it must have: the table in Okta's OpenAPI
# (createClient, /oauth2/v1/clients) for the grant types the portal offers. Device Code and Token
# Exchange are native-app grants in Okta's guides ("Configure Device Authorization Grant Flow",
# "Set up OAuth 2.0 On-Behalf-Of Token Exchange").
GRANTS_BY_TYPE = {
    "service": {"client_credentials"},
    "web": {"authorization_code", "implicit", "refresh_token", "client_credentials"},
    "browser": {"authorization_code", "implicit"},
    "native": {
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
        GrantType.DEVICE_CODE,
        GrantType.TOKEN_EXCHANGE,
    },
}
REQUIRED_GRANT = {"web": "authorization_code", "native": "authorization_code"}
GRANT_LABELS = dict(GrantType.choices)

#: The additionalProperties an Okta key takes (the keys page and the REST API's applicationConfiguration).
APPLICATION_CONFIGURATION = [
    {
        "name": "application_type",
        "label": "Okta application type",
        "type": "select",
        "required": False,
        "default": "",
        "tooltip": "Leave on automatic: service for Client Credentials only, web with Code, "
        "browser or native for public clients.",
        "values": ["", *APPLICATION_TYPES],
    },
    {
        "name": "scope",
        "label": "Token scopes",
        "type": "input",
        "required": False,
        "default": "",
        "tooltip": "Space-separated scopes for Client Credentials tokens (Okta requires one). "
        "Empty: the key manager's default scope.",
        "values": [],
    },
]


_LIFETIMES = "Okta sets token lifetimes in the authorization server's access policies, not per app"
#: Key Configurations Okta cannot honour per client, and why.
UNSUPPORTED_SETTINGS = {
    "pkce_support_plain": "Okta accepts only the S256 code challenge method",
    "application_access_token_expiry_time": _LIFETIMES,
    "user_access_token_expiry_time": _LIFETIMES,
    "refresh_token_expiry_time": _LIFETIMES,
    "id_token_expiry_time": _LIFETIMES,
}


def key_scopes(config: ClientConfig) -> list[str]:
    value = (config.additional_properties or {}).get("scope")
    return value.split() if isinstance(value, str) else []


def app_type_for(config: ClientConfig) -> tuple[str, str]:
    """The Okta app type for ``config`` and, if Okta would refuse the combination, what to change."""
    grants = set(config.grant_types)
    names = ", ".join(GRANT_LABELS.get(g, g) for g in config.grant_types)
    chosen = (config.additional_properties or {}).get("application_type")
    if chosen in APPLICATION_TYPES:
        app_type = chosen
    elif config.public_client:
        app_type = "native" if grants - GRANTS_BY_TYPE["browser"] else "browser"
    elif grants == {"client_credentials"}:
        app_type = "service"
    elif "authorization_code" in grants:
        app_type = "web"
    else:
        return "web", (
            f"Okta has no app type for {names}: a confidential app with these grants must also "
            "have Code (tick Code and give a callback URL), or use Client Credentials alone."
        )
    refused = sorted(grants - GRANTS_BY_TYPE[app_type])
    if refused:
        labels = ", ".join(GRANT_LABELS.get(g, g) for g in refused)
        hint = {
            "service": "a service app has Client Credentials only",
            "web": "a web app takes Code, Implicit, Refresh Token and Client Credentials",
            "browser": "a browser app takes Code and Implicit only; tick Code for a native app "
            "with Refresh Token",
            "native": "a native app takes Code, Implicit, Password, Refresh Token, Device Code "
            "and Token Exchange",
        }[app_type]
        return app_type, f"An Okta {app_type} app cannot use {labels} ({hint}): untick it."
    required = REQUIRED_GRANT.get(app_type)
    if required and required not in grants:
        return app_type, f"An Okta {app_type} app must have Code: tick Code and give a callback URL."
    if app_type in ("service", "web") and config.public_client:
        return app_type, f"An Okta {app_type} app is confidential: untick Public client."
    if app_type == "browser" and not config.public_client:
        return app_type, "An Okta browser app has no secret: tick Public client, or pick web."
    return app_type, ""


# -- the key-manager admin's rules for Okta (keymanagers/admin.py applies them) -------------------

#: Adapter settings an Okta key manager cannot work without.
ADMIN_REQUIRED_CONFIG = ("base_url",)


def admin_credential_problems(kept: set[str]) -> dict[str, str]:
    """The credentials an Okta key manager cannot manage clients without, given the names typed or
    kept stored: form field → message."""
    if not kept & {"api_token", "access_token"}:
        return {"api_token": "Okta needs an API token (or an OAuth access token) to manage clients."}
    return {}
