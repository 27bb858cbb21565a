"""Scopes of the resident server: the ``keys.Scope`` rows admins define, plus OpenID Connect's ``openid``.

``keymanagers`` must not import ``keys`` (keys depends on keymanagers), so the model is looked up
through the app registry. ``default`` is always allowed and is what a client gets when it asks for
nothing; a scope that is not defined makes oauthlib answer ``invalid_scope``.
"""

from __future__ import annotations

from django.apps import apps
from oauth2_provider.scopes import BaseScopes

DEFAULT_SCOPE = "default"
OPENID_SCOPE = "openid"


def defined_scopes() -> dict[str, str]:
    """Every scope name the server knows, with its description."""
    Scope = apps.get_model("keys", "Scope")
    scopes = {
        name: (description or display or name)
        for name, display, description in Scope.objects.values_list("name", "display_name", "description")
    }
    scopes.setdefault(DEFAULT_SCOPE, "Always allowed.")
    scopes.setdefault(OPENID_SCOPE, "Sign in with OpenID Connect.")
    return scopes


class ResidentScopes(BaseScopes):
    def get_all_scopes(self):
        return defined_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        # Every client may ask for every defined scope; with application=None (discovery) this is
        # the full list too.
        return list(defined_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return [DEFAULT_SCOPE]
