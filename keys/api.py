"""REST API for keys, tokens, key managers and scopes (Devportal REST API v3 names).

One view per URL, input and output serializers beside each; the writes go through
``keys.services`` exactly as the pages do. Errors: 400 bad input (field by field), 404 someone
else's or unknown application/key, 409 keys already exist, 502 a key manager failed (the message
names the key manager and the step; a key manager's ``invalid_scope`` is the request's: 400).

The reference's vocabulary (devportal-api.yaml) is mapped here, not in the services: the built-in
key manager is "Resident Key Manager" of type ``default``; ``additionalProperties`` take the
reference's names (``pkceSupportPlain``, ``client_secret_description``,
``client_secret_expires_in``, ``"N/A"`` for a default expiry) and our earlier ones on input;
``grantType`` is ``CLIENT_CREDENTIALS``; deletes and clean-up answer 200; the deprecated
``…/keys/{keyType}`` operations are aliases. A field or property we do not take is a 400.

Conventions of this API: seconds everywhere, a negative validity means never expires (a token
that never expires reports ``validityTime: -1``). ``client_secret_expires_in`` (the first
secret's lifetime in multiple-secret mode) follows ``generate-secret``'s rule: absent 90 days,
negative never, 0 refused, at most 3650 days. ``consumerSecret`` appears only in the response that
made it, which no cache may store.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import EXPIRY_DEFAULTS, KeyManagerAdapter, TokenResult, adapter_for
from keymanagers.models import GrantType, KeyManager
from keys import selectors, services, tokens
from keys.config import EXPIRY_FIELDS
from keys.forms import DEFAULT_GRANT_TYPES
from keys.models import KeyType
from keys.secrets.api import ConsumerSecretOutputSerializer
from keys.secrets.rules import SecretError, secret_expiry_from_seconds
from keys.secrets.selectors import LAST_USED_HELP, last_uses_of
from portal.api_errors import ApiError, documented_errors
from portal.api_formats import NoStoreMixin, StrictSerializer, epoch_millis
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
    "secret_description": "additionalProperties.client_secret_description",
    "secret_expires_at": "additionalProperties.client_secret_expires_in",
    "pkce_mandatory": "additionalProperties.pkceMandatory",
    "pkce_support_plain": "additionalProperties.pkceSupportPlain",
    "bypass_client_credentials": "additionalProperties.bypassClientCredentials",
    **{name: f"additionalProperties.{name}" for name in EXPIRY_FIELDS},
}
# The reference's name of the built-in key manager, and its type, as the API shows them. The row
# keeps its slug ``Resident`` (the pages' URLs use it) and its type ``resident`` (the adapter
# registry's key): the vocabulary is mapped here, and the old name is accepted on input.
DEFAULT_KEY_MANAGER = "Resident Key Manager"
KEY_MANAGER_ALIASES = {DEFAULT_KEY_MANAGER: "Resident"}
API_KEY_MANAGER_TYPES = {KeyManager.Type.RESIDENT: "default"}

# additionalProperties keys → Key Configurations fields: the reference's names, then our earlier ones.
FLAG_PROPERTIES = {
    "pkceMandatory": "pkce_mandatory",
    "pkceSupportPlain": "pkce_support_plain",
    "bypassClientCredentials": "bypass_client_credentials",
}
FLAG_ALIASES = {"pkceSupportPlainText": "pkceSupportPlain"}
# The first secret's description and lifetime (multiple-secret mode): the reference's names first.
SECRET_DESCRIPTION = ("client_secret_description", "description")
SECRET_EXPIRES_IN = ("client_secret_expires_in", "expiresIn")
# The reference's value for "the key manager's default" in an expiry field.
NOT_APPLICABLE = "N/A"


def api_key_manager_name(km) -> str:
    """The name a key manager has in this API (the built-in one: the reference's name)."""
    for api_name, name in KEY_MANAGER_ALIASES.items():
        if km.name == name and km.type == KeyManager.Type.RESIDENT:
            return api_name
    return km.name


def api_key_manager_type(km) -> str:
    return API_KEY_MANAGER_TYPES.get(km.type, km.type)


def supported_properties(km, adapter: KeyManagerAdapter, *, first_secret: bool) -> list[str]:
    """The ``additionalProperties`` names this key manager takes (the reference's names)."""
    names = [*EXPIRY_FIELDS, *FLAG_PROPERTIES]
    names += [item["name"] for item in adapter.application_configuration() if item.get("name")]
    if first_secret and km.multiple_secrets_enabled:
        names += [SECRET_DESCRIPTION[0], SECRET_EXPIRES_IN[0]]
    return names


def _check_properties(props: dict, km, adapter: KeyManagerAdapter, *, first_secret: bool) -> dict:
    """``additionalProperties`` in the reference's names, refusing any name this key manager does not
    take (a 400 naming it and what is supported: nothing is silently ignored)."""
    if not isinstance(props, dict):
        raise serializers.ValidationError(
            {"additionalProperties": ["Give the additional properties as an object."]}
        )
    props = dict(props)
    for old, new in FLAG_ALIASES.items():
        if old in props:
            props.setdefault(new, props.pop(old))
    for names in (SECRET_DESCRIPTION, SECRET_EXPIRES_IN):
        if names[1] in props:
            props.setdefault(names[0], props.pop(names[1]))
    supported = supported_properties(km, adapter, first_secret=first_secret)
    unknown = sorted(set(props) - set(supported))
    if unknown:
        if first_secret and not km.multiple_secrets_enabled:
            hint = " (the first secret's description and lifetime need multiple consumer secrets)"
        else:
            hint = ""
        raise ApiError(
            400,
            "Invalid application additional properties",
            f"Unknown additionalProperties: {', '.join(unknown)}. {api_key_manager_name(km)} takes: "
            f"{', '.join(supported)}{hint}.",
            errors=[
                {"code": "unknown", "message": f"additionalProperties.{name}: Unknown property."}
                for name in unknown
            ],
            reference_code=INVALID_ADDITIONAL_PROPERTIES,
        )
    for name in EXPIRY_FIELDS:
        if props.get(name) == NOT_APPLICABLE:
            props[name] = EXPIRY_DEFAULTS[name]
    return props


# The reference's error code for invalid additionalProperties (INVALID_APPLICATION_ADDITIONAL_PROPERTIES).
INVALID_ADDITIONAL_PROPERTIES = 900970


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
    other refusals, a key manager's ``InvalidScope`` 400 included, reach
    ``portal.api_errors.exception_handler`` as they are)."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise _api_errors(exc) from exc


