"""Scopes of the resident server: the ``keys.Scope`` rows admins define, plus OpenID Connect's ``openid``.

``keys`` owns that catalogue; ``keymanagers`` must not import ``keys`` (keys depends on
keymanagers), so it is read through the hook ``keys`` registers (``keymanagers.hooks``).
``default`` is always allowed and is what a client gets when it asks for nothing; a scope that is
not defined makes oauthlib answer ``invalid_scope``.

A client may get every unrestricted scope, plus the restricted ones in its ``granted_scopes`` (the
portal copies an application's grants there, ``keys.scopes.scopes_sync``). A grant counts only
while its scope is still defined and still restricted; a restricted scope asked for without a
grant is ``invalid_scope`` like an unknown one.

A token request looks up only the scopes it names (the table may hold thousands); discovery and
the consent page's descriptions read the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable

from oauth2_provider.scopes import BaseScopes

from keymanagers import hooks

DEFAULT_SCOPE = "default"
OPENID_SCOPE = "openid"
BUILT_IN = {DEFAULT_SCOPE: "Always allowed.", OPENID_SCOPE: "Sign in with OpenID Connect."}


def defined_scopes(names: Iterable[str] | None = None) -> dict[str, str]:
    """Scope names the server knows, with their descriptions: all of them, or those among ``names``."""
    wanted = None if names is None else set(names)
    # Asking only for built-in scopes (the usual "default") needs no query at all.
    needs_query = wanted is None or bool(wanted - set(BUILT_IN))
    scopes = {
        row.name: (row.description or row.display_name or row.name)
        for row in (hooks.scope_catalogue(wanted) if needs_query else [])
    }
    for name, description in BUILT_IN.items():
        if wanted is None or name in wanted:
            scopes.setdefault(name, description)
    return scopes


def allowed_scopes(names: Iterable[str] | None, client) -> list[str]:
    """The scopes ``client`` may get: among ``names``, or all of them when ``names`` is None."""
    wanted = None if names is None else set(names)
    granted = set(getattr(client, "granted_scopes", None) or [])
    if getattr(client, "api_client", False):
        # A client of the portal's REST API gets the API scopes it was registered with (``apim:*``)
        # and ``default``; the catalogue's scopes are for applications' keys, not for it.
        offered = granted | {DEFAULT_SCOPE}
        return sorted(offered if wanted is None else offered & wanted)
    allowed = {name for name in BUILT_IN if wanted is None or name in wanted}
    # Asking only for built-in scopes (the usual "default") needs no query at all.
    if wanted is None or wanted - set(BUILT_IN):
        allowed.update(
            row.name for row in hooks.scope_catalogue(wanted) if not row.restricted or row.name in granted
        )
    return sorted(allowed)


class ResidentScopes(BaseScopes):
    def get_all_scopes(self):
        return defined_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        # oauthlib only checks that the requested scopes are a subset of this, so a token request
        # looks up just those. Without a client (discovery) it is every defined scope.
        if application is None:
            return list(defined_scopes())
        return allowed_scopes(getattr(request, "scopes", None), application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return [DEFAULT_SCOPE]
