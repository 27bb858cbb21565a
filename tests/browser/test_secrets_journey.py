"""Secret rotation in a real browser: + New Secret → copy the value once → find it masked in the
table → search → delete it through the confirmation. The ``page`` fixture fails on any console
error or CSP violation, so this also proves the secrets panel and secrets.js are CSP-clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from keymanagers.models import KeyManager
from keys.models import ConsumerSecret
from portal import crypto
from portal.models import Application
from tests.browser.conftest import screenshot
from tests.secrets.conftest import generate, reseed_migration_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def migration_data(transactional_db):
    reseed_migration_data()


def test_a_developer_rotates_a_secret(page, signed_in_page, owner):
    application = Application.objects.create(owner=owner, name="Weather")
    key, _ = generate(application, KeyManager.objects.get(name="Resident"), secret_description="laptop")
    keys_page = f"/applications/{application.pk}/keys/production/?km=Resident"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    signed_in_page(owner)
    page.goto(keys_page)
    panel = page.locator(".secrets-panel")
    expect(panel).to_contain_text("Consumer Secrets")
    expect(panel.locator("tbody tr")).to_have_count(1)
    expect(panel).to_contain_text("laptop")

    # + New Secret opens the dialog; Custom shows the days field.
    panel.get_by_role("link", name="+ New Secret").click()
    dialog = page.locator(f"#new-secret-{key.pk}")
    expect(dialog).to_be_visible()
    custom_days = dialog.locator("input[name=secret-custom_days]")
    expect(custom_days).to_be_hidden()
    dialog.locator("input[name=secret-description]").fill("CI pipeline")
    dialog.locator("select[name=secret-expiry]").select_option("custom")
    expect(custom_days).to_be_visible()
    custom_days.fill("45")
    screenshot(page, "secrets-new-dialog")
    dialog.get_by_role("button", name="Generate secret").click()

    # Shown once, with a copy button, on the keys page like the first secret (issue 13: one pattern
    # for one-time values; no result page of its own).
    expect(page).to_have_url(re.compile(r"/keys/production/\?km=Resident$"))
    expect(page.locator(".secret-once")).to_contain_text("Copy it now, it will not be shown again")
    value = page.locator("#new-secret-value").inner_text().strip()
    made = ConsumerSecret.objects.get(key=key, description="CI pipeline")
    assert made.secret_hash == crypto.keyed_hash(value)
    page.locator(".secret-once button.copy").click()
    expect(page.locator(".secret-once button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == value
    screenshot(page, "secrets-generated")

    # The table lists it masked, with its expiry; a reload shows the value no more.
    page.reload()
    page.goto(f"{keys_page}#secrets-title-{key.pk}")
    row = panel.locator("tbody tr", has_text="CI pipeline")
    expect(row).to_contain_text("••••••••")
    expect(row).to_contain_text("45 days")
    expect(page.locator("main")).not_to_contain_text(value)
    screenshot(page, "secrets-panel")

    # Search narrows the table in place (fetch), without leaving the keys page.
    panel.locator("input[type=search]").fill("pipeline")
    expect(panel.locator("tbody tr")).to_have_count(1)
    expect(panel.locator("tbody tr")).to_contain_text("CI pipeline")
    expect(page).to_have_url(re.compile(rf"/keys/production/\?km=Resident#secrets-title-{key.pk}$"))
    panel.locator("input[type=search]").fill("")
    expect(panel.locator("tbody tr")).to_have_count(2)

    # Delete through the confirmation dialog.
    panel.locator("tbody tr", has_text="CI pipeline").get_by_role("link", name="Delete").click()
    confirm = page.locator(f"#delete-secret-{key.pk}")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(
        "Are you sure you want to delete this secret? This action cannot be undone."
    )
    expect(confirm).to_contain_text("Tokens issued with this secret stay valid until they expire.")
    expect(confirm).to_contain_text("CI pipeline")
    # Cancel comes first and has the focus: Enter right after opening does not delete.
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "secrets-delete-confirm")
    confirm.get_by_role("button", name="Delete").click()

    expect(page).to_have_url(re.compile(rf"/keys/production/\?km=Resident#secrets-title-{key.pk}$"))
    expect(page.locator("main")).to_contain_text(
        "Secret deleted. Tokens issued with it stay valid until they expire."
    )
    expect(panel.locator("tbody tr")).to_have_count(1)
    assert not ConsumerSecret.objects.filter(pk=made.pk).exists()

    # The last valid secret stays: its Delete is disabled, with the reason and a link to + New Secret
    # (issue 13: no more "invited, then refused").
    last = panel.locator("tbody tr", has_text="laptop")
    expect(last.get_by_role("button", name="Delete")).to_be_disabled()
    expect(last).to_contain_text("The only valid secret of this key: create a new one before deleting it.")
    expect(last.get_by_role("link", name="create a new one")).to_be_visible()
    screenshot(page, "secrets-last-secret")
    assert ConsumerSecret.objects.filter(key=key).count() == 1


def test_the_secrets_page_works_without_javascript(browser, live_server, owner):
    from tests.browser.conftest import sign_in

    application = Application.objects.create(owner=owner, name="Weather")
    key, _ = generate(application, KeyManager.objects.get(name="Resident"))
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        sign_in(page, owner)
        page.goto(f"/applications/{application.pk}/keys/production/{key.pk}/secrets/")
        screenshot(page, "secrets-page-nojs")
        page.get_by_role("link", name="+ New Secret").click()
        expect(page.locator("h1")).to_have_text("New consumer secret")
        page.fill("input[name=secret-description]", "no js")
        page.get_by_role("button", name="Generate secret").click()
        expect(page.locator("h1")).to_have_text("Secret Generated Successfully")
        page.get_by_role("link", name="Done").click()
        page.locator("tbody tr", has_text="no js").get_by_role("link", name="Delete").click()
        expect(page.locator("main")).to_contain_text("Are you sure you want to delete this secret?")
        page.get_by_role("button", name="Delete").click()
        expect(page.locator("main")).to_contain_text("Secret deleted.")
        assert not ConsumerSecret.objects.filter(key=key, description="no js").exists()
    finally:
        context.close()
