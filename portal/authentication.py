"""Personal API tokens (``Authorization: Bearer dpt_…``) for the REST API.

The token's first characters (``ApiToken.prefix``) find the row in one indexed lookup; the full
value is checked against a keyed hash in constant time. Bearer tokens without our prefix are left
to other authentication classes (OAuth access tokens for resource servers).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from portal import crypto
from portal.models import ApiToken

TOKEN_PREFIX = "dpt_"
#: How many leading characters of a token are stored in clear as its lookup prefix.
LOOKUP_PREFIX_LENGTH = 12
#: ``last_used_at`` is refreshed at most this often: one write per token per minute, not per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) < 2 or parts[0].lower() != self.keyword.lower().encode():
            return None
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            return None
        if not token.startswith(TOKEN_PREFIX):
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid Authorization header: the token must not contain spaces.")
        return self.authenticate_token(token)

    def authenticate_token(self, token: str):
        api_token = (
            ApiToken.objects.select_related("user").filter(prefix=token[:LOOKUP_PREFIX_LENGTH]).first()
            if len(token) > LOOKUP_PREFIX_LENGTH
            else None
        )
        if api_token is None or not crypto.hash_matches(token, api_token.token_hash):
            raise AuthenticationFailed("Invalid API token.")
        if api_token.is_expired:
            raise AuthenticationFailed("This API token has expired. Create a new one on the API tokens page.")
        if not api_token.user.is_active:
            raise AuthenticationFailed("The user of this API token is inactive.")
        self._touch(api_token)
        return api_token.user, api_token

    @staticmethod
    def _touch(api_token: ApiToken) -> None:
        now = timezone.now()
        if api_token.last_used_at and now - api_token.last_used_at < LAST_USED_RESOLUTION:
            return
        # Conditional update: concurrent requests with the same token write at most once.
        ApiToken.objects.filter(pk=api_token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_token.last_used_at = now

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the personal API token in the OpenAPI document (and Swagger UI's Authorize box)."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`dpt_…`) created on the portal's API tokens page.",
        }
