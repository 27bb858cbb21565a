"""Keys in a real browser: generate Production keys, copy the token, generate Sandbox keys, get a
token from the dialog, and read the cURL command.

The ``page`` fixture fails the test on any console error or CSP violation.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from keymanagers.models import KeyManager
from keys.models import ApplicationKey, Scope
from portal.models import Application
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def application(owner):
    # Transactional tests flush the tables between tests, taking the rows the data migrations
    # made with them: put back the Resident key manager and the default scope.
    KeyManager.objects.get_or_create(
        name="Resident",
        defaults={
            "display_name": "Resident Key Manager",
            "type": "resident",
            "order": 0,
            "available_grant_types": ["client_credentials", "refresh_token", "authorization_code"],
        },
    )
    Scope.objects.get_or_create(name="default", defaults={"display_name": "Default"})
    return Application.objects.create(owner=owner, name="Weather App", token_type="JWT")


def test_generate_keys_copy_the_token_then_sandbox_token_and_curl(
    signed_in_page, owner, application, live_url
):
    page = signed_in_page(owner)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url(""))

    page.goto(f"/applications/{application.pk}/")
    page.click("nav.tabs >> text=Production Keys")
    expect(page.locator("h2.keys-title")).to_have_text("Production Keys")
    expect(page.locator(".keys-km-tabs .tab.active")).to_contain_text("Resident")
    # The callback URL is only for the Code grant: disabled until it is ticked.
    callback = page.locator("input[name=callback_url]")
    expect(callback).to_be_disabled()
    page.check("input[name=grant_types][value=authorization_code]")
    expect(callback).to_be_enabled()
    page.uncheck("input[name=grant_types][value=authorization_code]")
    expect(callback).to_be_disabled()
    # The custom expiry field appears only for "Custom".
    expect(page.locator("input[name=secret_expiry_days]")).to_be_hidden()
    page.select_option("select[name=secret_expiry]", "custom")
    expect(page.locator("input[name=secret_expiry_days]")).to_be_visible()
    page.select_option("select[name=secret_expiry]", "90")
    page.fill("input[name=secret_description]", "Browser secret")
    screenshot(page, "keys-production-form")

    page.click("button:has-text('Generate Keys')")
    once = page.locator(".secret-once")
    expect(once).to_contain_text("Copy it now, it will not be shown again")
    token = page.locator("#generated-token").inner_text()
    assert token.count(".") == 2  # a JWT for a JWT application
    page.click("button[data-copy-target='#generated-token']")
    expect(page.locator("button[data-copy-target='#generated-token']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot(page, "keys-production-generated")

    page.click("nav.tabs >> text=Sandbox Keys")
    expect(page.locator("h2.keys-title")).to_have_text("Sandbox Keys")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator(".secret-once")).to_contain_text("it will not be shown again")
    secret = page.locator("#generated-secret").inner_text()
    sandbox = ApplicationKey.objects.get(application=application, key_type="SANDBOX")
    expect(page.locator("#consumer-key")).to_have_value(sandbox.consumer_key)
    screenshot(page, "keys-sandbox-generated")

    page.click("button:has-text('Generate Access Token')")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Default").check()  # a labelled checkbox since issue 13
    dialog.locator("input[name=token-validity_period]").fill("600")
    dialog.locator("input[name=token-consumer_secret]").fill(secret)
    screenshot(page, "keys-token-dialog")
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".secret-once")).to_contain_text("Access token")
    expect(page.locator(".secret-once")).to_contain_text("600 seconds")
    assert page.locator("#new-token").inner_text().count(".") == 2
    screenshot(page, "keys-token-generated")

    page.click("button:has-text('CURL to Generate Access Token')")
    curl = page.locator("#curl-command")
    expect(curl).to_be_visible()
    expect(curl).to_contain_text(f"curl -X POST {settings.SITE_URL}/oauth2/token")
    expect(curl).to_contain_text(f'-u "{sandbox.consumer_key}:$CONSUMER_SECRET"')  # issue 13
    expect(curl).to_contain_text('-d "grant_type=client_credentials"')
    screenshot(page, "keys-curl-dialog")
    page.click("#curl-dialog button:has-text('Close')")
    expect(curl).to_be_hidden()


def test_a_form_error_keeps_the_page_usable(signed_in_page, owner, application):
    page = signed_in_page(owner)
    page.goto(f"/applications/{application.pk}/keys/production/")
    page.uncheck("input[name=grant_types][value=client_credentials]")
    page.uncheck("input[name=grant_types][value=refresh_token]")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator(".errorlist")).to_contain_text("Select at least one grant type.")
    # The page answers the invalid form with status 400, which Chromium logs as a console error;
    # that one is expected (any other error still fails the test).
    page.browser_errors[:] = [e for e in page.browser_errors if "status of 400 (Bad Request)" not in e]
    screenshot(page, "keys-form-error")
    assert not ApplicationKey.objects.exists()


def test_after_generate_the_one_time_values_survive_the_token_dialog_and_a_reload_does_not_post(
    signed_in_page, owner, application
):
    page = signed_in_page(owner)
    keys_page = f"/applications/{application.pk}/keys/production/?km=Resident"
    page.goto(f"/applications/{application.pk}/keys/production/")
    # Support PKCE Plain Text only means something with PKCE: off and unticked until it is on.
    pkce = page.locator("input[name=pkce_mandatory]")
    plain = page.locator("input[name=pkce_support_plain]")
    expect(plain).to_be_disabled()
    pkce.check()
    expect(plain).to_be_enabled()
    plain.check()
    pkce.uncheck()
    expect(plain).to_be_disabled()
    expect(plain).not_to_be_checked()

    page.click("button:has-text('Generate Keys')")
    once = page.locator(".secret-once")
    expect(once).to_contain_text("Copy it now, it will not be shown again")
    # The address bar shows the keys page, not the action URL the form posted to.
    expect(page).to_have_url(re.compile(re.escape(keys_page) + "$"))
    secret = page.locator("#generated-secret").inner_text()

    page.click("button:has-text('Generate Access Token')")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_contain_text("Paste the consumer secret shown above.")
    dialog.locator("input[name=token-consumer_secret]").fill("")
    dialog.locator("button[type=submit]").click()
    # The browser stops the empty required field: no POST, the one-time box is still there.
    expect(dialog).to_be_visible()
    assert dialog.locator("input[name=token-consumer_secret]").evaluate("el => el.validity.valueMissing")
    expect(page.locator("#generated-secret")).to_have_text(secret)
    screenshot(page, "keys-token-dialog-required")

    page.click("#token-dialog button:has-text('Cancel')")
    key = ApplicationKey.objects.get(application=application)
    page.reload()
    expect(page).to_have_url(re.compile(re.escape(keys_page) + "$"))
    expect(page.locator(".secret-once")).to_have_count(0)
    assert ApplicationKey.objects.get(application=application).pk == key.pk


def test_an_update_error_is_announced_and_focused(signed_in_page, owner, application):
    page = signed_in_page(owner)
    page.goto(f"/applications/{application.pk}/keys/production/")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator("#key-configuration")).to_be_visible()

    page.check("#key-configuration input[name=update-grant_types][value=authorization_code]")
    # The callback URL is required in the browser too; clear it with the form's checks off.
    page.locator("#key-configuration form").evaluate("f => { f.noValidate = true; }")
    page.click("#key-configuration button:has-text('Update')")

    expect(page.locator("#update-errors")).to_have_text("Key Configurations not saved: see the errors below.")
    expect(page.locator("#update-errors")).to_have_attribute("role", "alert")
    expect(page.locator("input[name=update-callback_url]")).to_be_focused()
    expect(page).to_have_url(re.compile(re.escape("/keys/production/?km=Resident") + "#key-configuration$"))
    page.browser_errors[:] = [e for e in page.browser_errors if "status of 400 (Bad Request)" not in e]
    screenshot(page, "keys-update-error")
