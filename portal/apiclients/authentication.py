"""OAuth access tokens of registered REST API clients (``Authorization: Bearer …``) at the REST API.

Only tokens of clients registered at ``/client-registration/v0.17/register`` are accepted: they act
as the client's owner, limited by their scopes (``permissions.OperationScope``). A token the
resident server issued to an application's key is for that application's own APIs, not for
managing the portal, and gets 401. ``dpt_…`` personal tokens are ``ApiTokenAuthentication``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

import keymanagers.resident.bearer as resident_bearer
from portal.apiclients.scopes import API_SCOPES, camel_case, required_scopes
from portal.authentication import TOKEN_PREFIX


@dataclass(frozen=True)
class ApiClientToken:
    """``request.auth`` for an API client's token: what the scope check needs."""

    client_id: str
    scopes: frozenset[str]


class ApiClientTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            return None
        if token.startswith(TOKEN_PREFIX):
            return None  # a personal API token
        # The resident server's own check (signature, expiry, revocation), as every resource does.
        try:
            verified = resident_bearer.verify(token)
        except resident_bearer.BearerError as error:
            if error.expired:
                raise AuthenticationFailed("The access token has expired.") from None
            raise AuthenticationFailed("Invalid access token: unknown or revoked.") from None
        client = verified.client
        if not client.api_client:
            raise AuthenticationFailed(
                "This access token belongs to an application's key. The REST API takes tokens of clients "
                "registered at /client-registration/v0.17/register, or a personal API token."
            )
        # Read now, not from the (cached) client: an owner made inactive loses access at once.
        owner = get_user_model().objects.filter(pk=client.user_id).first() if client.user_id else None
        if owner is None or not owner.is_active:
            raise AuthenticationFailed("The owner of this API client is inactive.")
        return owner, ApiClientToken(client_id=client.client_id, scopes=frozenset(verified.scopes))

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    """The reference's OAuth2 login, in the OpenAPI document."""

    target_class = ApiClientTokenAuthentication
    name = "OAuth2Security"

    def get_security_requirement(self, auto_schema):
        # The reference lists an operation's scopes in one requirement and means "any one of them";
        # in OpenAPI that is one requirement per scope (scopes within one requirement all apply).
        template = re.sub(
            r"\{(\w+)\}",
            lambda m: "{" + camel_case(m.group(1)) + "}",
            auto_schema.path.removeprefix(settings.SPECTACULAR_SETTINGS.get("SCHEMA_PATH_PREFIX", "")),
        )
        needed = required_scopes(template, auto_schema.method)
        if needed is None:
            return None  # not open to API client tokens
        return [{self.name: [scope]} for scope in needed] or {self.name: []}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Register a client with your username and password (HTTP Basic) at "
            "`POST /client-registration/v0.17/register`, then get a token with the client_credentials "
            "grant and the `apim:*` scopes the operations need.",
            "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token", "scopes": dict(API_SCOPES)}},
        }