def _key_for(request, application_id, key_mapping_id):
    return selectors.key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)


def _config_from_body(data: dict, available: list[str], props: dict) -> dict[str, Any]:
    """The API body's Key Configurations in the services' snake_case (``props``: the checked
    ``additionalProperties``)."""
    props = dict(props)
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
    for name in (SECRET_DESCRIPTION[0], SECRET_EXPIRES_IN[0]):
        props.pop(name, None)
    config["additional_properties"] = props
    return config


def _secret_expiry(props: dict):
    """``expiresIn`` seconds → the first secret's expiry time (None = never), by the same rule as
    ``generate-secret``."""
    try:
        return secret_expiry_from_seconds(props.get(SECRET_EXPIRES_IN[0]))
    except SecretError as exc:
        raise serializers.ValidationError(
            {f"additionalProperties.{SECRET_EXPIRES_IN[0]}": [exc.description]}
        ) from None


def _description(props: dict) -> str:
    value = props.get(SECRET_DESCRIPTION[0]) or ""
    if not isinstance(value, str):
        raise serializers.ValidationError(
            {f"additionalProperties.{SECRET_DESCRIPTION[0]}": ["Give the description as text."]}
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
    keyManager = serializers.SerializerMethodField()
    consumerKey = serializers.CharField(source="consumer_key")
    consumerSecret = serializers.SerializerMethodField(help_text="Only in the response that made the secret.")
    consumerSecrets = serializers.SerializerMethodField(
        help_text="In multiple-secret mode: the key's secrets, values masked."
    )
    supportedGrantTypes = serializers.ListField(source="supported_grant_types", child=serializers.CharField())
    callbackUrl = serializers.SerializerMethodField()
    keyState = serializers.CharField(source="key_state")
    keyType = serializers.CharField(source="key_type")
    mode = serializers.CharField()
    groupId = serializers.SerializerMethodField()
    token = serializers.SerializerMethodField()
    additionalProperties = serializers.SerializerMethodField()
    lastUsedTime = serializers.SerializerMethodField(help_text=LAST_USED_HELP.replace("secret", "key"))

    def get_keyManager(self, key) -> str:  # noqa: N802
        return api_key_manager_name(key.key_manager)

    def get_consumerSecret(self, key) -> str | None:  # noqa: N802
        return self.context.get("consumer_secret") or None

    @extend_schema_field(ConsumerSecretOutputSerializer(many=True, allow_null=True))
    def get_consumerSecrets(self, key) -> list | None:  # noqa: N802
        if not key.key_manager.multiple_secrets_enabled:
            return None
        return ConsumerSecretOutputSerializer(key.secrets.all(), many=True).data

    def get_callbackUrl(self, key) -> str | None:  # noqa: N802
        return key.callback_url or None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Always null: no group sharing."))
    def get_groupId(self, key) -> None:  # noqa: N802
        return None

    def get_lastUsedTime(self, key) -> str | None:  # noqa: N802
        # Epoch milliseconds in a string, like every other time in the reference's answers.
        return epoch_millis((self.context.get("last_use") or last_uses_of([key]))[key.pk].key)

    def get_token(self, key) -> dict | None:
        token = self.context.get("token")
        return TokenOutputSerializer(token).data if token else None

    def get_additionalProperties(self, key) -> dict:  # noqa: N802
        return {
            **(key.additional_properties or {}),
            **{name: getattr(key, name) for name in EXPIRY_FIELDS},
            "pkceMandatory": key.pkce_mandatory,
            "pkceSupportPlain": key.pkce_support_plain,
            "bypassClientCredentials": key.bypass_client_credentials,
        }


class KeyListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = KeyOutputSerializer(many=True)


PROPERTIES_HELP = (
    "The reference's names: application_access_token_expiry_time, user_access_token_expiry_time, "
    'refresh_token_expiry_time, id_token_expiry_time (seconds, negative = never, "N/A" = the default), '
    "pkceMandatory, pkceSupportPlain, bypassClientCredentials, the key manager's own fields "
    "(GET /key-managers lists them); for generate-keys in multiple-secret mode also the first secret's "
    "client_secret_description and client_secret_expires_in (seconds). Earlier names accepted: "
    "pkceSupportPlainText, description, expiresIn. Any other name is a 400."
)


class KeyConfigInputSerializer(StrictSerializer):
    grantTypesToBeSupported = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Defaults to client_credentials and refresh_token.",
    )
    callbackUrl = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=True
    )
    additionalProperties = serializers.DictField(required=False, help_text=PROPERTIES_HELP)


