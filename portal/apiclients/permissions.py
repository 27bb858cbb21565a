"""The one place where a REST API client's token meets the scopes each operation needs."""

from __future__ import annotations

import re

from django.urls import reverse
from rest_framework.permissions import BasePermission

from portal.apiclients.authentication import ApiClientToken
from portal.apiclients.scopes import camel_case, required_scopes

_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def reference_template(route: str, api_prefix: str) -> str:
    """A Django route under the API's prefix as the reference's path template:
    ``api/am/devportal/v3/applications/<uuid:application_id>`` → ``/applications/{applicationId}``."""
    relative = route[len(api_prefix) :] if route.startswith(api_prefix) else route
    return "/" + _PARAMETER.sub(lambda m: "{" + camel_case(m.group(1)) + "}", relative)


def _api_prefix() -> str:
    return reverse("api_applications").lstrip("/").removesuffix("applications")


class OperationScope(BasePermission):
    """An API client's token needs one of the operation's scopes; other credentials pass.

    Operations missing from the tables are closed to API client tokens: a new endpoint is opened
    to them by adding its scopes, never by accident.
    """

    message = "The access token does not carry a scope this operation needs."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiClientToken):
            return True  # a personal API token or a session: all its user's rights
        if request.method == "OPTIONS":
            return True  # DRF's description of the endpoint, no data
        match = request.resolver_match
        template = reference_template(match.route if match else "", _api_prefix())
        needed = required_scopes(template, request.method)
        if needed is None:
            self.message = f"{request.method} {template} is not open to API client tokens."
            return False
        if needed and not token.scopes & set(needed):
            self.message = (
                f"The access token does not carry a scope this operation needs: one of {', '.join(needed)}."
            )
            return False
        return True
