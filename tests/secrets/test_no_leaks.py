"""A secret's value appears once, in the response that made it: never in logs, audit, admin or lists."""

from __future__ import annotations

import base64
import json
import logging

from django.test import Client

from keymanagers.models import ClientSecret
from keys.models import ConsumerSecret
from portal.models import AuditEvent
from tests.secrets.conftest import api_url, url


def test_no_value_reaches_the_logs_pages_audit_or_admin(key_and_secret, owner_client, admin_client_, caplog):
    key, first = key_and_secret
    caplog.set_level(logging.DEBUG)

    made_on_page = owner_client.post(url(key, "new/"), {"secret-expiry": "30", "secret-description": "page"})
    page_value = made_on_page.context["created"].value
    made_by_api = owner_client.post(
        api_url(key, "generate-secret"),
        data=json.dumps({"additionalProperties": {"description": "api"}}),
        content_type="application/json",
    ).json()
    api_value = made_by_api["secretValue"]
    basic = base64.b64encode(f"{key.consumer_key}:{api_value}".encode()).decode()
    Client().post("/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    owner_client.post(url(key, f"{made_by_api['secretId']}/delete/"))
    Client().post("/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")

    values = [first, page_value, api_value]
    assert ConsumerSecret.objects.filter(key=key).count() == 2  # the API one is gone

    seen = [caplog.text]
    seen.append(owner_client.get(url(key) + "?expired=1").content.decode())
    seen.append(owner_client.get(api_url(key, "secrets")).content.decode())
    seen.append(
        owner_client.get(f"/applications/{key.application_id}/keys/production/?km=Resident").content.decode()
    )
    seen.append(json.dumps(list(AuditEvent.objects.values_list("detail", flat=True))))
    for path in (
        "/admin/portal/auditevent/",
        "/admin/keymanagers/oauthclient/",  # issue 13: secrets are listed once, inline (no clientsecret list)
        "/admin/keymanagers/keymanager/",
    ):
        response = admin_client_.get(path)
        assert response.status_code == 200, path
        seen.append(response.content.decode())
    remote = ClientSecret.objects.filter(client__client_id=key.consumer_key).first()
    local = ConsumerSecret.objects.filter(key=key).first()
    for path in (
        f"/admin/keymanagers/oauthclient/{remote.client_id}/change/",
        "/admin/keys/consumersecret/",
        f"/admin/keys/consumersecret/{local.pk}/change/",
        f"/admin/keys/applicationkey/{key.pk}/change/",
    ):
        response = admin_client_.get(path)
        assert response.status_code == 200, path
        seen.append(response.content.decode())

    for text in seen:
        for value in values:
            assert value not in text
