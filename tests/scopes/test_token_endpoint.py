"""A restricted scope at /oauth2/token: refused until an admin grants it, refused again once removed."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from keymanagers.models import OAuthClient
from keys.models import Scope
from tests.keys.helpers import token_at_endpoint
from tests.scopes.conftest import make_key

pytestmark = pytest.mark.django_db


def scope_form(scope, **changes):
    data = {
        "name": scope.name,
        "display_name": scope.display_name,
        "description": scope.description,
        "applications": [str(pk) for pk in scope.applications.values_list("pk", flat=True)],
    }
    if scope.restricted:
        data["restricted"] = "on"
    data.update(changes)
    if data.get("restricted") is False:
        del data["restricted"]
    return data


def change_scope(admin_client, scope, **changes):
    response = admin_client.post(f"/admin/keys/scope/{scope.pk}/change/", scope_form(scope, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def ask(client, generated, scope):
    return token_at_endpoint(client, generated.key.consumer_key, generated.consumer_secret, scope=scope)


def test_a_restricted_scope_is_invalid_scope_for_a_client_it_was_not_granted_to(
    client, application, owner, admin_scope
):
    generated = make_key(application, owner)
    tokens_before = AccessToken.objects.count()  # Generate Keys issued one

    answer = ask(client, generated, "billing:admin")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert "access_token" not in answer.json()
    assert AccessToken.objects.count() == tokens_before


def test_the_admin_granting_the_scope_lets_the_client_have_it_and_removing_the_grant_refuses_it_again(
    client, admin_client_, application, owner, admin_scope
):
    generated = make_key(application, owner)

    response = change_scope(admin_client_, admin_scope, applications=[str(application.pk)])
    granted = ask(client, generated, "billing:admin")

    assert any("Updated the scope grants of 1 key" in str(m) for m in get_messages(response.wsgi_request))
    assert list(admin_scope.applications.all()) == [application]
    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == ["billing:admin"]
    assert granted.status_code == 200, granted.content
    assert granted.json()["scope"] == "billing:admin"

    change_scope(admin_client_, admin_scope, applications=[])
    refused = ask(client, generated, "billing:admin")

    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == []
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    assert "access_token" not in refused.json()
    # The granted token (a client_credentials JWT, not stored) still carries what it was given.
    hello = client.get(
        "/sample/hello",
        {"scope": "billing:admin"},
        HTTP_AUTHORIZATION=f"Bearer {granted.json()['access_token']}",
    )
    assert hello.status_code == 200, hello.content


def test_a_grant_reaches_every_key_of_the_application_and_no_other_application(
    client, admin_client_, application, others_application, owner, other_developer, admin_scope
):
    production = make_key(application, owner)
    sandbox = make_key(application, owner, key_type="SANDBOX")
    others = make_key(others_application, other_developer)

    change_scope(admin_client_, admin_scope, applications=[str(application.pk)])

    assert ask(client, production, "billing:admin").status_code == 200
    assert ask(client, sandbox, "billing:admin").status_code == 200
    assert ask(client, others, "billing:admin").json()["error"] == "invalid_scope"


def test_unrestricted_scopes_are_open_to_every_client(
    client, application, others_application, owner, other_developer, open_scope, admin_scope
):
    mine = make_key(application, owner)
    theirs = make_key(others_application, other_developer)

    assert ask(client, mine, "weather:read").json()["scope"] == "weather:read"
    assert set(ask(client, theirs, "weather:read default").json()["scope"].split()) == {
        "default",
        "weather:read",
    }


def test_making_an_open_scope_restricted_refuses_it_to_applications_not_listed(
    client, admin_client_, application, others_application, owner, other_developer, open_scope
):
    mine = make_key(application, owner)
    theirs = make_key(others_application, other_developer)

    change_scope(admin_client_, open_scope, restricted="on", applications=[str(application.pk)])

    assert ask(client, mine, "weather:read").status_code == 200
    assert ask(client, theirs, "weather:read").json()["error"] == "invalid_scope"


def test_making_a_restricted_scope_open_lets_every_client_have_it(
    client, admin_client_, others_application, other_developer, admin_scope
):
    theirs = make_key(others_application, other_developer)

    change_scope(admin_client_, admin_scope, restricted=False)

    assert Scope.objects.get(pk=admin_scope.pk).restricted is False
    assert ask(client, theirs, "billing:admin").status_code == 200


def test_a_renamed_restricted_scope_keeps_its_grants_under_the_new_name(
    client, admin_client_, application, owner, admin_scope
):
    generated = make_key(application, owner)
    change_scope(admin_client_, admin_scope, applications=[str(application.pk)])
    admin_scope.refresh_from_db()

    change_scope(admin_client_, admin_scope, name="billing:owner")

    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == ["billing:owner"]
    assert ask(client, generated, "billing:owner").status_code == 200
    assert ask(client, generated, "billing:admin").json()["error"] == "invalid_scope"


def test_deleting_a_restricted_scope_in_the_admin_removes_the_grant_from_its_clients(
    client, admin_client_, application, owner, admin_scope
):
    generated = make_key(application, owner)
    change_scope(admin_client_, admin_scope, applications=[str(application.pk)])

    response = admin_client_.post(f"/admin/keys/scope/{admin_scope.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Scope.objects.filter(pk=admin_scope.pk).exists()
    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == []
    # A restricted scope made again under the same name is not granted by the old grant.
    Scope.objects.create(name="billing:admin", restricted=True)
    assert ask(client, generated, "billing:admin").json()["error"] == "invalid_scope"


def test_keys_generated_after_the_grant_carry_it(client, application, owner, admin_scope):
    admin_scope.applications.add(application)

    generated = make_key(application, owner)

    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == ["billing:admin"]
    assert ask(client, generated, "billing:admin").status_code == 200


def test_a_stale_grant_of_an_undefined_or_open_scope_gives_nothing_extra(client, application, owner):
    generated = make_key(application, owner)
    OAuthClient.objects.filter(client_id=generated.key.consumer_key).update(granted_scopes=["ghost"])

    assert ask(client, generated, "ghost").json()["error"] == "invalid_scope"


def test_a_grant_reaches_keys_at_a_disabled_key_manager_too(
    client, admin_client_, application, owner, resident, admin_scope
):
    generated = make_key(application, owner)
    change_scope(admin_client_, admin_scope, applications=[str(application.pk)])
    resident.enabled = False
    resident.save()

    # Withdrawing a grant must take effect even where developers may no longer change keys.
    change_scope(admin_client_, admin_scope, applications=[])

    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == []


def test_a_grant_that_cannot_reach_a_key_is_reported_to_the_admin(
    client, admin_client_, application, owner, resident, admin_scope
):
    generated = make_key(application, owner)
    # The key's stored configuration no longer passes: the admin took its grant type away.
    resident.available_grant_types = ["authorization_code"]
    resident.save()

    response = admin_client_.post(
        f"/admin/keys/scope/{admin_scope.pk}/change/",
        scope_form(admin_scope, applications=[str(application.pk)]),
        follow=True,
    )

    page = response.content.decode()
    assert "Scope grants not updated for Billing App (Production keys at" in page
    # The grant is recorded; the client gets it once its key is fixed and synced again.
    assert list(admin_scope.applications.all()) == [application]
    assert OAuthClient.objects.get(client_id=generated.key.consumer_key).granted_scopes == []


def test_a_restricted_scope_costs_the_token_endpoint_no_extra_query(
    client, application, owner, open_scope, admin_scope
):
    admin_scope.applications.add(application)
    generated = make_key(application, owner)
    # The key's first authentication also records its "last used" (once a minute): not a scope's cost.
    assert ask(client, generated, "weather:read").status_code == 200

    with CaptureQueriesContext(connection) as open_request:
        assert ask(client, generated, "weather:read").status_code == 200
    with CaptureQueriesContext(connection) as restricted_request:
        assert ask(client, generated, "billing:admin").status_code == 200

    assert len(restricted_request) == len(open_request)


def test_discovery_lists_restricted_scopes_too(client, open_scope, admin_scope):
    body = client.get("/.well-known/openid-configuration").json()
    assert {"billing:admin", "weather:read", "default", "openid"} <= set(body["scopes_supported"])


def test_scope_admin_shows_and_filters_the_restricted_flag(admin_client_, open_scope, admin_scope):
    restricted_only = admin_client_.get("/admin/keys/scope/", {"restricted__exact": "1"}).content.decode()
    form = admin_client_.get(f"/admin/keys/scope/{admin_scope.pk}/change/").content.decode()

    assert "billing:admin" in restricted_only
    assert "weather:read" not in restricted_only
    assert 'name="restricted"' in form
    assert 'name="applications"' in form
    assert "selectfilter" in form  # filter_horizontal
