"""DRF authentication by resident access tokens, for APIs that act as resource servers.

``request.user`` is the user the token was issued for, or ``AnonymousUser`` for a
client_credentials token; ``request.auth`` is the ``bearer.VerifiedToken`` (client id, scopes,
expiry). Portal API tokens (``dpt_…``) are left to the portal's own authentication class.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from keymanagers.resident import bearer

PORTAL_TOKEN_PREFIX = "dpt_"


class ResidentBearerAuthentication(BaseAuthentication):
    www_authenticate_realm = "resident"

    def authenticate(self, request):
        token = bearer.token_from_header(request.headers.get("Authorization", ""))
        if token is None or token.startswith(PORTAL_TOKEN_PREFIX):
            return None
        try:
            verified = bearer.verify(token)
        except bearer.BearerError as error:
            raise exceptions.AuthenticationFailed(error.description) from None
        return (verified.user or AnonymousUser(), verified)

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'