# Fields of the reference's ApplicationKey that a PUT body carries back but that are not settings
# (read-only, or "ignored" as the reference documents for consumerKey/consumerSecret).
KEY_READ_ONLY_FIELDS = (
    "keyMappingId",
    "keyManager",
    "consumerKey",
    "consumerSecret",
    "consumerSecrets",
    "keyState",
    "keyType",
    "mode",
    "groupId",
    "token",
)


class KeyUpdateInputSerializer(KeyConfigInputSerializer):
    ignored_fields = KEY_READ_ONLY_FIELDS
    # The reference's PUT body is an ApplicationKey, whose grant list is ``supportedGrantTypes``.
    supportedGrantTypes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Same as grantTypesToBeSupported."
    )


class GenerateKeysInputSerializer(KeyConfigInputSerializer):
    # Read-only in the reference's ApplicationKeyGenerateRequest: a client may send them back.
    ignored_fields = ("clientId", "clientSecret")
    keyType = serializers.ChoiceField(choices=KeyType.values)
    keyManager = serializers.CharField(required=False, default=DEFAULT_KEY_MANAGER)
    scopes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    validityTime = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Seconds (a string of digits is accepted, as the reference types it).",
    )


class MapKeysInputSerializer(StrictSerializer):
    consumerKey = serializers.CharField(max_length=255)
    consumerSecret = serializers.CharField(
        max_length=2048,
        required=False,
        default="",
        help_text="Optional in the reference; every key manager here needs it to prove the client is yours, "
        "so leaving it out is a 400 that says so.",
    )
    keyManager = serializers.CharField(required=False, default=DEFAULT_KEY_MANAGER)
    keyType = serializers.ChoiceField(choices=KeyType.values)


class RegenerateSecretOutputSerializer(serializers.Serializer):
    consumerKey = serializers.CharField()
    consumerSecret = serializers.CharField()


@extend_schema_field({"oneOf": [{"type": "boolean"}, {"type": "string"}]})
class RevokeTokenField(serializers.Field):
    """``revokeToken``: a token to revoke first, or true to revoke every earlier token."""

    def to_internal_value(self, data):
        if data == "":
            return False  # the reference's example value: nothing to revoke
        if isinstance(data, bool) or (isinstance(data, str) and len(data) <= 8192):
            return data
        raise serializers.ValidationError("Give a token to revoke, or true to revoke earlier tokens.")

    def to_representation(self, value):
        return value


