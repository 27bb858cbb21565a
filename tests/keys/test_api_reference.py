"""The REST API answers a client written from the reference's devportal-api.yaml: its documented
bodies, names, values, formats and statuses (issue 12). One test per difference the issue lists,
and the documented flow end to end.

The login here is a personal API token (part A adds the reference's OAuth login); every request
body below is the reference's, as its document and examples give it.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from keys.models import ApplicationKey, ConsumerSecret
from portal.models import Application
from tests.keys.helpers import token_at_endpoint

API = "/api/am/devportal/v3"


def post(client, url, body=None):
    return client.post(f"{API}{url}", body or {}, content_type="application/json")


def put(client, url, body):
    return client.put(f"{API}{url}", body, content_type="application/json")


def get(client, url):
    return client.get(f"{API}{url}")


def generate(client, application, **body):
    return post(
        client,
        f"/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION", "grantTypesToBeSupported": ["client_credentials"], **body},
    )


def error_messages(response) -> list[str]:
    assert response.status_code == 400, response.content
    return [item["message"] for item in response.json()["error"]]


# -- the documented flow -------------------------------------------------------------------------------


def test_the_documented_flow_with_the_documented_bodies(owner_client, client, resident):
    walk_the_documented_flow(owner_client, client)


def walk_the_documented_flow(api, client):
    """Create an application, generate keys, a token and a secret, list, revoke and delete, with the
    reference's bodies, as ``api`` (a test client signed in one way or another)."""
    owner_client = api
    now_ms = int(time.time() * 1000)
    created = post(
        owner_client,
        "/applications",
        {
            "name": "CalculatorApp",
            "throttlingPolicy": "Unlimited",
            "description": "Sample calculator application",
            "tokenType": "JWT",
            "groups": [],
            "attributes": {},
            "subscriptionScopes": [],
        },
    )
    assert created.status_code == 201, created.content
    app = created.json()
    assert created["Location"].endswith(f"{API}/applications/{app['applicationId']}")
    assert abs(int(app["createdTime"]) - now_ms) < 60_000

    keys = post(
        owner_client,
        f"/applications/{app['applicationId']}/generate-keys",
        {
            "keyType": "PRODUCTION",
            "keyManager": "Resident Key Manager",
            "grantTypesToBeSupported": ["password", "client_credentials"][1:],
            "callbackUrl": "",
            "scopes": ["default"],
            "validityTime": "3600",
            "additionalProperties": {
                "application_access_token_expiry_time": "N/A",
                "user_access_token_expiry_time": "N/A",
                "refresh_token_expiry_time": "N/A",
                "id_token_expiry_time": "N/A",
                "pkceMandatory": "false",
                "pkceSupportPlain": "false",
                "bypassClientCredentials": "false",
            },
        },
    )
    assert keys.status_code == 200, keys.content
    key = keys.json()
    assert key["keyManager"] == "Resident Key Manager" and key["keyType"] == "PRODUCTION"
    assert key["token"]["validityTime"] == 3600
    assert key["additionalProperties"]["application_access_token_expiry_time"] == 3600  # N/A: the default
    assert [s["secretValue"] for s in key["consumerSecrets"]] == ["********"]

    token = post(
        owner_client,
        f"/applications/{app['applicationId']}/oauth-keys/{key['keyMappingId']}/generate-token",
        {
            "consumerSecret": key["consumerSecret"],
            "validityPeriod": 3600,
            "scopes": ["default"],
            "revokeToken": "",
            "grantType": "CLIENT_CREDENTIALS",
            "additionalProperties": {},
        },
    )
    assert token.status_code == 200, token.content
    assert token.json()["validityTime"] == 3600 and token.json()["tokenScopes"] == ["default"]

    base = f"/applications/{app['applicationId']}/oauth-keys/{key['keyMappingId']}"
    secret = post(
        owner_client,
        f"{base}/generate-secret",
        {"additionalProperties": {"expiresIn": 86400, "description": "pizza application secret"}},
    )
    assert secret.status_code == 201 and secret["Location"].endswith(f"{API}{base}/secrets")
    assert isinstance(secret.json()["additionalProperties"]["expiresAt"], int)
    assert token_at_endpoint(client, key["consumerKey"], secret.json()["secretValue"]).status_code == 200

    listed = get(owner_client, f"{base}/secrets").json()
    assert listed["count"] == 2 and {s["secretValue"] for s in listed["list"]} == {"********"}

    revoked = post(owner_client, f"{base}/revoke-secret", {"secretId": secret.json()["secretId"]})
    assert revoked.status_code == 204
    deleted = owner_client.delete(f"{API}/applications/{app['applicationId']}")
    assert deleted.status_code == 200
    assert not Application.objects.exists()


