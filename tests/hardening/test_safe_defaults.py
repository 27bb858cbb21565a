"""Safe defaults: bounded paging, JSON 404 for any method under the API, a finite secret cap."""

from __future__ import annotations

import re

import pytest

from keymanagers.models import KeyManager

API = "/api/am/devportal/v3"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("offset", [2**63, 2**64, 10**9 + 1])
def test_an_out_of_range_offset_is_a_400_not_a_500(owner_client, offset):
    response = owner_client.get(f"{API}/applications?offset={offset}")

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert "offset" in response.json()["description"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_urls_are_a_json_404_for_every_method_even_with_csrf_checks(csrf_owner_client, method):
    response = getattr(csrf_owner_client, method)(f"{API}/no/such/thing", content_type="application/json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == 404


def test_a_new_key_manager_caps_secrets_per_key_at_ten():
    km = KeyManager.objects.create(name="fresh", type=KeyManager.Type.OIDC_DCR)

    assert km.secret_count == 10


def test_the_migration_capped_the_resident_key_manager():
    assert KeyManager.objects.get(type=KeyManager.Type.RESIDENT).secret_count == 10


def test_without_an_smtp_server_production_drops_mails_with_an_error_and_never_logs_the_link(
    client, owner, settings, caplog
):
    settings.EMAIL_BACKEND = "portal.mail.UnconfiguredEmailBackend"

    with caplog.at_level("INFO"):
        response = client.post("/accounts/password/reset/", {"email": owner.email})

    assert response.status_code == 302  # the same answer as ever: nothing tells the visitor
    assert "email not sent (1 recipient): EMAIL_HOST is not set" in caplog.text
    assert not re.search(r"/accounts/password/reset/[^/\s]+/[^/\s]+/", caplog.text)  # no reset link
    assert "alice" not in caplog.text