# ``grantType``: the reference's enum values, and our earlier lower-case one.
TOKEN_GRANT_TYPES = {
    "CLIENT_CREDENTIALS": GrantType.CLIENT_CREDENTIALS,
    GrantType.CLIENT_CREDENTIALS: GrantType.CLIENT_CREDENTIALS,
}
UNSUPPORTED_TOKEN_GRANT_TYPES = {
    "TOKEN_EXCHANGE": "Token exchange is not supported: the portal generates Client Credentials tokens only.",
}


class GenerateTokenInputSerializer(StrictSerializer):
    consumerSecret = serializers.CharField(required=False, allow_blank=True, default="", max_length=2048)
    validityPeriod = serializers.IntegerField(required=False, allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    revokeToken = RevokeTokenField(required=False, default=False)
    grantType = serializers.CharField(
        required=False,
        default="CLIENT_CREDENTIALS",
        help_text="CLIENT_CREDENTIALS (client_credentials accepted).",
    )
    additionalProperties = serializers.DictField(
        required=False, default=dict, help_text="None are supported: any property is a 400."
    )

    def validate_grantType(self, value: str) -> str:  # noqa: N802
        if value in UNSUPPORTED_TOKEN_GRANT_TYPES:
            raise serializers.ValidationError(UNSUPPORTED_TOKEN_GRANT_TYPES[value])
        if value not in TOKEN_GRANT_TYPES:
            raise serializers.ValidationError(
                "Only client_credentials tokens can be generated here: send CLIENT_CREDENTIALS."
            )
        return TOKEN_GRANT_TYPES[value]

    def validate_additionalProperties(self, value: dict) -> dict:  # noqa: N802
        if value:
            names = ", ".join(sorted(value))
            raise serializers.ValidationError(
                f"Unknown properties: {names}. No token properties are supported."
            )
        return value


def _enabled_key_manager(name: str):
    km = selectors.key_manager_get_enabled(name=KEY_MANAGER_ALIASES.get(name, name))
    if km is None:
        raise serializers.ValidationError(
            {"keyManager": [f"There is no enabled key manager named “{name}”."]}
        )
    return km


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
        props = _check_properties(
            data.get("additionalProperties") or {}, key_manager, adapter, first_secret=True
        )
        multiple = key_manager.multiple_secrets_enabled
        generated = _call(
            services.keys_generate,
            application=application,
            key_type=data["keyType"],
            key_manager=key_manager,
            config=_config_from_body(data, adapter.default_grant_types(), props),
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
        props = _check_properties(
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
            config=_config_from_body(data, available, props),
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


# -- deprecated ``…/keys/{keyType}`` operations: thin aliases of the ones above --------------------


def _by_type(request, application_id, key_ref):
    return _key_by_type(request, application_id, key_ref)


class DeprecatedKeyListApi(KeyListApi):
    @extend_schema(
        operation_id="listKeysDeprecated",
        deprecated=True,
        tags=["Keys"],
        responses={200: KeyListOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, application_id):
        return super().get(request, application_id)


class DeprecatedKeyDetailApi(KeyDetailApi):
    key = staticmethod(_by_type)
    http_method_names = ["get", "put", "options"]

    @extend_schema(
        operation_id="getKeyByTypeDeprecated",
        deprecated=True,
        tags=["Keys"],
        responses={200: KeyOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, application_id, key_type):
        return super().get(request, application_id, key_type)

    @extend_schema(
        operation_id="updateKeyByTypeDeprecated",
        deprecated=True,
        tags=["Keys"],
        request=KeyUpdateInputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def put(self, request, application_id, key_type):
        return super().put(request, application_id, key_type)


class DeprecatedRegenerateSecretApi(RegenerateSecretApi):
    key = staticmethod(_by_type)

    @extend_schema(
        operation_id="regenerateSecretByTypeDeprecated",
        deprecated=True,
        tags=["Keys"],
        request=None,
        responses={200: RegenerateSecretOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)


class DeprecatedCleanUpApi(CleanUpApi):
    key = staticmethod(_by_type)

    @extend_schema(
        operation_id="cleanUpByTypeDeprecated",
        deprecated=True,
        tags=["Keys"],
        request=None,
        responses={200: OpenApiResponse(description="Cleaned up."), **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)


class DeprecatedGenerateTokenApi(GenerateTokenApi):
    key = staticmethod(_by_type)

    @extend_schema(
        operation_id="generateTokenByTypeDeprecated",
        deprecated=True,
        tags=["Keys"],
        request=GenerateTokenInputSerializer,
        responses={200: TokenOutputSerializer, **error_responses(400, 401, 404, 502)},
    )
    def post(self, request, application_id, key_type):
        return super().post(request, application_id, key_type)
