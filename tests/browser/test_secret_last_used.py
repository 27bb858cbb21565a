"""Rotating a secret by its "last used", in Chromium at 1280 and 390 px (issue 13, part A).

The developer sees when each secret last authenticated, the delete confirmation warns about a
secret used in the last 24 hours, the key's last valid secret cannot be deleted (its Delete is
disabled with the reason and + New Secret beside it), and at 390 px every action of the secrets
table is reachable without sideways scrolling. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from keymanagers.models import KeyManager
from keys.models import ConsumerSecret
from keys.secrets import services
from portal.models import Application
from tests.conftest import PASSWORD
from tests.secrets.conftest import generate, reseed_migration_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def migration_data(transactional_db):
    reseed_migration_data()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def authenticate(key, secret: str) -> None:
    """The developer's software getting a token with ``secret``."""
    basic = base64.b64encode(f"{key.consumer_key}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def rotation(owner):
    """A key whose old secret "laptop" was last used 3 days ago, and whose new one "CI" just now."""
    application = Application.objects.create(owner=owner, name="Weather")
    key, old_value = generate(
        application, KeyManager.objects.get(name="Resident"), secret_description="laptop"
    )
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        authenticate(key, old_value)
    new_value = services.secret_create(key=key, description="CI", actor=owner).value
    authenticate(key, new_value)
    return application, key


@pytest.mark.parametrize("width", [1280, 390])
def test_a_developer_deletes_the_idle_secret_and_is_warned_about_the_busy_one(
    page, signed_in_page, owner, rotation, width
):
    application, key = rotation
    page.set_viewport_size(PHONE if width == 390 else {"width": 1280, "height": 860})
    signed_in_page(owner)
    page.goto(f"/applications/{application.pk}/keys/production/?km=Resident")
    panel = page.locator(".secrets-panel")

    old_row = panel.locator("tbody tr", has_text="laptop")
    new_row = panel.locator("tbody tr", has_text="CI")
    expect(old_row.locator("td.secrets-last-used")).to_have_text("3 days ago")
    expect(new_row.locator("td.secrets-last-used")).to_have_text("in the last minute")
    expect(page.locator("#key-last-used")).to_contain_text("in the last minute")
    shot(page, f"secrets-last-used-{width}")

    # The busy secret: the confirmation warns.
    new_row.get_by_role("link", name="Delete").click()
    dialog = page.locator(f"#delete-secret-{key.pk}")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Last used: in the last minute")
    expect(dialog.locator("[data-secret-delete-recent]")).to_be_visible()
    expect(dialog).to_contain_text("This secret was used in the last 24 hours.")
    shot(page, f"secrets-delete-warning-{width}")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # The idle one: no warning; delete it.
    old_row.get_by_role("link", name="Delete").click()
    expect(dialog).to_contain_text("Last used: 3 days ago")
    expect(dialog.locator("[data-secret-delete-recent]")).to_be_hidden()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("main")).to_contain_text("Secret deleted.")
    assert list(ConsumerSecret.objects.filter(key=key).values_list("description", flat=True)) == ["CI"]

    # Now "CI" is the last valid secret: Delete is disabled, with the reason and the way forward.
    last = panel.locator("tbody tr", has_text="CI")
    expect(last.get_by_role("button", name="Delete")).to_be_disabled()
    expect(last).to_contain_text("The only valid secret of this key: create a new one before deleting it.")
    shot(page, f"secrets-last-secret-{width}")
    last.get_by_role("link", name="create a new one").click()
    expect(page.locator(f"#new-secret-{key.pk}")).to_be_visible()


def test_at_390_px_every_secrets_action_is_reachable_without_sideways_scrolling(
    page, signed_in_page, owner, rotation
):
    application, key = rotation
    for n in range(3):
        services.secret_create(
            key=key,
            description=f"a rather long description of rotation number {n} for the phone",
            actor=owner,
        )
    page.set_viewport_size(PHONE)
    signed_in_page(owner)
    for path in (
        f"/applications/{application.pk}/keys/production/?km=Resident",
        f"/applications/{application.pk}/keys/production/{key.pk}/secrets/",
    ):
        page.goto(path)
        panel = page.locator(".secrets-panel")
        expect(panel.locator("tbody tr")).to_have_count(5)
        # Neither the page nor the table's box scrolls sideways.
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        wrap = panel.locator(".table-wrap")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        for delete in panel.locator("tbody a", has_text="Delete").all():
            box = delete.bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
        new_secret = panel.locator(".secrets-new").get_by_role("link", name="+ New Secret")
        box = new_secret.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    shot(page, "secrets-page-390")

    # And they work there: a Delete opens its confirmation.
    page.locator(".secrets-panel tbody tr", has_text="number 0").get_by_role("link", name="Delete").click()
    expect(page.locator(f"#delete-secret-{key.pk}")).to_be_visible()
    shot(page, "secrets-delete-dialog-390")


def test_the_admin_shows_last_use_and_lists_as_lists(page, owner, admin_user, rotation):
    _, key = rotation
    page.goto("/admin/login/")
    page.fill("input[name=username]", admin_user.get_username())
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.goto("/admin/keys/consumersecret/")
    expect(page.locator("#result_list")).to_contain_text("3 days ago")
    expect(page.locator("#result_list")).to_contain_text("in the last minute")
    # Nothing clipped: the list fits beside its filters, no column hidden behind a scroll.
    assert page.locator("#changelist .results").evaluate("el => el.scrollWidth <= el.clientWidth")
    shot(page, "admin-consumer-secrets")
    page.goto(f"/admin/keys/applicationkey/{key.pk}/change/")
    expect(page.locator(".field-grant_types ul.admin-list li")).to_have_text(["Client Credentials"])
    expect(page.locator("div.field-last_used")).to_contain_text("in the last minute")
    assert page.locator(".inline-group").evaluate("el => el.scrollWidth <= el.clientWidth")
    shot(page, "admin-application-key")
