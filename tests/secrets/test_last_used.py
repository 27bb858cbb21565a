"""'Last used' where developers decide on rotation: the secrets table, the key details, the delete
confirmation (a warning within 24 hours), the REST API and the admin; and the last valid secret's
Delete disabled with its reason and the way forward."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from keymanagers.models import ClientSecret
from keymanagers.resident.adapter import ResidentAdapter
from keys.secrets import services
from tests.secrets.conftest import api_url, url


def authenticate(key, secret: str) -> None:
    """The developer's software getting a token with ``secret`` (not the portal)."""
    basic = base64.b64encode(f"{key.consumer_key}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content


def cell(page: str, secret, label: str) -> str:
    row = re.search(rf'<tr data-secret-id="{secret.pk}">(.*?)</tr>', page, re.S).group(1)
    html = re.search(rf'<td[^>]*data-label="{label}"[^>]*>(.*?)</td>', row, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def rotated(key_and_secret, owner):
    """A key with its first secret and a second one made for the rotation."""
    key, first_value = key_and_secret
    created = services.secret_create(key=key, description="rotation", actor=owner)
    second, second_value = created.secret, created.value
    return key, key.secrets.get(description="first"), first_value, second, second_value


def test_the_secrets_table_says_when_each_secret_was_last_used(rotated, owner_client):
    key, first, first_value, second, _ = rotated
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        authenticate(key, first_value)

    page = owner_client.get(url(key)).content.decode()

    assert '<th scope="col">Last Used</th>' in page
    assert cell(page, first, "Last used") == "3 days ago"
    assert cell(page, second, "Last used") == "Never used"


def test_the_keys_page_shows_the_key_and_its_secrets_last_use(rotated, owner_client, application):
    key, first, first_value, second, second_value = rotated
    with time_machine.travel(timezone.now() - timedelta(hours=5)):
        authenticate(key, second_value)

    page = owner_client.get(f"/applications/{application.pk}/keys/production/").content.decode()

    details = re.search(r'id="key-last-used">(.*?)</div>', page, re.S).group(1)
    assert "5 hours ago" in details
    assert cell(page, second, "Last used") == "5 hours ago"
    assert cell(page, first, "Last used") == "Never used"


def test_a_key_manager_that_does_not_report_use_says_so(rotated, owner_client, application, monkeypatch):
    key, first, first_value, *_ = rotated
    authenticate(key, first_value)
    monkeypatch.setattr(ResidentAdapter, "reports_last_use", False)

    page = owner_client.get(url(key)).content.decode()
    keys_page = owner_client.get(f"/applications/{application.pk}/keys/production/").content.decode()

    assert cell(page, first, "Last used") == "Not reported by this key manager"
    assert "Never used" not in page
    assert (
        "Not reported by this key manager" in re.search(r'id="key-last-used">(.*?)</div>', keys_page, re.S)[1]
    )


def test_the_delete_confirmation_warns_about_a_secret_used_in_the_last_24_hours(rotated, owner_client):
    key, first, first_value, *_ = rotated
    with time_machine.travel(timezone.now() - timedelta(hours=23)):
        authenticate(key, first_value)

    confirmation = owner_client.get(url(key, f"{first.pk}/delete/")).content.decode()
    table = owner_client.get(url(key)).content.decode()

    assert "This secret was used in the last 24 hours." in confirmation
    assert "23 hours ago" in confirmation
    # The dialog's warning is switched on by the Delete link's data (static/js/secrets.js).
    link = re.search(rf'<a [^>]*href="[^"]*{first.pk}/delete/[^"]*"[^>]*>', table).group(0)
    assert "data-secret-recent" in link and 'data-secret-last-used="23 hours ago"' in link


def test_no_warning_once_the_secret_has_been_idle_for_a_day(rotated, owner_client):
    key, first, first_value, *_ = rotated
    with time_machine.travel(timezone.now() - timedelta(hours=25)):
        authenticate(key, first_value)

    confirmation = owner_client.get(url(key, f"{first.pk}/delete/")).content.decode()
    table = owner_client.get(url(key)).content.decode()

    assert "used in the last 24 hours" not in confirmation
    assert "1 day ago" in confirmation
    link = re.search(rf'<a [^>]*href="[^"]*{first.pk}/delete/[^"]*"[^>]*>', table).group(0)
    assert "data-secret-recent" not in link


def test_the_api_reports_last_used_time_for_secrets_and_the_key(rotated, owner_client):
    key, first, first_value, second, _ = rotated
    moment = timezone.now().replace(microsecond=0) - timedelta(days=2)
    with time_machine.travel(moment, tick=False):
        authenticate(key, first_value)

    secrets = owner_client.get(api_url(key, "secrets")).json()["list"]
    key_body = owner_client.get(
        f"/api/am/devportal/v3/applications/{key.application_id}/oauth-keys/{key.pk}"
    ).json()

    by_id = {item["secretId"]: item["lastUsedTime"] for item in secrets}
    # Epoch milliseconds in a string, as every time the reference answers.
    millis = str(int(moment.timestamp() * 1000))
    assert by_id == {str(first.pk): millis, str(second.pk): None}
    assert key_body["lastUsedTime"] == millis


def test_the_last_valid_secret_cannot_be_deleted_and_says_why(key, owner_client):
    only = key.secrets.get()

    page = owner_client.get(url(key)).content.decode()

    actions = re.search(
        rf'<tr data-secret-id="{only.pk}">.*?<td class="actions"[^>]*>(.*?)</td>', page, re.S
    )[1]
    assert re.search(r"<button[^>]*disabled[^>]*>Delete</button>", actions)
    assert "The only valid secret of this key: create a new one before deleting it." in re.sub(
        r"<[^>]+>", "", actions
    )
    assert re.search(r'<a href="[^"]*/secrets/new/[^"]*"[^>]*>create a new one</a>', actions)
    assert "/delete/" not in actions


def test_a_refused_delete_offers_a_new_secret_not_a_dead_end(key, owner_client):
    only = key.secrets.get()

    confirmation = owner_client.get(url(key, f"{only.pk}/delete/"))
    refused = owner_client.post(url(key, f"{only.pk}/delete/"), {})

    for response in (confirmation, refused):
        page = response.content.decode()
        assert "+ New Secret" in page and url(key, "new/") in page
        assert 'class="btn btn-danger">Delete</button>' not in page
    assert refused.status_code == 409
    assert key.secrets.count() == 1


def test_at_the_limit_the_reason_says_what_to_do_instead(key, owner_client, resident):
    resident.secret_count = 1
    resident.save(update_fields=["secret_count"])

    page = owner_client.get(url(key)).content.decode()

    assert "no new one fits: delete an expired secret (Show expired) first" in page
    assert ">create a new one</a>" not in page


def test_with_a_second_secret_both_can_be_deleted(rotated, owner_client):
    key, first, *_ = rotated

    page = owner_client.get(url(key)).content.decode()

    assert "The only valid secret" not in page
    assert page.count('data-secret-delete="#delete-secret-') == 2


def test_the_admin_lists_secrets_once_with_last_use_and_never_a_value(rotated, admin_client_):
    key, first, first_value, *_ = rotated
    authenticate(key, first_value)
    hashes = list(ClientSecret.objects.values_list("secret_hash", flat=True))

    index = admin_client_.get("/admin/").content.decode()
    listing = admin_client_.get("/admin/keys/consumersecret/").content.decode()
    detail = admin_client_.get(f"/admin/keys/consumersecret/{first.pk}/change/").content.decode()
    key_page = admin_client_.get(f"/admin/keys/applicationkey/{key.pk}/change/").content.decode()

    assert "/admin/keys/consumersecret/" in index
    assert "/admin/keymanagers/clientsecret/" not in index  # one list of secrets, not two
    assert admin_client_.get("/admin/keymanagers/clientsecret/").status_code == 404
    assert "Last used" in listing and "in the last minute" in listing
    assert "in the last minute" in detail and "in the last minute" in key_page
    for page in (listing, detail, key_page):
        assert first_value not in page
        assert not any(h in page for h in hashes)
