"""The reference portal's documented login: register a client with your credentials, get a token
with apim:* scopes, call the REST API with it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from keymanagers.models import ClientSecret, KeyManager, OAuthClient
from portal.apiclients.models import ApiClient
from portal.models import Application
from tests.apiclients.conftest import API, REGISTER, basic, register, token
from tests.conftest import PASSWORD
from tests.keys.test_api_reference import walk_the_documented_flow

pytestmark = pytest.mark.django_db


def test_the_documented_login_registers_a_client_gets_a_scoped_token_and_calls_an_operation(owner):
    client = Client()
    registration = register(client, owner.username)

    assert registration.status_code == 200
    answer = registration.json()
    assert set(answer) == {
        "clientId", "clientName", "callBackURL", "clientSecret", "isSaasApplication", "appOwner",
        "jsonString", "jsonAppAttribute", "tokenType",
    }  # fmt: skip
    assert answer["clientName"] == "rest_api_devportal"
    assert answer["callBackURL"] == "www.google.lk"
    assert answer["isSaasApplication"] is True
    assert answer["appOwner"] == owner.username
    assert json.loads(answer["jsonString"]) == {
        "grant_types": "client_credentials password refresh_token",
        "redirect_uris": "www.google.lk",
        "client_name": "rest_api_devportal",
    }
    assert answer["jsonAppAttribute"] == "{}"
    assert answer["tokenType"] is None
    assert registration["Cache-Control"] == "no-store"

    issued = token(client, answer["clientId"], answer["clientSecret"], "apim:subscribe apim:app_manage")
    assert issued.status_code == 200, issued.content
    assert set(issued.json()["scope"].split()) == {"apim:subscribe", "apim:app_manage"}
    assert issued.json()["token_type"] == "Bearer"
    assert "refresh_token" not in issued.json()

    script = Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['access_token']}", enforce_csrf_checks=True)
    created = script.post(f"{API}/applications", {"name": "Billing"}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert Application.objects.get(name="Billing").owner == owner
    listed = script.get(f"{API}/applications")
    assert listed.status_code == 200
    assert [a["name"] for a in listed.json()["list"]] == ["Billing"]


def test_the_client_secret_is_kept_only_as_a_keyed_hash(registered):
    oauth_client = OAuthClient.objects.get(client_id=registered["clientId"])
    hashes = list(ClientSecret.objects.filter(client=oauth_client).values_list("secret_hash", flat=True))
    assert len(hashes) == 1
    assert registered["clientSecret"] not in hashes[0]
    assert oauth_client.client_secret == ""
    assert oauth_client.api_client and oauth_client.user.username == "alice"


def test_registering_the_same_name_again_gives_the_same_client_and_a_new_secret_both_valid(owner, registered):
    again = register(Client(), owner.username)

    assert again.status_code == 200
    assert again.json()["clientId"] == registered["clientId"]
    assert again.json()["clientSecret"] != registered["clientSecret"]
    assert ApiClient.objects.filter(owner=owner).count() == 1
    for secret in (registered["clientSecret"], again.json()["clientSecret"]):
        assert token(Client(), registered["clientId"], secret, "apim:subscribe").status_code == 200


def test_only_the_latest_five_secrets_of_a_client_stay_valid(owner, registered):
    for _ in range(5):
        assert register(Client(), owner.username).status_code == 200

    assert (
        token(Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe").status_code
        == 401
    )


def test_without_a_scope_the_token_carries_default_and_opens_no_operation(registered, bearer):
    issued = token(Client(), registered["clientId"], registered["clientSecret"], "")
    assert issued.status_code == 200
    assert issued.json()["scope"] == "default"

    response = bearer(issued.json()["access_token"]).get(f"{API}/applications")
    assert response.status_code == 403
    assert response.json()["code"] in (403, 900910)
    assert "apim:subscribe" in response.json()["description"]


def test_a_scope_outside_the_api_scopes_is_invalid_scope(registered):
    for scope in ("apim:admin", "openid", "apim:nonsense"):
        issued = token(
            Client(), registered["clientId"], registered["clientSecret"], f"apim:subscribe {scope}"
        )
        assert issued.status_code == 400, scope
        assert issued.json()["error"] == "invalid_scope"


def test_the_token_acts_as_the_owner_and_sees_only_the_owners_applications(
    other_developer, api_token, bearer
):
    from portal.applications import services

    theirs = services.application_create(owner=other_developer, name="Theirs")

    script = bearer(api_token())
    assert script.get(f"{API}/applications").json()["count"] == 0
    assert script.get(f"{API}/applications/{theirs.id}").status_code == 404


def test_a_revoked_or_expired_token_is_401(registered, api_token, bearer):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    value = api_token()
    row = get_access_token_model().objects.get()
    row.expires = timezone.now() - timedelta(seconds=1)
    row.save()
    assert bearer(value).get(f"{API}/applications").status_code == 401

    revoked = api_token()
    assert (
        Client()
        .post(
            "/oauth2/revoke",
            {"token": revoked},
            HTTP_AUTHORIZATION=basic(registered["clientId"], registered["clientSecret"]),
        )
        .status_code
        == 200
    )
    assert bearer(revoked).get(f"{API}/applications").status_code == 401


def test_a_token_of_an_inactive_owner_is_401(owner, api_token, bearer):
    value = api_token()
    owner.is_active = False
    owner.save()

    assert bearer(value).get(f"{API}/applications").status_code == 401


def test_the_personal_api_token_keeps_all_rights(owner, bearer):
    from portal.applications import services

    _, value = services.api_token_create(user=owner, name="ci", days=30)
    response = bearer(value).post(f"{API}/applications", {"name": "Mine"}, content_type="application/json")
    assert response.status_code == 201


def test_a_token_of_an_applications_key_is_401_at_the_api(owner):
    """Tokens the resident server issues to applications' keys are for their own APIs."""
    from portal import crypto

    app_client = OAuthClient.objects.create(
        client_id="app-key-client",
        user=owner,
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_CLIENT_CREDENTIALS,
        grant_types=["client_credentials"],
        hash_client_secret=False,
    )
    ClientSecret.objects.create(client=app_client, secret_hash=crypto.keyed_hash("dps_app-secret"))
    issued = token(Client(), "app-key-client", "dps_app-secret", "default")
    assert issued.status_code == 200, issued.content

    response = Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['access_token']}").get(f"{API}/applications")

    assert response.status_code == 401
    assert "registered at /client-registration/v0.17/register" in response.json()["description"]


