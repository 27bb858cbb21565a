"""REST: generate-secret, secrets, revoke-secret — shapes, defaults, errors, isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from keymanagers.models import ClientSecret
from keys.models import ApplicationKey, ConsumerSecret
from keys.secrets import services
from portal import crypto
from portal.applications.services import api_token_create
from tests.secrets.conftest import api_url


def post(client, path, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def parse_iso(value: int) -> datetime:
    """``expiresAt`` as the reference answers it: integer epoch seconds."""
    assert isinstance(value, int), value
    return datetime.fromtimestamp(value, tz=UTC)


def test_generate_secret_answers_201_with_the_value_once(key, owner_client):
    response = post(
        owner_client,
        api_url(key, "generate-secret"),
        {"additionalProperties": {"description": "CI", "expiresIn": 3600}},
    )

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"secretId", "secretValue", "additionalProperties"}
    assert set(body["additionalProperties"]) == {"description", "expiresAt"}
    assert body["additionalProperties"]["description"] == "CI"
    expires_at = parse_iso(body["additionalProperties"]["expiresAt"])
    # 201 with a Location, as the reference answers: the key's secrets, where the new one is.
    assert response["Location"] == f"http://testserver{api_url(key, 'secrets')}"
    assert timedelta(minutes=59) < expires_at - timezone.now() <= timedelta(hours=1)
    secret = ConsumerSecret.objects.get(pk=body["secretId"])
    assert secret.secret_hash == crypto.keyed_hash(body["secretValue"])
    assert ClientSecret.objects.filter(pk=secret.remote_id).exists()


def test_without_expires_in_a_secret_lasts_90_days_and_negative_means_never(key, owner_client):
    default = post(owner_client, api_url(key, "generate-secret")).json()
    never = post(
        owner_client, api_url(key, "generate-secret"), {"additionalProperties": {"expiresIn": -1}}
    ).json()

    assert (parse_iso(default["additionalProperties"]["expiresAt"]) - timezone.now()).days == 89
    assert default["additionalProperties"]["description"] == ""
    assert never["additionalProperties"]["expiresAt"] is None
    assert ConsumerSecret.objects.get(pk=never["secretId"]).expires_at is None


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"expiresIn": 0}, "additionalProperties.expiresIn"),
        ({"expiresIn": 3651 * 86400}, "additionalProperties.expiresIn"),
        ({"expiresIn": "soon"}, "additionalProperties.expiresIn"),
        ({"description": "x" * 1025}, "additionalProperties.description"),
    ],
)
def test_bad_input_is_400_naming_the_field(key, owner_client, props, field):
    response = post(owner_client, api_url(key, "generate-secret"), {"additionalProperties": props})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["message"]
    assert body["description"].startswith(field + ":")
    assert key.secrets.count() == 1


def test_with_multiple_secrets_disabled_every_endpoint_is_a_clear_400(key, owner_client, resident):
    resident.multiple_secrets_enabled = False
    resident.save()
    for response in (
        post(owner_client, api_url(key, "generate-secret")),
        owner_client.get(api_url(key, "secrets")),
        post(owner_client, api_url(key, "revoke-secret"), {"secretId": str(key.secrets.get().pk)}),
    ):
        assert response.status_code == 400
        assert response.json()["message"] == "Multiple consumer secrets are not enabled"
        assert "one consumer secret per key" in response.json()["description"]
    assert key.secrets.count() == 1


def test_the_limit_is_409(key, owner_client, resident):
    resident.secret_count = 1
    resident.save()
    response = post(owner_client, api_url(key, "generate-secret"))
    assert response.status_code == 409
    assert response.json()["message"] == "Maximum number of consumer secrets reached"
    assert key.secrets.count() == 1


def test_the_list_has_every_secret_and_no_value(key, owner, owner_client):
    created = services.secret_create(key=key, description="never", expires_at=None, actor=owner)
    made, value = created.secret, created.value

    response = owner_client.get(api_url(key, "secrets"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["additionalProperties"]["description"] for item in body["list"]] == ["never", "first"]
    assert body["list"][0] == {
        "secretId": str(made.pk),
        "secretValue": "********",  # masked, as the reference lists secrets
        "additionalProperties": {"description": "never", "expiresAt": None},
        "createdTime": body["list"][0]["createdTime"],
        "lastUsedTime": None,  # issue 13: never authenticated yet
    }
    assert value not in response.content.decode()
    assert made.secret_hash not in response.content.decode()


def test_revoke_secret_deletes_it_and_answers_204(key, owner, owner_client):
    made = services.secret_create(key=key, actor=owner).secret
    response = post(owner_client, api_url(key, "revoke-secret"), {"secretId": str(made.pk)})
    assert response.status_code == 204
    assert response.content == b""
    assert not ConsumerSecret.objects.filter(pk=made.pk).exists()
    assert not ClientSecret.objects.filter(pk=made.remote_id).exists()


def test_revoking_the_last_valid_secret_is_409(key, owner_client):
    only = key.secrets.get()
    response = post(owner_client, api_url(key, "revoke-secret"), {"secretId": str(only.pk)})
    assert response.status_code == 409
    assert response.json()["description"] == (
        "A key must keep at least one valid secret. Create a new secret before deleting this one."
    )
    assert ConsumerSecret.objects.filter(pk=only.pk).exists()


def test_revoke_needs_a_secret_id_of_this_key(key, owner_client, application, resident):
    assert post(owner_client, api_url(key, "revoke-secret"), {}).status_code == 400
    # An id that is no secret of this key is a 404, a non-UUID too (the reference's ids are not UUIDs).
    bad = post(owner_client, api_url(key, "revoke-secret"), {"secretId": "nope"})
    assert bad.status_code == 404 and bad.json()["code"] == 404
    unknown = post(owner_client, api_url(key, "revoke-secret"), {"secretId": str(key.pk)})
    assert unknown.status_code == 404 and unknown.json()["code"] == 404


@pytest.mark.parametrize(
    ("method", "suffix"), [("post", "generate-secret"), ("get", "secrets"), ("post", "revoke-secret")]
)
def test_another_developers_key_is_404(key, other_client, method, suffix):
    body = {"secretId": str(key.secrets.get().pk)}
    response = (
        post(other_client, api_url(key, suffix), body)
        if method == "post"
        else other_client.get(api_url(key, suffix))
    )
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert key.secrets.count() == 1


def test_a_key_of_another_application_of_the_same_owner_is_404(key, owner, owner_client):
    from portal.models import Application

    elsewhere = Application.objects.create(owner=owner, name="Other")
    path = f"/api/am/devportal/v3/applications/{elsewhere.pk}/oauth-keys/{key.pk}/secrets"
    assert owner_client.get(path).status_code == 404


def test_anonymous_callers_get_401(key, anonymous_client):
    response = post(anonymous_client, api_url(key, "generate-secret"))
    assert response.status_code == 401
    assert key.secrets.count() == 1


def test_session_writes_need_csrf(key, csrf_owner_client):
    response = post(csrf_owner_client, api_url(key, "generate-secret"))
    assert response.status_code == 403
    assert key.secrets.count() == 1


def test_a_personal_api_token_works(key, owner):
    _, token = api_token_create(user=owner, name="ci", days=30)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = post(
        client, api_url(key, "generate-secret"), {"additionalProperties": {"description": "from CI"}}
    )
    assert response.status_code == 201
    assert key.secrets.filter(description="from CI").exists()


def test_a_key_manager_failure_is_502_naming_it(failing_key_manager, application, owner_client):
    key = ApplicationKey.objects.create(
        application=application, key_type="PRODUCTION", key_manager=failing_key_manager, consumer_key="abc"
    )
    ConsumerSecret.objects.create(key=key, secret_hash=crypto.keyed_hash("a"), remote_id="r1")
    response = post(owner_client, api_url(key, "generate-secret"))
    assert response.status_code == 502
    assert response.json()["description"] == "Flaky KM: create secret failed: connection refused"
    assert key.secrets.count() == 1


def test_the_openapi_document_describes_the_secrets_endpoints(owner_client):
    schema = owner_client.get("/api/am/devportal/v3/openapi.json").json()
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
    }
    assert {"generateConsumerSecret", "getConsumerSecrets", "revokeConsumerSecret"} <= set(operations)
    generated = operations["generateConsumerSecret"]["responses"]["201"]["content"]["application/json"][
        "schema"
    ]
    name = generated["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][name]["properties"]) == {
        "secretId",
        "secretValue",
        "additionalProperties",
    }
    assert set(operations["revokeConsumerSecret"]["responses"]) >= {"204", "404", "409"}
