"""The keys API's request and response bodies (serializers), and its documented error answers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from keymanagers.base import TokenResult
from keymanagers.models import GrantType
from keys.api.vocabulary import DEFAULT_KEY_MANAGER, api_key_manager_name
from keys.config import EXPIRY_FIELDS
from keys.models import KeyType
from keys.secrets.api import ConsumerSecretOutputSerializer
from keys.secrets.selectors import LAST_USED_HELP, last_uses_of
from portal.api_errors import documented_errors
from portal.api_formats import StrictSerializer, epoch_millis

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
