"""REST API for what developers choose from: ``key-managers`` and ``scopes`` (Devportal REST API v3)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import KeyManagerAdapter, KeyManagerError, adapter_for
from keys import selectors
from keys.api import error_responses


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
                    "name": km.name,
                    "displayName": km.display_name or km.name,
                    "type": km.type,
                    "description": km.description,
                    "enabled": km.enabled,
                    "availableGrantTypes": adapter.available_grant_types(),
                    "tokenEndpoint": endpoints.get("token", ""),
                    "revokeEndpoint": endpoints.get("revoke", ""),
                    "userInfoEndpoint": endpoints.get("userinfo", ""),
                    "enableTokenGeneration": km.enable_token_generation,
                    "enableOAuthAppCreation": km.enable_oauth_app_creation,
                    "enableMapOAuthConsumerApps": km.enable_map_oauth_consumer_apps,
                    "applicationConfiguration": adapter.application_configuration(),
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
