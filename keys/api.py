"""REST API for keys, tokens, key managers and scopes (Devportal REST API v3 names).

One view per URL, input and output serializers beside each; the writes go through
``keys.services`` exactly as the pages do. Errors: 400 bad input (field by field), 404 someone
else's or unknown application/key, 409 keys already exist, 502 a key manager failed (the message
names the key manager and the step).

Conventions of this API: seconds everywhere, a negative validity means never expires (a token
that never expires reports ``validityTime: -1``). ``additionalProperties.expiresIn`` (the first
secret's lifetime in multiple-secret mode) follows ``generate-secret``'s rule: absent 90 days,
negative never, 0 refused, at most 3650 days. ``consumerSecret`` appears only in the response that
made it, which no cache may store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import TokenResult, adapter_for
from keymanagers.models import GrantType
from keys import selectors, services, tokens
from keys.config import EXPIRY_FIELDS
from keys.forms import DEFAULT_GRANT_TYPES
from keys.models import KeyType
from keys.secrets.rules import SecretError, secret_expiry_from_seconds
from keys.secrets.selectors import LAST_USED_HELP, last_uses_of
from portal.api_errors import documented_errors
from portal.applications.selectors import application_get

# Service field name → the API's name for it, so a 400 names what the caller sent.
API_FIELD_NAMES = {
    "key_type": "keyType",
    "grant_types": "grantTypesToBeSupported",
    "callback_url": "callbackUrl",
    "scopes": "scopes",
    "validity_time": "validityTime",
    "validity_period": "validityPeriod",
    "consumer_key": "consumerKey",
    "consumer_secret": "consumerSecret",
    "grant_type": "grantType",
    "secret_description": "additionalProperties.description",
    "secret_expires_at": "additionalProperties.expiresIn",
    "pkce_mandatory": "additionalProperties.pkceMandatory",
    "pkce_support_plain": "additionalProperties.pkceSupportPlainText",
    "bypass_client_credentials": "additionalProperties.bypassClientCredentials",
    **{name: f"additionalProperties.{name}" for name in EXPIRY_FIELDS},
}
# additionalProperties keys → Key Configurations fields.
FLAG_PROPERTIES = {
    "pkceMandatory": "pkce_mandatory",
    "pkceSupportPlainText": "pkce_support_plain",
    "bypassClientCredentials": "bypass_client_credentials",
}
SECRET_PROPERTIES = ("description", "expiresIn")


ERROR_DESCRIPTIONS = {
    400: "Bad request: invalid input (the body names the fields), or the key manager does not allow it.",
    401: "Not authenticated: send a session cookie or `Authorization: Bearer dpt_…`.",
    403: "Forbidden (for session authentication, a missing or wrong CSRF token).",
    404: "No such application or key (or it belongs to someone else).",
    409: "Conflict: keys already exist for this application, environment and key manager, "
    "or the OAuth client is already used by an application.",
    502: "A key manager failed; the description names it and the step.",
}


def error_responses(*codes: int) -> dict:
    return documented_errors(ERROR_DESCRIPTIONS, *codes)


def _api_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    if not hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.messages)
    detail: dict[str, list[str]] = {}
    for name, messages in exc.message_dict.items():
        if name.startswith("additional_properties."):
            api_name = "additionalProperties." + name.split(".", 1)[1]
        else:
            api_name = API_FIELD_NAMES.get(name, name)
        detail.setdefault(api_name, []).extend(messages)
    return serializers.ValidationError(detail)


def _call(fn, **kwargs):
    """Run a service, naming the fields of its ``ValidationError`` as this API does (the portal's
    other refusals reach ``portal.api_errors.exception_handler`` as they are)."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise _api_errors(exc) from exc


def _key_for(request, application_id, key_mapping_id):
    return selectors.key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)


def _config_from_body(data: dict, available: list[str]) -> dict[str, Any]:
    """The API body's Key Configurations in the services' snake_case."""
    props = dict(data.get("additionalProperties") or {})
    grant_types = data.get("grantTypesToBeSupported")
    if grant_types is None:
        grant_types = [g for g in DEFAULT_GRANT_TYPES if g in available]
    config: dict[str, Any] = {"grant_types": grant_types, "callback_url": data.get("callbackUrl") or ""}
    for name in EXPIRY_FIELDS:
        if name in props:
            config[name] = props.pop(name)
    for api_name, name in FLAG_PROPERTIES.items():
        if api_name in props:
            config[name] = props.pop(api_name)
    for name in SECRET_PROPERTIES:
        props.pop(name, None)
    config["additional_properties"] = props
    return config


