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
