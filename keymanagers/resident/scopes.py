"""Scopes of the resident server: the ``keys.Scope`` rows admins define, plus OpenID Connect's ``openid``.

``keymanagers`` must not import ``keys`` (keys depends on keymanagers), so the model is looked up
through the app registry. ``default`` is always allowed and is what a client gets when it asks for
nothing; a scope that is not defined makes oauthlib answer ``invalid_scope``.

A token request looks up only the scopes it names (the table may hold thousands); discovery and
the consent page's descriptions read the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from oauth2_provider.scopes import BaseScopes

DEFAULT_SCOPE = "default"
OPENID_SCOPE = "openid"
BUILT_IN = {DEFAULT_SCOPE: "Always allowed.", OPENID_SCOPE: "Sign in with OpenID Connect."}


def defined_scopes(names: Iterable[str] | None = None) -> dict[str, str]:
    """Scope names the server knows, with their descriptions: all of them, or those among ``names``."""
    Scope = apps.get_model("keys", "Scope")
    wanted = None if names is None else set(names)
    rows = Scope.objects.all() if wanted is None else Scope.objects.filter(name__in=wanted)
    # Asking only for built-in scopes (the usual "default") needs no query at all.
    needs_query = wanted is None or bool(wanted - set(BUILT_IN))
    scopes = {
        name: (description or display or name)
        for name, display, description in (
            rows.values_list("name", "display_name", "description") if needs_query else []
        )
    }
    for name, description in BUILT_IN.items():
        if wanted is None or name in wanted:
            scopes.setdefault(name, description)
    return scopes


class ResidentScopes(BaseScopes):
    def get_all_scopes(self):
        return defined_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        # Every client may ask for every defined scope. oauthlib only checks that the requested
        # scopes are a subset of this, so a token request looks up just those; with no request
        # (discovery) this is the full list.
        requested = getattr(request, "scopes", None) if application is not None else None
        if requested is not None:
            return list(defined_scopes(requested))
        return list(defined_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return [DEFAULT_SCOPE]
