"""Generate Access Token (page and API) and the scope lists obey the grants of restricted scopes."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys.models import Scope
from keys.scopes import scopes_sync
from portal.models import Application
from tests.keys.helpers import key_url, keys_url
from tests.scopes.conftest import make_key

pytestmark = pytest.mark.django_db

API = "/api/am/devportal/v3"


def token_api(client, generated, scopes):
    key = generated.key
    return client.post(
        f"{API}/applications/{key.application_id}/oauth-keys/{key.pk}/generate-token",
        json.dumps({"consumerSecret": generated.consumer_secret, "scopes": scopes}),
        content_type="application/json",
    )


def token_page(client, generated, scopes):
    return client.post(
        key_url("keys_token", generated.key),
        {
            "token-scopes": scopes,
            "token-validity_period": "600",
            "token-consumer_secret": generated.consumer_secret,
        },
    )


def scope_names(response) -> list[str]:
    return [item["name"] for item in response.json()["list"]]


# -- Generate Access Token ----------------------------------------------------------------------------


def test_generate_token_api_refuses_an_ungranted_restricted_scope_with_a_clear_message(
    owner_client, application, owner, admin_scope
):
    generated = make_key(application, owner)

    response = token_api(owner_client, generated, ["billing:admin"])

    # The request's fault (RFC 6749 invalid_scope), so 400 as in the reference, not a failure's 502.
    assert response.status_code == 400
    body = response.json()
    assert "invalid_scope" in body["description"]
    assert "not granted to this application: billing:admin" in body["description"]


def test_generate_token_api_gives_a_granted_restricted_scope(owner_client, application, owner, admin_scope):
    admin_scope.applications.add(application)
    generated = make_key(application, owner)

    response = token_api(owner_client, generated, ["billing:admin"])

    assert response.status_code == 200, response.content
    assert response.json()["tokenScopes"] == ["billing:admin"]


def test_the_token_dialog_offers_only_the_scopes_of_the_keys_application(
    owner_client, application, others_application, owner, open_scope, admin_scope
):
    generated = make_key(application, owner)
    Scope.objects.create(name="mallory:secret", restricted=True).applications.add(others_application)

    before = owner_client.get(keys_url(application)).content.decode()
    admin_scope.applications.add(application)
    after = owner_client.get(keys_url(application)).content.decode()

    assert 'value="weather:read"' in before
    assert 'value="billing:admin"' not in before
    assert 'value="billing:admin"' in after
    assert 'value="mallory:secret"' not in before + after
    assert generated.key.consumer_key in after


def test_the_token_dialog_refuses_an_ungranted_restricted_scope_and_gives_a_granted_one(
    owner_client, application, owner, admin_scope
):
    generated = make_key(application, owner)

    refused = token_page(owner_client, generated, ["billing:admin"])
    admin_scope.applications.add(application)
    # The admin's save runs this (tests/scopes/test_token_endpoint.py goes through the admin).
    result = scopes_sync(applications=[application], actor=owner)
    granted = token_page(owner_client, generated, ["billing:admin"])

    assert (result.updated, result.failures) == (1, [])
    assert refused.status_code == 400
    assert "Select a valid choice. billing:admin" in refused.content.decode()
    assert granted.status_code == 200, granted.content.decode()[:2000]
    assert '<code class="scope-key">billing:admin</code>' in granted.content.decode()


def test_the_keys_page_makes_as_many_queries_with_many_granted_scopes_as_with_one(
    owner_client, application, owner
):
    make_key(application, owner)
    Scope.objects.create(name="s0", restricted=True).applications.add(application)
    with CaptureQueriesContext(connection) as one:
        assert owner_client.get(keys_url(application)).status_code == 200

    for i in range(1, 8):
        Scope.objects.create(name=f"s{i}", restricted=True).applications.add(application)
        Scope.objects.create(name=f"open{i}")
    with CaptureQueriesContext(connection) as many:
        page = owner_client.get(keys_url(application)).content.decode()

    assert 'value="s7"' in page
    assert len(many) == len(one)


# -- GET /scopes ----------------------------------------------------------------------------------------


def test_scopes_api_hides_other_applications_restricted_scopes(
    owner_client, other_client, application, others_application, open_scope, admin_scope
):
    admin_scope.applications.add(application)
    Scope.objects.create(name="mallory:secret", restricted=True).applications.add(others_application)
    Scope.objects.create(name="nobody:yet", restricted=True)

    mine = owner_client.get(f"{API}/scopes")
    theirs = other_client.get(f"{API}/scopes")

    assert mine.status_code == 200
    assert scope_names(mine) == ["billing:admin", "default", "weather:read"]
    assert mine.json()["count"] == 3
    assert scope_names(theirs) == ["default", "mallory:secret", "weather:read"]


def test_scopes_api_lists_a_scope_granted_to_two_of_my_applications_once(
    owner_client, owner, application, admin_scope
):
    second = Application.objects.create(owner=owner, name="Second App")
    admin_scope.applications.add(application, second)

    assert scope_names(owner_client.get(f"{API}/scopes")).count("billing:admin") == 1


def test_scopes_api_makes_a_constant_number_of_queries(owner_client, owner, application):
    Scope.objects.create(name="g0", restricted=True).applications.add(application)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(f"{API}/scopes")

    for i in range(1, 10):
        app = Application.objects.create(owner=owner, name=f"App {i}")
        Scope.objects.create(name=f"g{i}", restricted=True).applications.add(app)
        Scope.objects.create(name=f"o{i}")
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(f"{API}/scopes")

    assert response.json()["count"] == 1 + 10 + 9  # default, g0..g9, o1..o9
    assert len(many) == len(few)
