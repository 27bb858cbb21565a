"""REST API for what developers choose from: ``key-managers`` and ``scopes`` (Devportal REST API v3)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import EXPIRY_DEFAULTS, KeyManagerAdapter, KeyManagerError, adapter_for
from keys import selectors
from keys.api.serializers import error_responses
from keys.api.vocabulary import (
    NOT_APPLICABLE,
    SECRET_DESCRIPTION,
    SECRET_EXPIRES_IN,
    api_key_manager_name,
    api_key_manager_type,
)
from keys.config import EXPIRY_FIELDS
from keys.forms import EXPIRY_LABELS
from keys.secrets.rules import MAX_EXPIRY_DAYS

# The Key Configurations every key manager takes, in the reference's applicationConfiguration
# shape; a key manager that cannot honour one leaves it out (its ``unsupported_settings``), and
# generate-keys refuses it there with the reason.
FLAG_CONFIGURATION = (
    ("pkceMandatory", "pkce_mandatory", "Enable PKCE", "Require a PKCE code challenge (S256)."),
    (
        "pkceSupportPlain",
        "pkce_support_plain",
        "Support PKCE Plain text",
        "Also accept the plain code challenge method (needs Enable PKCE).",
    ),
    (
        "bypassClientCredentials",
        "bypass_client_credentials",
        "Public client",
        "Allow authentication without the client secret (not with Client Credentials).",
    ),
)


def _item(name, label, type_, default, tooltip, *, values=None, constraint=None) -> dict:
    item = {
        "name": name,
        "label": label,
        "type": type_,
        "required": False,
        "mask": False,
        "multiple": False,
        "tooltip": tooltip,
        "default": default,
        "values": values or [],
    }
    if constraint:
        item["constraint"] = constraint
    return item


def application_configuration(km, adapter: KeyManagerAdapter) -> list[dict]:
    """Every ``additionalProperties`` field generate-keys takes at ``km``: types, defaults, values."""
    unsupported = adapter.unsupported_settings()
    items = [
        _item(
            name,
            f"{EXPIRY_LABELS[name]} expiry time (seconds)",
            "input",
            NOT_APPLICABLE,
            f"Seconds; a negative number means never expires; {NOT_APPLICABLE} or empty: "
            f"{EXPIRY_DEFAULTS[name]} seconds.",
        )
        for name in EXPIRY_FIELDS
        if name not in unsupported
    ]
    items += [
        _item(api_name, label, "checkbox", False, tooltip)
        for api_name, name, label, tooltip in FLAG_CONFIGURATION
        if name not in unsupported
    ]
    items += [{"mask": False, "multiple": False, **item} for item in adapter.application_configuration()]
    if km.multiple_secrets_enabled:
        items += [
            _item(SECRET_DESCRIPTION[0], "First secret's description", "input", "", "generate-keys only."),
            _item(
                SECRET_EXPIRES_IN[0],
                "First secret expires in (seconds)",
                "input",
                90 * 86400,
                "generate-keys only. A negative number means never expires; 0 is refused.",
                constraint={"type": "RANGE", "value": {"min": 1, "max": MAX_EXPIRY_DAYS * 86400}},
            ),
        ]
    return items


def key_manager_properties(km) -> dict:
    """The reference's ``additionalProperties`` of a key manager: its secrets mode."""
    return {
        "enable_multiple_client_secrets": km.multiple_secrets_enabled,
        # null: no limit (the reference leaves the count to the server as well).
        "client_secret_count": km.secret_count if km.multiple_secrets_enabled else 1,
    }


class KeyManagerOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    displayName = serializers.CharField()
    type = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    availableGrantTypes = serializers.ListField(child=serializers.CharField())
    tokenEndpoint = serializers.CharField()
    revokeEndpoint = serializers.CharField()
    userInfoEndpoint = serializers.CharField()
    enableTokenGeneration = serializers.BooleanField()
    enableOAuthAppCreation = serializers.BooleanField()
    enableMapOAuthConsumerApps = serializers.BooleanField()
    applicationConfiguration = serializers.ListField(child=serializers.DictField())
    additionalProperties = serializers.DictField(
        help_text="enable_multiple_client_secrets; client_secret_count (null: no limit)."
    )


class KeyManagerListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = KeyManagerOutputSerializer(many=True)


class ScopeOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    displayName = serializers.CharField(source="display_name")
    description = serializers.CharField()


class ScopeListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = ScopeOutputSerializer(many=True)


class KeyManagerListApi(APIView):
    @extend_schema(
        operation_id="listKeyManagers",
        responses={200: KeyManagerListOutputSerializer, **error_responses(401)},
        tags=["Key Managers"],
    )
    def get(self, request):
        items = []
        for km in selectors.key_managers_enabled():
            try:
                adapter = adapter_for(km)
            except KeyManagerError:
                # A key manager whose adapter is not installed: list what its row says.
                adapter = KeyManagerAdapter(km)
            endpoints = adapter.endpoints()
            items.append(
                {
                    "id": str(km.pk),
                    "name": api_key_manager_name(km),
                    "displayName": km.display_name or api_key_manager_name(km),
                    "type": api_key_manager_type(km),
                    "description": km.description,
                    "enabled": km.enabled,
                    "availableGrantTypes": adapter.available_grant_types(),
                    "tokenEndpoint": endpoints.get("token", ""),
                    "revokeEndpoint": endpoints.get("revoke", ""),
                    "userInfoEndpoint": endpoints.get("userinfo", ""),
                    "enableTokenGeneration": km.enable_token_generation,
                    "enableOAuthAppCreation": km.enable_oauth_app_creation,
                    "enableMapOAuthConsumerApps": km.enable_map_oauth_consumer_apps,
                    "applicationConfiguration": application_configuration(km, adapter),
                    "additionalProperties": key_manager_properties(km),
                }
            )
        return Response({"count": len(items), "list": items})


class ScopeListApi(APIView):
    @extend_schema(
        operation_id="listScopes",
        responses={200: ScopeListOutputSerializer, **error_responses(401)},
        tags=["Scopes"],
    )
    def get(self, request):
        # Unrestricted scopes, and the restricted ones granted to the caller's applications.
        scopes = list(selectors.scopes_for_user(user=request.user))
        return Response({"count": len(scopes), "list": ScopeOutputSerializer(scopes, many=True).data})
