"""Application attributes (issue 12): defined by an admin, asked on the application form, stored per
application, checked, and in the REST API as ``attributes`` as the reference has them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import Application, ApplicationAttribute
from tests.portal.conftest import API

APPS = f"{API}/applications"


@pytest.fixture
def attributes(db):
    return {
        "ref": ApplicationAttribute.objects.create(
            name="External Reference Id", description="Your ticket number", required=True, order=1
        ),
        "tier": ApplicationAttribute.objects.create(name="Billing Tier", default="basic", order=2),
        "cost": ApplicationAttribute.objects.create(name="Cost centre", hidden=True, default="CC-1", order=3),
    }


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_the_api_stores_attributes_applies_defaults_and_hides_the_hidden_ones(
    owner_client, owner, attributes
):
    response = post_json(
        owner_client, APPS, {"name": "Billing", "attributes": {"External Reference Id": "T-42"}}
    )

    assert response.status_code == 201, response.content
    assert response.json()["attributes"] == {"External Reference Id": "T-42", "Billing Tier": "basic"}
    stored = Application.objects.get(owner=owner).attributes
    assert stored == {"External Reference Id": "T-42", "Billing Tier": "basic", "Cost centre": "CC-1"}


@pytest.mark.parametrize(
    ("sent", "phrase"),
    [
        ({}, "attributes: External Reference Id is required."),
        ({"External Reference Id": "T", "Colour": "red"}, "attributes: Unknown attribute: Colour."),
        (
            {"External Reference Id": "T", "Cost centre": "mine"},
            "attributes: Unknown attribute: Cost centre.",
        ),
        ({"External Reference Id": ["T"]}, "attributes.External Reference Id: Not a valid string."),
    ],
)
def test_bad_attributes_are_a_400_naming_them(owner_client, attributes, sent, phrase):
    response = post_json(owner_client, APPS, {"name": "Billing", "attributes": sent})
    assert response.status_code == 400, response.content
    assert phrase in response.json()["description"]
    assert not Application.objects.exists()


def test_a_put_without_attributes_keeps_them(owner_client, owner, attributes):
    created = post_json(
        owner_client, APPS, {"name": "Billing", "attributes": {"External Reference Id": "T-42"}}
    )
    url = f"{APPS}/{created.json()['applicationId']}"
    kept = owner_client.put(url, {"name": "Billing 2"}, content_type="application/json")
    assert kept.status_code == 200 and kept.json()["attributes"]["External Reference Id"] == "T-42"
    changed = owner_client.put(
        url,
        {"name": "Billing 2", "attributes": {"External Reference Id": "T-43"}},
        content_type="application/json",
    )
    assert changed.json()["attributes"] == {"External Reference Id": "T-43", "Billing Tier": "basic"}


def test_the_attribute_settings_list_what_developers_fill_in(owner_client, attributes):
    body = owner_client.get(f"{API}/settings/application-attributes").json()
    assert body["count"] == 2
    assert body["list"][0] == {
        "attribute": "External Reference Id",
        "description": "Your ticket number",
        "required": "true",
        "hidden": "false",
        "type": "text",
        "tooltip": "Your ticket number",
        "default": "",
    }


def test_the_form_asks_for_the_attributes_and_the_overview_shows_them(owner_client, owner, attributes):
    form = owner_client.get(reverse("application_create")).content.decode()
    assert "External Reference Id" in form and "Billing Tier" in form and "Cost centre" not in form

    refused = owner_client.post(reverse("application_create"), {"name": "Billing", "token_type": "JWT"})
    assert refused.status_code == 200 and not Application.objects.exists()

    field = f"attribute_{attributes['ref'].pk}"
    owner_client.post(reverse("application_create"), {"name": "Billing", "token_type": "JWT", field: "T-7"})
    application = Application.objects.get(owner=owner)
    assert application.attributes["External Reference Id"] == "T-7"
    page = owner_client.get(reverse("application_detail", args=[application.pk])).content.decode()
    assert "T-7" in page and "CC-1" not in page


def test_an_admin_defines_attributes_and_sees_the_values(admin_client_, owner, attributes):
    added = admin_client_.post(
        reverse("admin:portal_applicationattribute_add"),
        {"name": "Team", "description": "", "default": "", "order": 4},
    )
    assert added.status_code == 302 and ApplicationAttribute.objects.filter(name="Team").exists()
    application = Application.objects.create(
        owner=owner, name="Billing", attributes={"External Reference Id": "T-9"}
    )
    page = admin_client_.get(
        reverse("admin:portal_application_change", args=[application.pk])
    ).content.decode()
    assert "T-9" in page