def _secret_expiry(props: dict):
    """``expiresIn`` seconds → the first secret's expiry time (None = never), by the same rule as
    ``generate-secret``."""
    try:
        return secret_expiry_from_seconds(props.get("expiresIn"))
    except SecretError as exc:
        raise serializers.ValidationError({"additionalProperties.expiresIn": [exc.description]}) from None


class NoStoreMixin:
    """For views whose responses may carry a secret or a token: no cache may keep them
    (``Cache-Control: no-store``, as RFC 6749 asks of token responses)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _description(props: dict) -> str:
    value = props.get("description") or ""
    if not isinstance(value, str):
        raise serializers.ValidationError(
            {"additionalProperties.description": ["Give the description as text."]}
        )
    return value


# -- serializers ---------------------------------------------------------------------------------


class TokenOutputSerializer(serializers.Serializer):
    accessToken = serializers.CharField(source="access_token")
    tokenScopes = serializers.ListField(source="scopes", child=serializers.CharField())
    validityTime = serializers.SerializerMethodField(help_text="Seconds; -1 when the token never expires.")

    def get_validityTime(self, token: TokenResult) -> int:  # noqa: N802 - the API's field name
        return -1 if token.expires_in is None else token.expires_in


class KeyOutputSerializer(serializers.Serializer):
    keyMappingId = serializers.UUIDField(source="id")
    keyManager = serializers.CharField(source="key_manager.name")
    consumerKey = serializers.CharField(source="consumer_key")
    consumerSecret = serializers.SerializerMethodField(help_text="Only in the response that made the secret.")
    supportedGrantTypes = serializers.ListField(source="supported_grant_types", child=serializers.CharField())
    callbackUrl = serializers.SerializerMethodField()
    keyState = serializers.CharField(source="key_state")
    keyType = serializers.CharField(source="key_type")
    mode = serializers.CharField()
    groupId = serializers.SerializerMethodField()
    token = serializers.SerializerMethodField()
    additionalProperties = serializers.SerializerMethodField()
    lastUsedTime = serializers.SerializerMethodField(help_text=LAST_USED_HELP.replace("secret", "key"))

    def get_consumerSecret(self, key) -> str | None:  # noqa: N802
        return self.context.get("consumer_secret") or None

    def get_callbackUrl(self, key) -> str | None:  # noqa: N802
        return key.callback_url or None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Always null: no group sharing."))
    def get_groupId(self, key) -> None:  # noqa: N802
        return None

    def get_lastUsedTime(self, key) -> datetime | None:  # noqa: N802
        return (self.context.get("last_use") or last_uses_of([key]))[key.pk].key

    def get_token(self, key) -> dict | None:
        token = self.context.get("token")
        return TokenOutputSerializer(token).data if token else None

    def get_additionalProperties(self, key) -> dict:  # noqa: N802
        return {
            **(key.additional_properties or {}),
            **{name: getattr(key, name) for name in EXPIRY_FIELDS},
            "pkceMandatory": key.pkce_mandatory,
            "pkceSupportPlainText": key.pkce_support_plain,
            "bypassClientCredentials": key.bypass_client_credentials,
        }


class KeyListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = KeyOutputSerializer(many=True)


class KeyConfigInputSerializer(serializers.Serializer):
    grantTypesToBeSupported = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Defaults to client_credentials and refresh_token.",
    )
    callbackUrl = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=True
    )
    additionalProperties = serializers.DictField(
        required=False,
        help_text="application_access_token_expiry_time, user_access_token_expiry_time, refresh_token_expiry_time, "
        "id_token_expiry_time (seconds, negative = never), pkceMandatory, pkceSupportPlainText, "
        "bypassClientCredentials; for generate-keys also the first secret's description and expiresIn (seconds).",
    )


class KeyUpdateInputSerializer(KeyConfigInputSerializer):
    # The reference's PUT body is an ApplicationKey, whose grant list is ``supportedGrantTypes``.
    supportedGrantTypes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Same as grantTypesToBeSupported."
    )


class GenerateKeysInputSerializer(KeyConfigInputSerializer):
    keyType = serializers.ChoiceField(choices=KeyType.values)
    keyManager = serializers.CharField(required=False, default="Resident")
    scopes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    validityTime = serializers.IntegerField(required=False, allow_null=True)


class MapKeysInputSerializer(serializers.Serializer):
    consumerKey = serializers.CharField(max_length=255)
    consumerSecret = serializers.CharField(max_length=2048)
    keyManager = serializers.CharField(required=False, default="Resident")
    keyType = serializers.ChoiceField(choices=KeyType.values)


class RegenerateSecretOutputSerializer(serializers.Serializer):
    consumerKey = serializers.CharField()
    consumerSecret = serializers.CharField()


@extend_schema_field({"oneOf": [{"type": "boolean"}, {"type": "string"}]})
class RevokeTokenField(serializers.Field):
    """``revokeToken``: a token to revoke first, or true to revoke every earlier token."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and len(data) <= 8192):
            return data
        raise serializers.ValidationError("Give a token to revoke, or true to revoke earlier tokens.")

    def to_representation(self, value):
        return value