# -- names and vocabulary --------------------------------------------------------------------------


def test_the_old_key_manager_name_is_still_accepted(owner_client, application, resident):
    response = generate(owner_client, application, keyManager="Resident")
    assert response.status_code == 200 and response.json()["keyManager"] == "Resident Key Manager"


def test_key_managers_describe_their_application_configuration_and_secrets_mode(owner_client, resident):
    resident.secret_count = 3
    resident.save()
    km = get(owner_client, "/key-managers").json()["list"][0]
    assert (km["name"], km["type"]) == ("Resident Key Manager", "default")
    assert km["additionalProperties"] == {"enable_multiple_client_secrets": True, "client_secret_count": 3}
    fields = {item["name"]: item for item in km["applicationConfiguration"]}
    assert set(fields) >= {
        "application_access_token_expiry_time",
        "id_token_expiry_time",
        "pkceMandatory",
        "pkceSupportPlain",
        "bypassClientCredentials",
        "client_secret_description",
        "client_secret_expires_in",
    }
    assert fields["application_access_token_expiry_time"]["default"] == "N/A"
    assert fields["pkceMandatory"]["type"] == "checkbox" and fields["pkceMandatory"]["default"] is False
    assert all({"label", "type", "required", "default", "values"} <= set(item) for item in fields.values())


def test_single_secret_mode_is_visible_and_has_no_first_secret_fields(owner_client, single_secret_resident):
    km = get(owner_client, "/key-managers").json()["list"][0]
    assert km["additionalProperties"]["enable_multiple_client_secrets"] is False
    assert "client_secret_expires_in" not in {item["name"] for item in km["applicationConfiguration"]}


def test_pkce_support_plain_takes_the_reference_name_and_the_old_one(owner_client, application, resident):
    body = generate(
        owner_client,
        application,
        grantTypesToBeSupported=["authorization_code"],
        callbackUrl="https://app.example/cb",
        additionalProperties={"pkceMandatory": "true", "pkceSupportPlain": "true"},
    ).json()
    assert body["additionalProperties"]["pkceSupportPlain"] is True
    assert "pkceSupportPlainText" not in body["additionalProperties"]
    key = ApplicationKey.objects.get()
    updated = put(
        owner_client,
        f"/applications/{application.pk}/oauth-keys/{key.pk}",
        {
            "supportedGrantTypes": ["authorization_code"],
            "callbackUrl": "https://app.example/cb",
            "additionalProperties": {"pkceMandatory": True, "pkceSupportPlainText": False},
        },
    )
    assert updated.status_code == 200, updated.content
    key.refresh_from_db()
    assert key.pkce_mandatory and not key.pkce_support_plain


def test_the_first_secret_takes_the_reference_names(owner_client, application, resident):
    generate(
        owner_client,
        application,
        additionalProperties={"client_secret_description": "CI", "client_secret_expires_in": 600},
    )
    secret = ConsumerSecret.objects.get()
    assert secret.description == "CI"
    assert timedelta(minutes=9) < secret.expires_at - timezone.now() <= timedelta(minutes=10)


def test_an_unknown_additional_property_is_a_400_naming_what_is_supported(
    owner_client, application, resident
):
    response = generate(owner_client, application, additionalProperties={"pkceSupportPlainTxt": "true"})
    body = response.json()
    assert response.status_code == 400 and body["code"] == 900970
    assert "Unknown additionalProperties: pkceSupportPlainTxt" in body["description"]
    assert "pkceSupportPlain" in body["description"]
    assert not ApplicationKey.objects.exists()


def test_first_secret_properties_in_single_secret_mode_are_refused(
    owner_client, application, single_secret_resident
):
    response = generate(owner_client, application, additionalProperties={"client_secret_expires_in": 600})
    assert response.status_code == 400
    assert "need multiple consumer secrets" in response.json()["description"]


