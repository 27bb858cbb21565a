"""The OpenAPI document: valid, warning-free, and covering the reference contract (SPEC 3.6)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

API = "/api/am/devportal/v3"

# (method, path) of every operation SPEC 3.6 names, with the reference's parameter names.
CONTRACT = {
    ("get", "/applications"),
    ("post", "/applications"),
    ("get", "/applications/{applicationId}"),
    ("put", "/applications/{applicationId}"),
    ("delete", "/applications/{applicationId}"),
    ("post", "/applications/{applicationId}/generate-keys"),
    ("post", "/applications/{applicationId}/map-keys"),
    ("get", "/applications/{applicationId}/oauth-keys"),
    ("get", "/applications/{applicationId}/oauth-keys/{keyMappingId}"),
    ("put", "/applications/{applicationId}/oauth-keys/{keyMappingId}"),
    ("delete", "/applications/{applicationId}/oauth-keys/{keyMappingId}"),
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/regenerate-secret"),
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/clean-up"),
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token"),
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-secret"),
    ("get", "/applications/{applicationId}/oauth-keys/{keyMappingId}/secrets"),
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/revoke-secret"),
    ("get", "/key-managers"),
    ("get", "/scopes"),
}


def test_the_document_is_valid_and_generates_without_warnings(tmp_path):
    # --fail-on-warn: a serializer drf-spectacular cannot describe would make clients guess.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "openapi.yaml"))


@pytest.mark.django_db
def test_the_document_covers_every_operation_of_the_contract_with_its_parameter_names(anonymous_client):
    document = json.loads(anonymous_client.get(f"{API}/openapi.json").content)
    operations = {
        (method, path.removeprefix(API))
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete"}
    }

    assert CONTRACT <= operations
    generate = document["paths"][
        f"{API}/applications/{{applicationId}}/oauth-keys/{{keyMappingId}}/generate-token"
    ]
    assert {p["name"] for p in generate["post"]["parameters"] if p["in"] == "path"} == {
        "applicationId",
        "keyMappingId",
    }


# The success status of each operation as devportal-api.yaml (the reference, 2026) documents it.
REFERENCE_SUCCESS = {
    ("post", "/applications"): "201",
    ("delete", "/applications/{applicationId}"): "200",
    ("post", "/applications/{applicationId}/generate-keys"): "200",
    ("delete", "/applications/{applicationId}/oauth-keys/{keyMappingId}"): "200",
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/clean-up"): "200",
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-secret"): "201",
    ("post", "/applications/{applicationId}/oauth-keys/{keyMappingId}/revoke-secret"): "204",
    ("get", "/applications/{applicationId}/keys"): "200",
    ("get", "/applications/{applicationId}/keys/{keyType}"): "200",
    ("put", "/applications/{applicationId}/keys/{keyType}"): "200",
    ("post", "/applications/{applicationId}/keys/{keyType}/regenerate-secret"): "200",
    ("post", "/applications/{applicationId}/keys/{keyType}/clean-up"): "200",
    ("post", "/applications/{applicationId}/keys/{keyType}/generate-token"): "200",
}
DEPRECATED = {op for op in REFERENCE_SUCCESS if "/keys/" in op[1] or op[1].endswith("/keys")}


def test_the_document_states_the_reference_statuses_locations_and_formats(anonymous_client):
    document = json.loads(anonymous_client.get(f"{API}/openapi.json").content)
    paths = document["paths"]
    for (method, path), success in REFERENCE_SUCCESS.items():
        operation = paths[f"{API}{path}"][method]
        assert min(code for code in operation["responses"] if code.startswith("2")) == success, (method, path)
        assert operation.get("deprecated", False) == ((method, path) in DEPRECATED), (method, path)
    created = paths[f"{API}/applications"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    secret = paths[f"{API}/applications/{{applicationId}}/oauth-keys/{{keyMappingId}}/generate-secret"]
    assert "Location" in secret["post"]["responses"]["201"]["headers"]
    schemas = document["components"]["schemas"]
    application = schemas["ApplicationOutput"]["properties"]
    assert application["createdTime"]["type"] == "string" and "attributes" in application
    assert schemas["SecretPropertiesOutput"]["properties"]["expiresAt"]["type"] == "integer"
