"""REST API for multiple consumer secrets, under ``/api/am/devportal/v3/applications/{applicationId}/
oauth-keys/{keyMappingId}/``: ``generate-secret``, ``secrets``, ``revoke-secret``.

Contract choices (documented in the OpenAPI schema too):

- ``expiresIn`` is in seconds: absent or null → 90 days (the page's default); negative → never
  expires; 0 is refused; at most 3650 days (``rules.secret_expiry_from_seconds``, the
  rule ``generate-keys`` uses too).
- ``generate-secret``'s answer carries the value: ``Cache-Control: no-store``.
- ``expiresAt`` is integer epoch seconds, as the reference answers it, or null for a secret that
  never expires; ``createdTime`` epoch milliseconds in a string.
- ``secretValue`` is the value in ``generate-secret``'s answer only; listed secrets carry it masked
  (``********``: the portal keeps no part of a value it could show).
- ``generate-secret`` answers 201 with a ``Location`` (the secrets list, where the new one is).
- ``revoke-secret`` with an id that is no secret of this key (a non-UUID too) is a 404.
- The limit (``secret_count``) and the last-secret guard answer 409 Conflict; a key manager without
  multiple secrets answers 400; an unknown application, key or secret 404; a key-manager failure 502.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from keys.secrets import rules, selectors, services
from keys.selectors import key_for_user
from portal.api_errors import documented_errors
from portal.api_formats import EpochMillisField, EpochSecondsField, NoStoreMixin, StrictSerializer

# What a listed secret shows for its value: the portal keeps no part of a value it could show.
MASKED_SECRET = "********"

TAG = ["Consumer secrets"]


ERROR_DESCRIPTIONS = {
    400: "Invalid input, or multiple consumer secrets are not enabled for the key's key manager.",
    401: "Not authenticated.",
    404: "No such application, key or secret (or it belongs to someone else).",
    409: "Maximum number of consumer secrets reached, or the last valid secret cannot be deleted.",
    502: "The key manager failed; nothing was changed.",
}


def _errors(*codes: int) -> dict:
    return documented_errors(ERROR_DESCRIPTIONS, *codes)


class SecretPropertiesOutputSerializer(serializers.Serializer):
    description = serializers.CharField()
    expiresAt = EpochSecondsField(
        source="expires_at", allow_null=True, help_text="Epoch seconds; null: never expires."
    )


class SecretPropertiesInputSerializer(StrictSerializer):
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=rules.DESCRIPTION_MAX_LENGTH, default=""
    )
    expiresIn = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"Seconds until the secret expires, at most {rules.MAX_EXPIRY_DAYS} days. "
        "Absent: 90 days. Negative: never expires. 0 is refused.",
    )

    def validate_expiresIn(self, value):  # noqa: N802 - DRF names hooks after fields
        try:
            rules.secret_expiry_from_seconds(value)
        except rules.SecretError as exc:
            raise serializers.ValidationError(exc.description) from None
        return value


class GenerateSecretInputSerializer(StrictSerializer):
    additionalProperties = SecretPropertiesInputSerializer(required=False)


class GeneratedSecretOutputSerializer(serializers.Serializer):
    secretId = serializers.UUIDField(source="secret.pk")
    secretValue = serializers.CharField(source="value", help_text="Shown in this response only.")
    additionalProperties = SecretPropertiesOutputSerializer(source="secret")


class ConsumerSecretOutputSerializer(serializers.Serializer):
    secretId = serializers.UUIDField(source="pk")
    secretValue = serializers.SerializerMethodField(
        help_text="Always masked: values are shown once, when made."
    )
    additionalProperties = SecretPropertiesOutputSerializer(source="*")
    createdTime = EpochMillisField(source="created_at")
    lastUsedTime = EpochMillisField(source="last_used_at", default=None, help_text=selectors.LAST_USED_HELP)

    def get_secretValue(self, secret) -> str:  # noqa: N802 - the API's field name
        return MASKED_SECRET


class ConsumerSecretListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = ConsumerSecretOutputSerializer(many=True)


class RevokeSecretInputSerializer(StrictSerializer):
    # Any text: an id that is no secret of this key (a non-UUID too) is a 404, as in the reference.
    secretId = serializers.CharField(max_length=64)
    additionalProperties = serializers.DictField(
        required=False, help_text="None are supported: any property is a 400."
    )

    def validate_additionalProperties(self, value):  # noqa: N802
        if value:
            raise serializers.ValidationError(f"Unknown properties: {', '.join(sorted(value))}.")
        return value


class GenerateSecretApi(NoStoreMixin, APIView):
    @extend_schema(
        tags=TAG,
        operation_id="generateConsumerSecret",
        summary="Generate a new consumer secret",
        request=GenerateSecretInputSerializer,
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                response=[201],
                description="URL of the key's secrets, where the new one is.",
            )
        ],
        responses={201: GeneratedSecretOutputSerializer, **_errors(400, 401, 404, 409, 502)},
    )
    def post(self, request, application_id, key_mapping_id):
        key = key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)
        data = GenerateSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        props = data.validated_data.get("additionalProperties") or {}
        expires_at = rules.secret_expiry_from_seconds(props.get("expiresIn"))
        created = services.secret_create(
            key=key, description=props.get("description", ""), expires_at=expires_at, actor=request.user
        )
        body = GeneratedSecretOutputSerializer(created).data
        if created.client_enable_error:
            # The secret exists, but the client disabled when its last secret expired could not be
            # switched back on: say so, the developer must retry or ask an admin.
            body["clientEnableError"] = created.client_enable_error
        location = reverse(
            "api_secrets", kwargs={"application_id": key.application_id, "key_mapping_id": key.pk}
        )
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": request.build_absolute_uri(location)}
        )


class SecretListApi(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="getConsumerSecrets",
        summary="List a key's consumer secrets (never their values), expired ones included",
        responses={200: ConsumerSecretListOutputSerializer, **_errors(400, 401, 404)},
    )
    def get(self, request, application_id, key_mapping_id):
        key = key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)
        if not key.key_manager.multiple_secrets_enabled:
            raise rules.SecretsDisabled(
                "Multiple consumer secrets are not enabled",
                f"The {key.key_manager} key manager allows one consumer secret per key.",
            )
        secrets = selectors.with_last_used(
            selectors.secrets_for_key(key=key, include_expired=True), selectors.last_use_of(key)
        )
        return Response(ConsumerSecretListOutputSerializer({"count": len(secrets), "list": secrets}).data)


class RevokeSecretApi(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="revokeConsumerSecret",
        summary="Delete a consumer secret (tokens issued with it stay valid until they expire)",
        request=RevokeSecretInputSerializer,
        responses={204: None, **_errors(400, 401, 404, 409, 502)},
    )
    def post(self, request, application_id, key_mapping_id):
        key = key_for_user(user=request.user, application_id=application_id, key_id=key_mapping_id)
        data = RevokeSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        secret = selectors.secret_get(key=key, secret_id=data.validated_data["secretId"])
        services.secret_delete(key=key, secret=secret, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
