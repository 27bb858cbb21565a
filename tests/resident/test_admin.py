"""Admin pages of the resident server: no secret or private key is ever shown; rotation is confirmed."""

from __future__ import annotations

import pytest

import keymanagers.resident.admin  # noqa: F401  (registers the admin classes, as keymanagers/admin.py does)
from keymanagers.models import SigningKey
from keymanagers.resident import signing

pytestmark = pytest.mark.django_db


def test_client_pages_never_show_a_secret(admin_client_, make_client):
    client, registered = make_client()
    listing = admin_client_.get("/admin/keymanagers/oauthclient/", {"q": registered.ref.client_id})
    assert listing.status_code == 200
    assert registered.ref.client_id in listing.content.decode()
    page = admin_client_.get(f"/admin/keymanagers/oauthclient/{client.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert registered.secret.value not in html
    assert client.secrets.get().secret_hash not in html
    assert 'name="client_secret"' not in html
    assert 'name="client_id"' not in html  # read-only


def test_secret_pages_show_no_hash(admin_client_, make_client):
    client, _ = make_client()
    secret = client.secrets.get()
    page = admin_client_.get(f"/admin/keymanagers/clientsecret/{secret.pk}/change/")
    assert page.status_code == 200
    assert secret.secret_hash not in page.content.decode()


def test_signing_key_page_never_shows_the_private_key(admin_client_):
    signing.active_key()
    row = SigningKey.objects.get()
    page = admin_client_.get(f"/admin/keymanagers/signingkey/{row.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert row.private_key_encrypted not in html
    assert "PRIVATE KEY" not in html


def test_rotate_now_asks_first_then_rotates(admin_client_):
    signing.active_key()
    old = SigningKey.objects.get()
    action = {"action": "rotate_now", "_selected_action": [old.pk]}
    confirm = admin_client_.post("/admin/keymanagers/signingkey/", action)
    assert confirm.status_code == 200
    assert b"Rotate the resident signing key?" in confirm.content
    assert SigningKey.objects.count() == 1

    done = admin_client_.post("/admin/keymanagers/signingkey/", {**action, "confirm": "yes"})
    assert done.status_code == 302
    old.refresh_from_db()
    assert old.state == SigningKey.State.RETIRED
    assert SigningKey.objects.filter(state=SigningKey.State.ACTIVE).exclude(pk=old.pk).count() == 1


def test_developers_cannot_reach_the_admin(owner_client):
    assert owner_client.get("/admin/keymanagers/signingkey/").status_code == 302