class GenerateTokenInputSerializer(serializers.Serializer):
    consumerSecret = serializers.CharField(required=False, allow_blank=True, default="", max_length=2048)
    validityPeriod = serializers.IntegerField(required=False, allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    revokeToken = RevokeTokenField(required=False, default=False)
    grantType = serializers.CharField(required=False, default=GrantType.CLIENT_CREDENTIALS)


def _enabled_key_manager(name: str):
    km = selectors.key_manager_get_enabled(name=name)
    if km is None:
        raise serializers.ValidationError(
            {"keyManager": [f"There is no enabled key manager named “{name}”."]}
        )
    return km


# -- views ---------------------------------------------------------------------------------------


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
        key_manager = _enabled_key_manager(data["keyManager"])
        adapter = adapter_for(key_manager)
        props = data.get("additionalProperties") or {}
        multiple = key_manager.multiple_secrets_enabled
        generated = _call(
            services.keys_generate,
            application=application,
            key_type=data["keyType"],
            key_manager=key_manager,
            config=_config_from_body(data, adapter.default_grant_types()),
            actor=request.user,
            secret_description=_description(props) if multiple else "",
            secret_expires_at=_secret_expiry(props) if multiple else None,
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
            key_manager=_enabled_key_manager(data["keyManager"]),
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
    @extend_schema(
        operation_id="getOAuthKey",
        responses={200: KeyOutputSerializer, **error_responses(401, 404)},
        tags=["Keys"],
    )
    def get(self, request, application_id, key_mapping_id):
        return Response(KeyOutputSerializer(_key_for(request, application_id, key_mapping_id)).data)

    @extend_schema(
        operation_id="updateOAuthKey",
        request=KeyUpdateInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def put(self, request, application_id, key_mapping_id):
        key = _key_for(request, application_id, key_mapping_id)
        body = KeyUpdateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        available = adapter_for(key.key_manager).available_grant_types()
        data = dict(body.validated_data)
        supported = data.pop("supportedGrantTypes", None)
        if "grantTypesToBeSupported" not in data and supported is not None:
            data["grantTypesToBeSupported"] = supported
        if "grantTypesToBeSupported" not in data:
            # PUT replaces the configuration, but a missing grant-type list keeps the current one.
            data["grantTypesToBeSupported"] = list(key.supported_grant_types or [])
        updated = _call(
            services.keys_update, key=key, config=_config_from_body(data, available), actor=request.user
        )
        body = KeyOutputSerializer(updated.key).data
        if updated.consumer_secret:
            # The key manager rotated the secret with the update: this response is the only copy.
            body["consumerSecret"] = updated.consumer_secret
        return Response(body)

    @extend_schema(
        operation_id="deleteOAuthKey", responses={204: None, **error_responses(401, 404, 502)}, tags=["Keys"]
    )
    def delete(self, request, application_id, key_mapping_id):
        key = _key_for(request, application_id, key_mapping_id)
        _call(services.keys_delete, key=key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegenerateSecretApi(NoStoreMixin, APIView):
    @extend_schema(
        operation_id="regenerateConsumerSecret",
        request=None,
        responses={200: RegenerateSecretOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = _key_for(request, application_id, key_mapping_id)
        value = _call(services.secret_regenerate, key=key, actor=request.user)
        return Response({"consumerKey": key.consumer_key, "consumerSecret": value})


class CleanUpApi(APIView):
    @extend_schema(
        operation_id="cleanUpOAuthKey",
        request=None,
        responses={204: None, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = _key_for(request, application_id, key_mapping_id)
        _call(services.keys_clean_up, key=key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GenerateTokenApi(NoStoreMixin, APIView):
    @extend_schema(
        operation_id="generateToken",
        request=GenerateTokenInputSerializer,
        responses={200: TokenOutputSerializer, **error_responses(400, 401, 404, 502)},
        tags=["Keys"],
    )
    def post(self, request, application_id, key_mapping_id):
        key = _key_for(request, application_id, key_mapping_id)
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
