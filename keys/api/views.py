"""The keys REST views: one per operation, writing through ``keys.services`` as the pages do.

Errors: 400 bad input (field by field), 404 someone else's or unknown application/key, 409 keys
already exist, 502 a key manager failed (the message names the key manager and the step; a key
manager's ``invalid_scope`` is the request's: 400). Deletes and clean-up answer 200.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import adapter_for
from keys import selectors, services, tokens
from keys.api.serializers import (
    GenerateKeysInputSerializer,
    GenerateTokenInputSerializer,
    KeyListOutputSerializer,
    KeyOutputSerializer,
    KeyUpdateInputSerializer,
    MapKeysInputSerializer,
    RegenerateSecretOutputSerializer,
    TokenOutputSerializer,
    error_responses,
)
from keys.api.vocabulary import (
    check_properties,
    config_from_body,
    enabled_key_manager,
    first_secret_description,
    first_secret_expiry,
    in_api_names,
)
from keys.secrets.selectors import last_uses_of
from portal.api_formats import NoStoreMixin
from portal.applications.selectors import application_get


def _call(fn, **kwargs):
    """Run a service, naming the fields of its ``ValidationError`` as this API does (the portal's
    other refusals, a key manager's ``InvalidScope`` 400 included, reach
    ``portal.api_errors.exception_handler`` as they are)."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise in_api_names(exc) from exc


def _key_for(request, application_id, key_mapping_id):
    return selectors.key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)


class GenerateKeysApi(NoStoreMixin, APIView):
    @extend_schema(
        operation_id="generateKeys",
        request=GenerateKeysInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 409, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id):
        application = application_get(user=request.user, application_id=application_id)
        body = GenerateKeysInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        key_manager = enabled_key_manager(data["keyManager"])
        adapter = adapter_for(key_manager)
        props = check_properties(
            data.get("additionalProperties") or {}, key_manager, adapter, first_secret=True
        )
        multiple = key_manager.multiple_secrets_enabled
        generated = _call(
            services.keys_generate,
            application=application,
            key_type=data["keyType"],
            key_manager=key_manager,
            config=config_from_body(data, adapter.default_grant_types(), props),
            actor=request.user,
            secret_description=first_secret_description(props) if multiple else "",
            secret_expires_at=first_secret_expiry(props) if multiple else None,
            scopes=data["scopes"],
            validity_time=data.get("validityTime"),
        )
        out = KeyOutputSerializer(
            generated.key, context={"consumer_secret": generated.consumer_secret, "token": generated.token}
        )
        return Response(out.data)


class MapKeysApi(APIView):
    @extend_schema(
        operation_id="mapKeys",
        request=MapKeysInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 409, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id):
        application = application_get(user=request.user, application_id=application_id)
        body = MapKeysInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        key = _call(
            services.keys_map,
            application=application,
            key_type=data["keyType"],
            key_manager=enabled_key_manager(data["keyManager"]),
            consumer_key=data["consumerKey"],
            consumer_secret=data["consumerSecret"],
            actor=request.user,
        )
        return Response(KeyOutputSerializer(key).data)


class KeyListApi(APIView):
    @extend_schema(
        operation_id="listOAuthKeys",
        responses={200: KeyListOutputSerializer, **error_responses(401, 404)},
        tags=["Keys"],
    )
    def get(self, request, application_id):
        application = application_get(user=request.user, application_id=application_id)
        keys = list(selectors.keys_for_application(application=application))
        listed = KeyOutputSerializer(keys, many=True, context={"last_use": last_uses_of(keys)}).data
        return Response({"count": len(keys), "list": listed})


class KeyDetailApi(NoStoreMixin, APIView):
    def key(self, request, application_id, key_ref):
        return _key_for(request, application_id, key_ref)

    @extend_schema(
        operation_id="getOAuthKey",
        responses={200: KeyOutputSerializer, **error_responses(401, 404)},
        tags=["Keys"],
    )
    def get(self, request, application_id, key_mapping_id):
        return Response(KeyOutputSerializer(self.key(request, application_id, key_mapping_id)).data)

    @extend_schema(
        operation_id="updateOAuthKey",
        request=KeyUpdateInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def put(self, request, application_id, key_mapping_id):
        key = self.key(request, application_id, key_mapping_id)
        body = KeyUpdateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        adapter = adapter_for(key.key_manager)
        available = adapter.available_grant_types()
        data = dict(body.validated_data)
        props = check_properties(
            data.get("additionalProperties") or {}, key.key_manager, adapter, first_secret=False
        )
        supported = data.pop("supportedGrantTypes", None)
        if "grantTypesToBeSupported" not in data and supported is not None:
            data["grantTypesToBeSupported"] = supported
        if "grantTypesToBeSupported" not in data:
            # PUT replaces the configuration, but a missing grant-type list keeps the current one.
            data["grantTypesToBeSupported"] = list(key.supported_grant_types or [])
        updated = _call(
            services.keys_update,
            key=key,
            config=config_from_body(data, available, props),
            actor=request.user,
        )
        body = KeyOutputSerializer(updated.key).data
        if updated.consumer_secret:
            # The key manager rotated the secret with the update: this response is the only copy.
            body["consumerSecret"] = updated.consumer_secret
        return Response(body)

    @extend_schema(
        operation_id="deleteOAuthKey",
        responses={
            200: OpenApiResponse(description="Removed (empty body)."),
            **error_responses(401, 404, 502),
        },
        tags=["Keys"],
    )
    def delete(self, request, application_id, key_mapping_id):
        key = self.key(request, application_id, key_mapping_id)
        _call(services.keys_delete, key=key, actor=request.user)
        return Response(status=status.HTTP_200_OK)


class RegenerateSecretApi(NoStoreMixin, APIView):
    key = KeyDetailApi.key

    @extend_schema(
        operation_id="regenerateConsumerSecret",
        request=None,
        responses={200: RegenerateSecretOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = self.key(request, application_id, key_mapping_id)
        value = _call(services.secret_regenerate, key=key, actor=request.user)
        return Response({"consumerKey": key.consumer_key, "consumerSecret": value})


class CleanUpApi(APIView):
    key = KeyDetailApi.key

    @extend_schema(
        operation_id="cleanUpOAuthKey",
        request=None,
        responses={
            200: OpenApiResponse(description="Cleaned up (empty body)."),
            **error_responses(400, 401, 404, 502),
        },
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = self.key(request, application_id, key_mapping_id)
        _call(services.keys_clean_up, key=key, actor=request.user)
        return Response(status=status.HTTP_200_OK)


class GenerateTokenApi(NoStoreMixin, APIView):
    key = KeyDetailApi.key

    @extend_schema(
        operation_id="generateToken",
        request=GenerateTokenInputSerializer,
        responses={200: TokenOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = self.key(request, application_id, key_mapping_id)
        body = GenerateTokenInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = _call(
            tokens.token_generate,
            key=key,
            consumer_secret=data["consumerSecret"],
            scopes=data["scopes"],
            validity_period=data.get("validityPeriod"),
            revoke_previous=data["revokeToken"],
            grant_type=data["grantType"],
            actor=request.user,
        )
        return Response(TokenOutputSerializer(result).data)