@pytest.mark.parametrize("grant_type", ["CLIENT_CREDENTIALS", "client_credentials"])
def test_generate_token_takes_the_documented_grant_type(owner_client, application, resident, grant_type):
    key = generate(owner_client, application).json()
    response = post(
        owner_client,
        f"/applications/{application.pk}/oauth-keys/{key['keyMappingId']}/generate-token",
        {"consumerSecret": key["consumerSecret"], "grantType": grant_type},
    )
    assert response.status_code == 200, response.content


def test_token_exchange_is_refused_as_unsupported(owner_client, application, resident):
    key = generate(owner_client, application).json()
    response = post(
        owner_client,
        f"/applications/{application.pk}/oauth-keys/{key['keyMappingId']}/generate-token",
        {"consumerSecret": key["consumerSecret"], "grantType": "TOKEN_EXCHANGE"},
    )
    assert any("Token exchange is not supported" in m for m in error_messages(response))


# -- nothing silently ignored -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/applications", {"name": "A", "colour": "red"}, "colour"),
        ("/applications/{app}/generate-keys", {"keyType": "PRODUCTION", "keyManagr": "x"}, "keyManagr"),
        (
            "/applications/{app}/map-keys",
            {"keyType": "PRODUCTION", "consumerKey": "k", "secret": "s"},
            "secret",
        ),
    ],
)
def test_an_unknown_field_is_a_400_naming_it(owner_client, application, resident, url, body, field):
    response = post(owner_client, url.format(app=application.pk), body)
    messages = error_messages(response)
    assert any(m.startswith(f"{field}: Unknown field. Supported fields:") for m in messages), messages


def test_fields_for_features_we_do_not_have_are_accepted_and_ignored(owner_client, application):
    body = put(
        owner_client,
        f"/applications/{application.pk}",
        {"name": "Weather App", "groups": ["team"], "subscriptionScopes": [], "subscriptionCount": 4},
    )
    assert body.status_code == 200, body.content
    assert body.json()["groups"] == [] and body.json()["subscriptionCount"] == 0


# -- formats and statuses ---------------------------------------------------------------------------


def test_keys_carry_their_masked_secrets(owner_client, application, resident):
    generate(owner_client, application)
    listed = get(owner_client, f"/applications/{application.pk}/oauth-keys").json()
    (secret,) = listed["list"][0]["consumerSecrets"]
    assert secret["secretValue"] == "********"
    assert secret["secretId"] == str(ConsumerSecret.objects.get().pk)
    assert isinstance(secret["additionalProperties"]["expiresAt"], int)
    assert secret["createdTime"].isdigit()


@pytest.mark.parametrize("sort_by", ["throttlingPolicy", "status", "name", "createdTime"])
def test_the_documented_sort_orders(owner_client, application, sort_by):
    response = get(owner_client, f"/applications?sortBy={sort_by}&sortOrder=desc")
    assert response.status_code == 200 and response.json()["count"] == 1


# -- the deprecated keys/{keyType} operations ----------------------------------------------------------


def test_the_deprecated_key_type_operations_are_aliases(owner_client, application, resident):
    key = generate(owner_client, application).json()
    by_type = f"/applications/{application.pk}/keys/PRODUCTION"

    assert get(owner_client, f"/applications/{application.pk}/keys").json()["count"] == 1
    assert get(owner_client, by_type).json()["keyMappingId"] == key["keyMappingId"]
    token = post(owner_client, f"{by_type}/generate-token", {"consumerSecret": key["consumerSecret"]})
    assert token.status_code == 200, token.content
    updated = put(owner_client, by_type, {"supportedGrantTypes": ["client_credentials", "refresh_token"]})
    assert updated.status_code == 200 and updated.json()["supportedGrantTypes"] == [
        "client_credentials",
        "refresh_token",
    ]
    missing = get(owner_client, f"/applications/{application.pk}/keys/SANDBOX")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


def test_the_deprecated_operations_keep_owners_apart(other_client, application, resident, owner_client):
    generate(owner_client, application)
    response = get(other_client, f"/applications/{application.pk}/keys/PRODUCTION")
    assert response.status_code == 404


def test_an_unknown_scope_in_generate_keys_is_a_400(owner_client, application, resident):
    response = generate(owner_client, application, scopes=["no-such-scope"])
    assert response.status_code == 400, response.content
    assert "no-such-scope" in response.json()["description"]
    # Refused before any key was kept: the same request without the scope then works.
    assert generate(owner_client, application).status_code == 200
