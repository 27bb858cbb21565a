"""Every API error is JSON {"code", "message", "description"}: the handler, ApiError, and the 404 route."""

from __future__ import annotations

import json
import logging

import pytest
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from keymanagers.base import KeyManagerError, NotSupported
from portal.api_errors import ApiError, api_not_found, exception_handler


class _Nested(serializers.Serializer):
    uri = serializers.URLField()


class _Body(serializers.Serializer):
    name = serializers.CharField()
    callbacks = _Nested(many=True)


class Raising(APIView):
    """Raises what the ``kind`` URL part names, as the views of every area may."""

    permission_classes = [AllowAny]

    def post(self, request, kind):
        if kind == "api-error":
            raise ApiError(409, "Conflict", "Keys already exist for Production at Resident", errors=[])
        if kind == "api-error-default":
            raise ApiError(400)
        if kind == "http404":
            raise Http404("No such key")
        if kind == "key-manager":
            raise KeyManagerError(
                "Keycloak", "create client", "401 Unauthorized from the registration endpoint"
            )
        if kind == "not-supported":
            raise NotSupported("Okta", "map existing client", "Okta does not support this")
        if kind == "validation":
            _Body(data=request.data).is_valid(raise_exception=True)
        raise RuntimeError("boom: a secret-ish detail that must not reach the client")


urlpatterns = [
    path("api/raise/<str:kind>", Raising.as_view()),
    path("api/<path:rest>", api_not_found),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def call(client, kind, body=None):
    return client.post(f"/api/raise/{kind}", json.dumps(body or {}), content_type="application/json")


def test_api_error_keeps_its_status_message_and_description(client):
    response = call(client, "api-error")
    assert response.status_code == 409
    assert response.json() == {
        "code": 409,
        "message": "Conflict",
        "description": "Keys already exist for Production at Resident",
        "error": [],
    }


def test_api_error_defaults_its_message_to_the_status_phrase(client):
    response = call(client, "api-error-default")
    assert response.json() == {"code": 400, "message": "Bad Request", "description": "Bad Request"}


def test_http404_from_a_selector_becomes_a_json_404(client):
    response = call(client, "http404")
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "Not Found", "description": "No such key"}


def test_a_key_manager_failure_is_a_502_naming_the_key_manager_and_step(client):
    response = call(client, "key-manager")
    assert response.status_code == 502
    assert response.json() == {
        "code": 502,
        "message": "Bad Gateway",
        "description": "Keycloak: create client failed: 401 Unauthorized from the registration endpoint",
    }


def test_an_unsupported_operation_is_a_400(client):
    response = call(client, "not-supported")
    assert response.status_code == 400
    assert response.json()["description"] == "Okta: map existing client failed: Okta does not support this"


def test_validation_errors_list_every_field_with_its_path(client):
    response = call(client, "validation", {"callbacks": [{"uri": "ok"}, {"uri": "https://fine.example"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["message"] == "Bad Request"
    assert body["error"] == [
        {"code": "required", "message": "name: This field is required."},
        {"code": "invalid", "message": "callbacks[0].uri: Enter a valid URL."},
    ]
    assert body["description"] == "name: This field is required.; callbacks[0].uri: Enter a valid URL."


def test_an_unexpected_error_is_a_json_500_without_internals(client, caplog):
    with caplog.at_level(logging.ERROR, logger="portal.api_errors"):
        response = call(client, "other")
    assert response.status_code == 500
    assert response.json() == {
        "code": 500,
        "message": "Internal Server Error",
        "description": "The server could not complete the request.",
    }
    assert "boom" not in response.content.decode()
    assert "Unhandled API error in Raising" in caplog.text


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "message": "Not Found",
        "description": "No API resource at /api/nothing/here",
    }


def test_a_permission_refusal_coded_insufficient_scope_gets_the_reference_number():
    # What a DRF permission class with ``code = "insufficient_scope"`` raises (DRF's permission_denied).
    response = exception_handler(
        PermissionDenied("The token lacks apim:app_manage.", code="insufficient_scope"), {}
    )
    assert response.status_code == 403
    assert response.data == {
        "code": 900910,
        "message": "Forbidden",
        "description": "The token lacks apim:app_manage.",
    }


def test_other_errors_keep_their_http_status_as_code(client):
    assert call(client, "http404").json()["code"] == 404
