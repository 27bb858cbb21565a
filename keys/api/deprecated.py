"""The reference's deprecated ``…/keys/{keyType}`` operations: thin aliases of the views in
``keys.api.views`` that name a key by its type instead of its id."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema

from keys import selectors
from keys.api.serializers import (
    GenerateTokenInputSerializer,
    KeyListOutputSerializer,
    KeyOutputSerializer,
    KeyUpdateInputSerializer,
    RegenerateSecretOutputSerializer,
    TokenOutputSerializer,
    error_responses,
)
from keys.api.views import CleanUpApi, GenerateTokenApi, KeyDetailApi, KeyListApi, RegenerateSecretApi
from keys.api.vocabulary import DEFAULT_KEY_MANAGER, KEY_MANAGER_ALIASES
from keys.models import KeyType
from portal.applications.selectors import application_get


def _key_by_type(request, application_id, key_type: str):
    """The deprecated ``…/keys/{keyType}`` operations name a key by its type: the application's key of
    that type at the default key manager, as the reference resolves it."""
    application = application_get(user=request.user, application_id=application_id)
    key_type = key_type.upper()
    key = None
    if key_type in KeyType.values:
        key = (
            selectors.keys_for_application(application=application, key_type=key_type)
            .filter(key_manager__name=KEY_MANAGER_ALIASES[DEFAULT_KEY_MANAGER])
            .first()
        )
    if key is None:
        raise Http404(f"The application has no {key_type} keys at {DEFAULT_KEY_MANAGER}.")
    return key


def _deprecated(operation_id: str, **schema):
    """The OpenAPI of an alias: its own operation id, marked deprecated, among the keys."""
    return extend_schema(operation_id=operation_id, deprecated=True, tags=["Keys"], **schema)


class DeprecatedKeyListApi(KeyListApi):
    @_deprecated("listKeysDeprecated", responses={200: KeyListOutputSerializer, **error_responses(401, 404)})
    def get(self, request, application_id):
        return super().get(request, application_id)


# The aliases below take the key's type where their views take its id (``key``), positionally,
# because the URL names the argument ``key_type``.
class DeprecatedKeyDetailApi(KeyDetailApi):
    key = staticmethod(_key_by_type)
    http_method_names = ["get", "put", "options"]

    @_deprecated("getKeyByTypeDeprecated", responses={200: KeyOutputSerializer, **error_responses(401, 404)})
    def get(self, request, application_id, key_type):
        return super().get(request, application_id, key_type)

    @_deprecated(
        "updateKeyByTypeDeprecated",
        request=KeyUpdateInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def put(self, request, application_id, key_type):
        return super().put(request, application_id, key_type)


class DeprecatedRegenerateSecretApi(RegenerateSecretApi):
    key = staticmethod(_key_by_type)

    @_deprecated(
        "regenerateSecretByTypeDeprecated",
        request=None,
        responses={200: RegenerateSecretOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)


class DeprecatedCleanUpApi(CleanUpApi):
    key = staticmethod(_key_by_type)

    @_deprecated(
        "cleanUpByTypeDeprecated",
        request=None,
        responses={200: OpenApiResponse(description="Cleaned up."), **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)


class DeprecatedGenerateTokenApi(GenerateTokenApi):
    key = staticmethod(_key_by_type)

    @_deprecated(
        "generateTokenByTypeDeprecated",
        request=GenerateTokenInputSerializer,
        responses={200: TokenOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)