def test_an_api_client_switched_to_jwt_gets_unstored_tokens_that_work_until_revoked(registered, bearer):
    """The REST API checks tokens with the resident server's one bearer check: a JWT that has no
    row works there, and is refused once revoked."""
    from oauth2_provider.models import get_access_token_model

    OAuthClient.objects.filter(client_id=registered["clientId"]).update(token_format="JWT")
    issued = token(Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe")
    assert issued.status_code == 200, issued.content
    value = issued.json()["access_token"]
    assert value.count(".") == 2
    assert not get_access_token_model().objects.exists()
    assert bearer(value).get(f"{API}/applications").status_code == 200

    revoked = Client().post(
        "/oauth2/revoke",
        {"token": value},
        HTTP_AUTHORIZATION=basic(registered["clientId"], registered["clientSecret"]),
    )
    assert revoked.status_code == 200
    response = bearer(value).get(f"{API}/applications")
    assert response.status_code == 401
    assert response.json()["description"] == "Invalid access token: unknown or revoked."


# -- the password grant: off unless an admin offers it (RFC 9700) ---------------------------------


def test_the_password_grant_is_refused_unless_an_admin_offers_it(owner, registered):
    refused = token(
        Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe",
        grant_type="password", username=owner.username, password=PASSWORD,
    )  # fmt: skip
    assert refused.status_code in (400, 401)
    assert refused.json()["error"] == "unauthorized_client"


def test_with_the_password_grant_offered_only_the_owners_password_works(owner, other_developer, registered):
    resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
    resident.available_grant_types = [*resident.available_grant_types, "password"]
    resident.save()

    theirs = token(
        Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe",
        grant_type="password", username=other_developer.username, password=PASSWORD,
    )  # fmt: skip
    assert theirs.status_code == 400
    assert theirs.json()["error"] == "invalid_grant"

    mine = token(
        Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe",
        grant_type="password", username=owner.username, password=PASSWORD,
    )  # fmt: skip
    assert mine.status_code == 200, mine.content
    assert "refresh_token" in mine.json()
    script = Client(HTTP_AUTHORIZATION=f"Bearer {mine.json()['access_token']}")
    assert script.get(f"{API}/applications").status_code == 200


# -- registration's refusals ------------------------------------------------------------------------


def test_registration_without_credentials_is_401_with_a_basic_challenge():
    response = Client().post(REGISTER, {"clientName": "x"}, content_type="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] in (401, 900901)


def test_registration_with_a_wrong_password_is_401_and_creates_nothing(owner):
    response = register(Client(), owner.username, password="wrong")

    assert response.status_code == 401
    assert ApiClient.objects.count() == 0


def test_registration_for_another_owner_is_403_and_creates_nothing(owner, other_developer):
    response = register(Client(), owner.username, owner=other_developer.username)

    assert response.status_code == 403
    assert "owner" in response.json()["description"]
    assert ApiClient.objects.count() == 0 and OAuthClient.objects.filter(api_client=True).count() == 0


@pytest.mark.parametrize(
    "body, named",
    [
        ({"tokenScope": "apim:subscribe"}, "tokenScope"),
        ({"grantType": "authorization_code"}, "authorization_code"),
        ({"grantType": "implicit client_credentials"}, "implicit"),
        ({"clientName": ""}, "clientName"),
        ({"saasApp": "yes"}, "saasApp"),
        ({"callbackUrl": 7}, "callbackUrl"),
    ],
)
def test_registration_refuses_what_it_cannot_honour_naming_it(owner, body, named):
    response = register(Client(), owner.username, **body)

    assert response.status_code == 400
    assert named in response.json()["description"]
    assert ApiClient.objects.count() == 0


def test_the_sign_in_failure_limit_applies_to_registration(owner):
    for _ in range(10):
        assert register(Client(), owner.username, password="wrong").status_code == 401

    # The right password no longer helps from here, as on the sign-in page.
    limited = register(Client(), owner.username)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert ApiClient.objects.count() == 0


def test_registration_is_rate_limited_per_user_and_address(owner, settings):
    settings.PORTAL_RATELIMIT_OAUTH_CLIENT = "2/m"
    assert register(Client(), owner.username).status_code == 200
    assert register(Client(), owner.username).status_code == 200

    limited = register(Client(), owner.username)
    assert limited.status_code == 429
    assert "Retry-After" in limited


def test_a_new_password_ends_the_users_api_clients_and_their_tokens(owner, registered, api_token, bearer):
    value = api_token()
    owner.set_password("a brand new passphrase 42")
    owner.save()

    assert bearer(value).get(f"{API}/applications").status_code == 401
    assert not OAuthClient.objects.filter(client_id=registered["clientId"]).exists()
    assert (
        token(Client(), registered["clientId"], registered["clientSecret"], "apim:subscribe").status_code
        == 401
    )


def test_registration_is_audited_without_the_secret(owner, registered):
    from portal.models import AuditEvent

    event = AuditEvent.objects.get(action="api_client.register")
    assert event.actor == owner
    assert event.detail["client_id"] == registered["clientId"]
    assert registered["clientSecret"] not in str(event.detail)


def test_an_admin_deleting_an_api_client_ends_its_tokens(admin_user, registered, api_token, bearer):
    value = api_token()
    admin_client = Client()
    admin_client.force_login(admin_user)
    api_client = ApiClient.objects.get()
    listed = admin_client.get("/admin/apiclients/apiclient/")
    assert registered["clientId"] in listed.content.decode()

    response = admin_client.post(f"/admin/apiclients/apiclient/{api_client.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not OAuthClient.objects.filter(client_id=registered["clientId"]).exists()
    assert bearer(value).get(f"{API}/applications").status_code == 401


def test_an_api_client_token_walks_the_keys_and_secrets_flow_as_its_owner(owner, api_token, bearer):
    """create application → generate keys → generate token → + secret → list → revoke → delete, with
    a token carrying only apim:app_manage (the bodies' vocabulary is the API's, README "REST API")."""
    script = bearer(api_token("apim:app_manage"))

    def post(path, body):
        return script.post(f"{API}{path}", body, content_type="application/json")

    created = post("/applications", {"name": "Flow"})
    assert created.status_code == 201, created.content
    app = created.json()["applicationId"]
    keys = post(
        f"/applications/{app}/generate-keys",
        {
            "keyType": "PRODUCTION",
            "keyManager": "Resident",
            "grantTypesToBeSupported": ["client_credentials"],
        },
    )
    assert keys.status_code == 200, keys.content
    key, consumer_secret = keys.json()["keyMappingId"], keys.json()["consumerSecret"]
    issued = post(f"/applications/{app}/oauth-keys/{key}/generate-token", {"consumerSecret": consumer_secret})
    assert issued.status_code == 200, issued.content
    added = post(f"/applications/{app}/oauth-keys/{key}/generate-secret", {"additionalProperties": {}})
    assert added.status_code == 201, added.content
    listed = script.get(f"{API}/applications/{app}/oauth-keys/{key}/secrets")
    assert listed.status_code == 200 and listed.json()["count"] == 2
    revoked = post(
        f"/applications/{app}/oauth-keys/{key}/revoke-secret", {"secretId": added.json()["secretId"]}
    )
    assert revoked.status_code in (200, 204), revoked.content  # 204 today; the reference says 200
    deleted = script.delete(f"{API}/applications/{app}")
    assert deleted.status_code in (200, 204), deleted.content
    assert not Application.objects.filter(owner=owner).exists()


def test_registration_is_rate_limited_per_address_across_usernames(owner, other_developer, settings):
    settings.PORTAL_RATELIMIT_OAUTH_ADDRESS = "2/m"
    assert register(Client(), owner.username).status_code == 200
    assert register(Client(), other_developer.username, password="wrong").status_code == 401

    limited = register(Client(), other_developer.username)
    assert limited.status_code == 429
    assert ApiClient.objects.filter(owner=other_developer).count() == 0


def test_a_script_written_for_the_reference_runs_its_whole_flow_with_the_reference_login(owner):
    # Issue 12's "done when": the documented login, then the documented applications, keys,
    # secrets flow with the documented bodies, on one scoped OAuth token and nothing else.
    client = Client()
    answer = register(client, owner.username).json()
    issued = token(client, answer["clientId"], answer["clientSecret"], "apim:subscribe apim:app_manage")
    assert issued.status_code == 200, issued.content
    script = Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['access_token']}", enforce_csrf_checks=True)

    walk_the_documented_flow(script, client)
