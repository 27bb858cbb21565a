"""Which scopes open which REST API operation: the reference's ``security`` entries, in one table.

The keys are the reference's path templates (``devportal-api.yaml``, relative to the base path)
and methods; ``permissions.OperationScope`` turns a request's Django route into that template, so
an alias added under the reference's own path is covered by the entry the reference gives it. As
in the reference, a token needs **one** of an operation's scopes. A ``dpt_…`` personal token or a
session is not limited by scopes (it carries all its user's rights).

The reference's document is not shipped with the portal; ``tests/apiclients`` checks this table
against it.
"""

from __future__ import annotations

SUBSCRIBE = "apim:subscribe"
APP_MANAGE = "apim:app_manage"
APP_IMPORT_EXPORT = "apim:app_import_export"

#: The scopes an API client may ask for: those of the reference's ``OAuth2Security`` scheme, except
#: ``openid`` (no ID token for the API) and ``apim:admin`` (our admins use the admin site). Asking
#: for one no operation here needs (``apim:sub_manage``, …) gives a token that carries it, as a
#: script written for the reference expects; it opens nothing more.
API_SCOPES = {
    SUBSCRIBE: "Subscribe API",
    "apim:api_key": "Generate API Keys",
    APP_MANAGE: "Retrieve, Manage and Import, Export applications",
    "apim:sub_manage": "Retrieve, Manage subscriptions",
    "apim:store_settings": "Retrieve Developer Portal settings",
    "apim:sub_alert_manage": "Retrieve, subscribe and configure Developer Portal alert types",
    APP_IMPORT_EXPORT: "Import and export applications related operations",
}

_APP = (SUBSCRIBE, APP_MANAGE)
_APP_OR_EXPORT = (SUBSCRIBE, APP_MANAGE, APP_IMPORT_EXPORT)

#: ``(path template, method) -> scopes, any one of which opens the operation``.
OPERATION_SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("/applications", "GET"): _APP_OR_EXPORT,
    ("/applications", "POST"): _APP,
    ("/applications/{applicationId}", "GET"): _APP,
    ("/applications/{applicationId}", "PUT"): _APP,
    ("/applications/{applicationId}", "DELETE"): _APP_OR_EXPORT,
    ("/applications/{applicationId}/generate-keys", "POST"): _APP,
    ("/applications/{applicationId}/map-keys", "POST"): _APP,
    ("/applications/{applicationId}/keys", "GET"): _APP,
    ("/applications/{applicationId}/keys/{keyType}", "GET"): _APP,
    ("/applications/{applicationId}/keys/{keyType}", "PUT"): _APP,
    ("/applications/{applicationId}/keys/{keyType}/regenerate-secret", "POST"): _APP,
    ("/applications/{applicationId}/keys/{keyType}/clean-up", "POST"): _APP,
    ("/applications/{applicationId}/keys/{keyType}/generate-token", "POST"): _APP,
    ("/applications/{applicationId}/oauth-keys", "GET"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}", "GET"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}", "PUT"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}", "DELETE"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/regenerate-secret", "POST"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/clean-up", "POST"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token", "POST"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-secret", "POST"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/secrets", "GET"): _APP,
    ("/applications/{applicationId}/oauth-keys/{keyMappingId}/revoke-secret", "POST"): _APP,
    ("/key-managers", "GET"): (SUBSCRIBE,),
    ("/settings/application-attributes", "GET"): (SUBSCRIBE,),
}

#: Our operations the reference does not have, and what opens them. ``()``: any API token (the
#: API's own description, which says nothing about the caller).
OUR_OPERATION_SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    # The scopes keys may ask for: read by the same scripts that generate keys.
    ("/scopes", "GET"): _APP,
    ("/openapi.json", "GET"): (),
    ("/docs/", "GET"): (),
}


def camel_case(name: str) -> str:
    """Our URL keyword (``key_mapping_id``) as the reference names its path parameter (``keyMappingId``)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def required_scopes(template: str, method: str) -> tuple[str, ...] | None:
    """The scopes (any one) that open an operation; None when the operation is not in the tables."""
    key = (template, method.upper())
    if method.upper() == "HEAD":
        key = (template, "GET")
    return OPERATION_SCOPES.get(key, OUR_OPERATION_SCOPES.get(key))
