"""REST API for keys: /api/am/devportal/v3/applications/{id}/generate-keys, oauth-keys, key-managers, scopes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keymanagers.models import KeyManager, OAuthClient
from keys.models import ApplicationKey, ConsumerSecret, Scope
from portal import crypto
from portal.models import AuditEvent
from tests.keys.helpers import FakeAdapter, token_at_endpoint

API = "/api/am/devportal/v3"


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def put(client, url, body):
    return client.put(url, body, content_type="application/json")


def gen_url(application):
    return f"{API}/applications/{application.pk}/generate-keys"


def key_api(key, suffix=""):
    return f"{API}/applications/{key.application_id}/oauth-keys/{key.pk}{suffix}"


def generate(client, application, **body):
    return post(client, gen_url(application), {"keyType": "PRODUCTION", **body})


def assert_error(response, status, *phrases, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == (code or status)
    assert body["message"]
    for phrase in phrases:
        assert phrase in body["description"], body
    return body


# -- generate ----------------------------------------------------------------------------------------


def test_generate_keys_returns_the_key_the_secret_and_a_token(owner_client, client, application, resident):
    response = generate(
        owner_client,
        application,
        grantTypesToBeSupported=["client_credentials"],
        scopes=["default"],
        validityTime=900,
        additionalProperties={"description": "ci", "expiresIn": 86400, "pkceMandatory": "true"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    key = ApplicationKey.objects.get()
    assert body["keyMappingId"] == str(key.pk)
    assert body["keyManager"] == "Resident Key Manager"
    assert body["consumerKey"] == key.consumer_key
    assert body["supportedGrantTypes"] == ["client_credentials"]
    assert body["keyState"] == "COMPLETED" and body["keyType"] == "PRODUCTION" and body["mode"] == "CREATED"
    assert body["groupId"] is None and body["callbackUrl"] is None
    assert body["token"]["tokenScopes"] == ["default"] and body["token"]["validityTime"] == 900
    assert body["token"]["accessToken"]
    assert body["additionalProperties"]["pkceMandatory"] is True
    assert body["additionalProperties"]["application_access_token_expiry_time"] == 3600
    secret = ConsumerSecret.objects.get()
    assert secret.description == "ci"
    assert timedelta(hours=23) < secret.expires_at - timezone.now() <= timedelta(days=1)
    assert token_at_endpoint(client, body["consumerKey"], body["consumerSecret"]).status_code == 200


def test_generate_keys_defaults(owner_client, application, resident):
    body = generate(owner_client, application, keyType="SANDBOX").json()
    assert body["keyManager"] == "Resident Key Manager" and body["keyType"] == "SANDBOX"
    assert body["supportedGrantTypes"] == ["client_credentials", "refresh_token"]
    secret = ConsumerSecret.objects.get()
    assert timedelta(days=89) < secret.expires_at - timezone.now() <= timedelta(days=90)


def test_generate_keys_with_a_first_secret_that_never_expires(owner_client, application, resident):
    generate(owner_client, application, additionalProperties={"expiresIn": -1})
    assert ConsumerSecret.objects.get().expires_at is None


def test_generate_keys_twice_is_a_conflict(owner_client, application, resident):
    generate(owner_client, application)
    # The reference's own code for it: KEY_MAPPING_ALREADY_EXIST.
    assert_error(generate(owner_client, application), 409, "Keys already exist", code=901409)
    assert OAuthClient.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({"keyType": "STAGING"}, "keyType", "not a valid choice"),
        ({"keyManager": "nope"}, "keyManager", "no enabled key manager named “nope”"),
        ({"grantTypesToBeSupported": []}, "grantTypesToBeSupported", "Select at least one grant type"),
        ({"grantTypesToBeSupported": ["password"]}, "grantTypesToBeSupported", "not available"),
        ({"grantTypesToBeSupported": ["authorization_code"]}, "callbackUrl", "A callback URL is required"),
        (
            {"grantTypesToBeSupported": ["authorization_code"], "callbackUrl": "javascript:alert(1)"},
            "callbackUrl",
            "not an absolute",
        ),
        ({"scopes": ["bad scope\\"]}, "scopes", "not a valid scope name"),
        ({"validityTime": "abc"}, "validityTime", "valid integer"),
        ({"validityTime": 0}, "validityTime", "other than 0"),
        (
            {"additionalProperties": {"refresh_token_expiry_time": "x"}},
            "additionalProperties.refresh_token_expiry_time",
            "whole number",
        ),
        (
            {"additionalProperties": {"pkceSupportPlainText": "yes"}},
            "additionalProperties.pkceSupportPlain",  # the reference's name, whichever was sent
            "true or false",
        ),
        (
            {"additionalProperties": {"expiresIn": 0}},
            "additionalProperties.client_secret_expires_in",
            "other than 0",
        ),
        (
            {"additionalProperties": {"client_secret_description": "x" * 1025}},
            "additionalProperties.client_secret_description",
            "1024",
        ),
        ({"additionalProperties": "nope"}, "additionalProperties", "dictionary"),
    ],
)
def test_generate_keys_bad_input_is_a_400_naming_the_field(
    owner_client, application, resident, body, field, phrase
):
    response = generate(owner_client, application, **body)

    body = assert_error(response, 400)
    messages = [item["message"] for item in body["error"]]
    assert any(m.startswith(f"{field}: ") and phrase in m for m in messages), messages
    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.exists()


def test_a_key_manager_failure_is_a_502_naming_it_and_the_step(owner_client, application, fake_km):
    FakeAdapter.fail["register client"] = "connection timed out"
    response = generate(owner_client, application, keyManager="fake")
    assert_error(response, 502, "Fake KM: register client failed: connection timed out")
    assert not ApplicationKey.objects.exists()


def test_partially_created_keys_are_reported_and_can_be_cleaned_up(owner_client, application, fake_km):
    FakeAdapter.fail.update({"generate token": "timed out", "delete client": "connection refused"})
    assert_error(generate(owner_client, application, keyManager="fake"), 502, "Keys are partially created")
    key = ApplicationKey.objects.get()
    listed = owner_client.get(f"{API}/applications/{application.pk}/oauth-keys").json()
    assert listed["list"][0]["keyState"] == "PARTIALLY_CREATED"

    FakeAdapter.fail.clear()
    assert post(owner_client, key_api(key, "/clean-up")).status_code == 200
    assert not ApplicationKey.objects.exists()
    assert not FakeAdapter.clients


def test_clean_up_of_complete_keys_is_refused(owner_client, application, resident):
    generate(owner_client, application)
    assert_error(
        post(owner_client, key_api(ApplicationKey.objects.get(), "/clean-up")), 400, "nothing to clean up"
    )


# -- map ------------------------------------------------------------------------------------------


def test_map_keys(owner_client, application, fake_km):
    response = post(
        owner_client,
        f"{API}/applications/{application.pk}/map-keys",
        {
            "consumerKey": "existing",
            "consumerSecret": "right-secret",
            "keyManager": "fake",
            "keyType": "SANDBOX",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "MAPPED" and body["consumerKey"] == "existing" and body["consumerSecret"] is None


def test_map_keys_refused_where_not_enabled(owner_client, application, resident):
    response = post(
        owner_client,
        f"{API}/applications/{application.pk}/map-keys",
        {"consumerKey": "c", "consumerSecret": "s", "keyType": "SANDBOX"},
    )
    assert_error(response, 400, "does not allow providing existing OAuth keys")
    assert not ApplicationKey.objects.exists()


def test_map_keys_bad_input(owner_client, application, fake_km):
    response = post(owner_client, f"{API}/applications/{application.pk}/map-keys", {"keyManager": "fake"})
    messages = [item["message"] for item in assert_error(response, 400)["error"]]
    # consumerSecret is optional in the reference's body (the service asks for it, see below).
    assert {m.split(":")[0] for m in messages} == {"consumerKey", "keyType"}


# -- read, update, delete ---------------------------------------------------------------------------


def test_list_and_get_keys_never_show_a_secret(owner_client, application, single_secret_resident):
    secret = generate(owner_client, application).json()["consumerSecret"]
    generate(owner_client, application, keyType="SANDBOX")
    key = ApplicationKey.objects.get(key_type="PRODUCTION")

    listed = owner_client.get(f"{API}/applications/{application.pk}/oauth-keys")
    one = owner_client.get(key_api(key))

    assert listed.status_code == 200 and one.status_code == 200
    assert listed.json()["count"] == 2
    assert {k["keyType"] for k in listed.json()["list"]} == {"PRODUCTION", "SANDBOX"}
    assert one.json()["consumerKey"] == key.consumer_key
    assert one.json()["consumerSecret"] is None and one.json()["token"] is None
    assert secret not in listed.content.decode() and secret not in one.content.decode()


def test_the_key_list_runs_a_constant_number_of_queries(owner_client, application, resident):
    generate(owner_client, application)
    url = f"{API}/applications/{application.pk}/oauth-keys"
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    generate(owner_client, application, keyType="SANDBOX")
    for i in range(5):
        ConsumerSecret.objects.create(
            key=ApplicationKey.objects.first(), secret_hash=crypto.keyed_hash(str(i))
        )
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_update_keys(owner_client, application, resident):
    generate(owner_client, application)
    key = ApplicationKey.objects.get()

    response = put(
        owner_client,
        key_api(key),
        {
            "grantTypesToBeSupported": ["client_credentials", "authorization_code"],
            "callbackUrl": "https://app.example/cb",
            "additionalProperties": {
                "application_access_token_expiry_time": -1,
                "bypassClientCredentials": False,
            },
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["callbackUrl"] == "https://app.example/cb"
    key.refresh_from_db()
    assert key.application_access_token_expiry_time == -1
    assert OAuthClient.objects.get().application_token_lifetime == -1


def test_update_keys_bad_input_changes_nothing(owner_client, application, resident):
    generate(owner_client, application)
    key = ApplicationKey.objects.get()
    response = put(owner_client, key_api(key), {"grantTypesToBeSupported": ["implicit"]})
    assert_error(response, 400, "grantTypesToBeSupported")
    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials", "refresh_token"]


def test_delete_keys(owner_client, client, application, resident):
    body = generate(owner_client, application).json()
    key = ApplicationKey.objects.get()
    assert owner_client.delete(key_api(key)).status_code == 200
    assert not ApplicationKey.objects.exists()
    assert token_at_endpoint(client, body["consumerKey"], body["consumerSecret"]).status_code == 401
    assert owner_client.get(key_api(key)).status_code == 404


# -- secrets and tokens ----------------------------------------------------------------------------


def test_regenerate_secret(owner_client, client, application, single_secret_resident):
    old = generate(owner_client, application).json()["consumerSecret"]
    key = ApplicationKey.objects.get()

    response = post(owner_client, key_api(key, "/regenerate-secret"))

    assert response.status_code == 200
    body = response.json()
    assert body["consumerKey"] == key.consumer_key and body["consumerSecret"] != old
    assert token_at_endpoint(client, key.consumer_key, old).status_code == 401
    assert token_at_endpoint(client, key.consumer_key, body["consumerSecret"]).status_code == 200


def test_regenerate_secret_is_refused_in_multiple_secret_mode(owner_client, application, resident):
    generate(owner_client, application)
    assert_error(
        post(owner_client, key_api(ApplicationKey.objects.get(), "/regenerate-secret")),
        400,
        "generate-secret",
    )


def test_generate_token(owner_client, client, application, resident):
    secret = generate(owner_client, application).json()["consumerSecret"]
    key = ApplicationKey.objects.get()

    response = post(
        owner_client,
        key_api(key, "/generate-token"),
        {"consumerSecret": secret, "validityPeriod": 120, "scopes": ["default"]},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tokenScopes"] == ["default"] and body["validityTime"] == 120
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}").status_code == 200


def test_generate_token_revoking_earlier_tokens(owner_client, client, application, resident):
    generated = generate(owner_client, application).json()
    key = ApplicationKey.objects.get()
    first = generated["token"]["accessToken"]
    second = post(
        owner_client,
        key_api(key, "/generate-token"),
        {"consumerSecret": generated["consumerSecret"], "revokeToken": True},
    ).json()["accessToken"]
    third = post(
        owner_client,
        key_api(key, "/generate-token"),
        {"consumerSecret": generated["consumerSecret"], "revokeToken": second},
    ).json()
    assert third["validityTime"] == 3600
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 401
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {third['accessToken']}").status_code == 200


def test_generate_token_that_never_expires(owner_client, application, resident):
    secret = generate(owner_client, application).json()["consumerSecret"]
    body = post(
        owner_client,
        key_api(ApplicationKey.objects.get(), "/generate-token"),
        {"consumerSecret": secret, "validityPeriod": -1},
    ).json()
    assert body["validityTime"] == -1


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        ({}, 400, "consumerSecret: Enter one of this key's consumer secrets"),
        ({"consumerSecret": "dps_wrong"}, 400, "not a valid consumer secret"),
        ({"consumerSecret": "{secret}", "grantType": "password"}, 400, "grantType: Only client_credentials"),
        ({"consumerSecret": "{secret}", "validityPeriod": 0}, 400, "validityPeriod"),
        (
            {"consumerSecret": "{secret}", "scopes": ["unknown-scope"]},
            400,
            "invalid_scope: unknown scope(s)",
        ),
        ({"consumerSecret": "{secret}", "revokeToken": 5}, 400, "revokeToken"),
    ],
)
def test_generate_token_errors(owner_client, application, resident, body, status, phrase):
    secret = generate(owner_client, application).json()["consumerSecret"]
    body = {k: (v.format(secret=secret) if isinstance(v, str) else v) for k, v in body.items()}
    response = post(owner_client, key_api(ApplicationKey.objects.get(), "/generate-token"), body)
    assert_error(response, status, phrase)


# -- key managers and scopes ------------------------------------------------------------------------


def test_key_managers_lists_enabled_ones_with_endpoints(owner_client, resident, settings):
    KeyManager.objects.create(name="off", display_name="Off", type="okta", enabled=False)
    response = owner_client.get(f"{API}/key-managers")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    km = body["list"][0]
    assert km["name"] == "Resident Key Manager" and km["type"] == "default" and km["enabled"] is True
    assert km["availableGrantTypes"] == ["client_credentials", "refresh_token", "authorization_code"]
    assert km["tokenEndpoint"] == f"{settings.SITE_URL}/oauth2/token"
    assert (
        km["enableTokenGeneration"] and km["enableOAuthAppCreation"] and not km["enableMapOAuthConsumerApps"]
    )
    assert isinstance(km["applicationConfiguration"], list)
    assert set(km) >= {"id", "displayName", "description", "revokeEndpoint", "userInfoEndpoint"}


def test_scopes_list(owner_client, db):
    Scope.objects.create(name="weather:read", display_name="Read weather", description="Forecasts")
    body = owner_client.get(f"{API}/scopes").json()
    assert body["count"] == 2
    assert {"name": "weather:read", "displayName": "Read weather", "description": "Forecasts"} in body["list"]


# -- access control ----------------------------------------------------------------------------------


def _endpoints(application, key):
    return [
        ("post", gen_url(application)),
        ("post", f"{API}/applications/{application.pk}/map-keys"),
        ("get", f"{API}/applications/{application.pk}/oauth-keys"),
        ("get", key_api(key)),
        ("put", key_api(key)),
        ("delete", key_api(key)),
        ("post", key_api(key, "/regenerate-secret")),
        ("post", key_api(key, "/clean-up")),
        ("post", key_api(key, "/generate-token")),
    ]


def _call(client, method, url):
    if method in ("post", "put"):
        return getattr(client, method)(url, {"keyType": "SANDBOX"}, content_type="application/json")
    return getattr(client, method)(url)


def test_another_developer_gets_json_404s_and_changes_nothing(
    other_client, owner_client, application, resident
):
    generate(owner_client, application)
    key = ApplicationKey.objects.get()
    for method, url in _endpoints(application, key):
        response = _call(other_client, method, url)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == 404
    assert ApplicationKey.objects.count() == 1 and OAuthClient.objects.count() == 1


def test_an_unknown_key_is_a_404(owner_client, application, resident):
    response = owner_client.get(
        f"{API}/applications/{application.pk}/oauth-keys/00000000-0000-0000-0000-000000000000"
    )
    assert_error(response, 404)


def test_anonymous_callers_get_401(anonymous_client, owner_client, application, resident):
    generate(owner_client, application)
    key = ApplicationKey.objects.get()
    for method, url in [
        *_endpoints(application, key),
        ("get", f"{API}/key-managers"),
        ("get", f"{API}/scopes"),
    ]:
        response = _call(anonymous_client, method, url)
        assert response.status_code == 401, (method, url)
    assert ApplicationKey.objects.count() == 1


def test_session_writes_need_the_csrf_token(csrf_owner_client, application, resident):
    response = post(csrf_owner_client, gen_url(application), {"keyType": "PRODUCTION"})
    assert response.status_code == 403
    assert not ApplicationKey.objects.exists()


def test_secrets_and_tokens_never_reach_the_audit_log(owner_client, application, single_secret_resident):
    body = generate(owner_client, application).json()
    key = ApplicationKey.objects.get()
    new = post(owner_client, key_api(key, "/regenerate-secret")).json()["consumerSecret"]
    token = post(owner_client, key_api(key, "/generate-token"), {}).json()["accessToken"]
    dumped = repr(list(AuditEvent.objects.values()))
    for value in (body["consumerSecret"], body["token"]["accessToken"], new, token):
        assert value not in dumped
    assert AuditEvent.objects.filter(action__startswith="keys.").count() == 3
