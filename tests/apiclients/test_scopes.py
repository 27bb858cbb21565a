"""Each operation's documented scope, enforced in one place (portal/apiclients/permissions.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.views import APIView

from portal.api_errors import api_not_found
from portal.apiclients.permissions import reference_template
from portal.apiclients.scopes import API_SCOPES, OPERATION_SCOPES, OUR_OPERATION_SCOPES, required_scopes
from portal.models import Application
from tests.apiclients.conftest import API

REFERENCE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "wso2" / "devportal-api.yaml"
)
PREFIX = API.lstrip("/") + "/"
TABLE = sorted({**OPERATION_SCOPES, **OUR_OPERATION_SCOPES}.items())


def _url(template: str, application_id) -> str:
    return API + template.replace("{applicationId}", str(application_id)).replace(
        "{keyMappingId}", str(uuid.uuid4())
    ).replace("{keyType}", "PRODUCTION")


def _call(client, method: str, url: str):
    if method in ("POST", "PUT"):
        return getattr(client, method.lower())(url, {}, content_type="application/json")
    return getattr(client, method.lower())(url)


@pytest.mark.django_db
@pytest.mark.parametrize("operation, scopes", TABLE, ids=[f"{m} {t}" for (t, m), _ in TABLE])
def test_an_operation_is_403_without_its_scope_and_passes_with_each_of_them(
    operation, scopes, owner, api_token, bearer
):
    template, method = operation
    application = Application.objects.create(owner=owner, name="Weather")
    url = _url(template, application.id)
    if resolve(url).func is api_not_found:
        pytest.skip(f"{template} is not served here (yet)")

    if scopes:
        unrelated = bearer(api_token("apim:sub_manage"))
        refused = _call(unrelated, method, url)
        assert refused.status_code == 403, refused.content
        assert refused["Content-Type"] == "application/json"
        assert scopes[0] in refused.json()["description"]
        assert Application.objects.filter(pk=application.pk).exists()  # nothing done

    for scope in scopes or ("apim:sub_manage",):
        Application.objects.get_or_create(pk=application.pk, defaults={"owner": owner, "name": "Weather"})
        allowed = _call(bearer(api_token(scope)), method, url)
        assert allowed.status_code not in (401, 403), (scope, allowed.content)


def _api_operations(resolver=None, prefix=""):
    """Every (route, method) the URLconf serves with a DRF view under the API's base path."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_operations(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith(PREFIX):
            view = getattr(entry.callback, "cls", None)
            if view is None or not issubclass(view, APIView):
                continue
            for method in ("get", "post", "put", "patch", "delete"):
                # DRF dispatches only the methods in http_method_names (an alias may narrow them).
                if hasattr(view, method) and method in getattr(view, "http_method_names", ()):
                    yield route, method.upper()


def test_every_operation_the_api_serves_has_its_scopes_in_the_table():
    served = list(_api_operations())
    assert len(served) > 20
    missing = [
        (route, method)
        for route, method in served
        if required_scopes(reference_template(route, PREFIX), method) is None
    ]
    assert missing == []


def test_routes_become_the_references_path_templates():
    assert (
        reference_template(
            "api/am/devportal/v3/applications/<uuid:application_id>/oauth-keys/<uuid:key_mapping_id>/secrets",
            PREFIX,
        )
        == "/applications/{applicationId}/oauth-keys/{keyMappingId}/secrets"
    )
    assert reference_template(PREFIX + "applications/<uuid:application_id>/keys/<str:key_type>", PREFIX) == (
        "/applications/{applicationId}/keys/{keyType}"
    )


@pytest.mark.skipif(
    not REFERENCE.exists(), reason="the reference's devportal-api.yaml is not beside the checkout"
)
def test_the_table_is_the_references_security_entries():
    document = yaml.safe_load(REFERENCE.read_text())
    documented = {
        (path, method.upper()): tuple(operation["security"][0]["OAuth2Security"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "security" in operation
    }
    assert {key: documented.get(key) for key in OPERATION_SCOPES} == OPERATION_SCOPES
    # Every operation of SPEC 3.6's areas is in the table (API keys, import/export and throttling
    # resets are features the portal does not have).
    ours = {
        key
        for key in documented
        if key[0].startswith(("/applications", "/key-managers", "/settings/application-attributes"))
        and not any(part in key[0] for part in ("/api-keys/", "/export", "/import", "reset-throttle-policy"))
    }
    assert ours == set(OPERATION_SCOPES)
    offered = document["components"]["securitySchemes"]["OAuth2Security"]["flows"]["password"]["scopes"]
    assert {name: offered[name] for name in API_SCOPES} == API_SCOPES
    assert set(offered) - set(API_SCOPES) == {"openid", "apim:admin"}


@pytest.mark.django_db
def test_the_served_document_lists_each_operations_scopes_as_alternatives(client):
    document = client.get(f"{API}/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["OAuth2Security"]
    assert scheme["type"] == "oauth2"
    assert set(scheme["flows"]["clientCredentials"]["scopes"]) == set(API_SCOPES)
    checked = 0
    for path, operations in document["paths"].items():
        template = path.removeprefix(API)
        for method, operation in operations.items():
            needed = required_scopes(template, method)
            alternatives = [r["OAuth2Security"] for r in operation["security"] if "OAuth2Security" in r]
            assert alternatives == [[scope] for scope in needed], (method, template)
            checked += 1
    assert checked >= len(OPERATION_SCOPES)
