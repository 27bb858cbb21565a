"""One rule for a secret's ``expiresIn`` in the REST API, in ``generate-keys`` (the first secret)
and ``generate-secret`` alike: absent 90 days, negative never, 0 refused, at most 3650 days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from keys.models import ConsumerSecret
from keys.secrets import rules
from tests.secrets.conftest import api_url

API = "/api/am/devportal/v3"
DAY = 86400


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def generate_keys(client, application, key_type, expires_in):
    props = {} if expires_in is None else {"expiresIn": expires_in}
    return post(
        client,
        f"{API}/applications/{application.pk}/generate-keys",
        {
            "keyType": key_type,
            "grantTypesToBeSupported": ["client_credentials"],
            "additionalProperties": props,
        },
    )


def generate_secret(client, key, expires_in):
    props = {} if expires_in is None else {"expiresIn": expires_in}
    return post(client, api_url(key, "generate-secret"), {"additionalProperties": props})


def expiry_of(response, endpoint) -> datetime | None:
    body = response.json()
    if endpoint == "generate-secret":
        return ConsumerSecret.objects.get(pk=body["secretId"]).expires_at
    return ConsumerSecret.objects.get(key_id=body["keyMappingId"]).expires_at


@pytest.fixture(params=["generate-keys", "generate-secret"])
def create(request, owner_client, application, resident, key):
    """Creates a secret through one of the two endpoints (once per test)."""
    endpoint = request.param

    def create(expires_in):
        if endpoint == "generate-secret":
            return generate_secret(owner_client, key, expires_in), endpoint
        key.delete()  # the ``key`` fixture's Production keys: generate-keys makes them anew
        return generate_keys(owner_client, application, "PRODUCTION", expires_in), endpoint

    return create


@pytest.mark.parametrize(
    ("expires_in", "days"),
    [(None, 90), (3600, 1 / 24), (3650 * DAY, 3650), ("7200", 2 / 24)],
)
def test_a_lifetime_in_range_sets_the_expiry(create, expires_in, days):
    before = timezone.now()
    response, endpoint = create(expires_in)

    assert response.status_code in (200, 201), response.content
    expires_at = expiry_of(response, endpoint)
    expected = before + timedelta(days=days)
    assert expected - timedelta(seconds=5) <= expires_at <= expected + timedelta(seconds=30)


def test_a_negative_lifetime_never_expires(create):
    response, endpoint = create(-1)
    assert response.status_code in (200, 201), response.content
    assert expiry_of(response, endpoint) is None


@pytest.mark.parametrize("expires_in", [0, 3650 * DAY + 1, 2**31 - 1, "soon", True, 1.5])
def test_out_of_range_or_not_a_number_is_refused_with_the_rule(create, expires_in, application):
    count = ConsumerSecret.objects.count()
    response, _endpoint = create(expires_in)

    assert response.status_code == 400, response.content
    messages = [item["message"] for item in response.json()["error"]]
    # generate-keys names the first secret's lifetime by the reference's name, whichever was sent.
    assert any(
        m.startswith(("additionalProperties.expiresIn: ", "additionalProperties.client_secret_expires_in: "))
        for m in messages
    ), messages
    assert ConsumerSecret.objects.count() <= count


def test_the_rule_is_one_function():
    now = timezone.now()
    assert rules.secret_expiry_from_seconds(None, now=now) == now + timedelta(days=90)
    assert rules.secret_expiry_from_seconds(-5, now=now) is None
    assert rules.secret_expiry_from_seconds(3650 * DAY, now=now) == now + timedelta(days=3650)
    for bad in (0, 3650 * DAY + 1, "1e3", False):
        with pytest.raises(rules.SecretError) as refused:
            rules.secret_expiry_from_seconds(bad, now=now)
        assert "other than 0" in refused.value.description and "3650 days" in refused.value.description


def test_the_keys_page_service_refuses_a_first_secret_beyond_3650_days(application, resident):
    from django.core.exceptions import ValidationError

    from keys.services import keys_generate

    with pytest.raises(ValidationError) as refused:
        keys_generate(
            application=application,
            key_type="PRODUCTION",
            key_manager=resident,
            config={"grant_types": ["client_credentials"]},
            actor=application.owner,
            secret_expires_at=timezone.now() + timedelta(days=3651),
        )
    assert "3650 days" in refused.value.message_dict["secret_expires_at"][0]
    assert not application.keys.exists()
