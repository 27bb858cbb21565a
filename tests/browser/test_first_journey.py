"""A newcomer's first minutes in a real browser: sign up, create an application, find it listed.

The ``page`` fixture fails the test on any console error or CSP violation, so walking these pages
also proves the strict Content-Security-Policy holds on them.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from keymanagers.models import KeyManager
from keys.models import Scope
from portal.applications import services
from portal.models import Application
from tests.browser.conftest import BROWSER_DB, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, BROWSER_DB]


def _choose_token_type(page, value: str) -> None:
    # The contract names the field `token_type`; it may be radio buttons or a select.
    if page.locator("select[name=token_type]").count():
        page.select_option("select[name=token_type]", value)
    else:
        page.check(f"input[name=token_type][value={value}]")


def test_a_newcomer_signs_up_creates_an_application_and_finds_it_listed(page, settings):
    settings.PORTAL_SIGNUP_EMAIL_VERIFICATION = False  # the verified journey: test_signup_journey.py
    page.goto("/accounts/login/")
    screenshot(page, "login")
    page.click("text=Create an account")
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))

    page.fill("input[name=username]", "newdev")
    page.fill("input[name=email]", "newdev@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    screenshot(page, "signup")
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/applications/$"))
    expect(page.locator(".user-menu summary")).to_contain_text("newdev")
    screenshot(page, "applications-empty")

    page.goto("/applications/new/")
    page.fill("input[name=name]", "Weather App")
    page.fill("[name=description]", "Forecasts for the whole family.")
    _choose_token_type(page, "OAUTH")
    screenshot(page, "application-new")
    page.click("form button[type=submit]:not(.menu-item)")

    expect(page.locator("h1")).to_contain_text("Weather App")
    screenshot(page, "application-detail")

    page.click("nav.mainnav >> text=Applications")
    expect(page).to_have_url(re.compile(r"/applications/$"))
    expect(page.locator("main")).to_contain_text("Weather App")
    screenshot(page, "applications-list")

    application = Application.objects.get()
    assert application.owner == get_user_model().objects.get(username="newdev")
    assert application.name == "Weather App"
    assert application.token_type == "OAUTH"


def test_the_user_menu_changes_the_password_and_signs_out(page, signed_in_page, owner):
    signed_in_page(owner)

    page.click(".user-menu summary")
    screenshot(page, "user-menu")
    page.click(".user-menu-panel >> text=Change password")
    page.fill("input[name=old_password]", PASSWORD)
    page.fill("input[name=new_password1]", "a brand new passphrase 2026")
    page.fill("input[name=new_password2]", "a brand new passphrase 2026")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Password changed")

    page.click(".user-menu summary")
    page.click(".user-menu-panel >> text=Sign out")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    owner.refresh_from_db()
    assert owner.check_password("a brand new passphrase 2026")


def test_a_wrong_password_shows_the_error_on_the_form(page, owner):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")

    expect(page.locator(".errorlist")).to_contain_text("Please enter a correct username and password")
    screenshot(page, "login-error")


def test_copy_reveal_and_dialog_behaviours_work_under_the_csp(page, signed_in_page, owner, live_url):
    """The shared behaviours of portal.js, exercised on a real page of ours: the password change form."""
    signed_in_page(owner)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url(""))
    page.goto("/accounts/password/change/")
    # Build the markup other areas use, through the DOM (no inline script, no style attribute).
    page.evaluate(
        """() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', `
          <div class="copy-row"><code id="value">dpt_example_value</code>
            <button type="button" class="copy" data-copy-target="#value">Copy</button></div>
          <span id="secret" hidden>s3cret</span><span id="secret-masked">••••</span>
          <button type="button" id="reveal" data-toggle-reveal="#secret">Show</button>
          <button type="button" id="opener" data-dialog-open="#dlg">Open</button>
          <dialog id="dlg"><div><p>Sure?</p><button type="button" data-dialog-close>Cancel</button></div></dialog>`);
      }"""
    )

    page.click("button.copy")
    expect(page.locator("button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "dpt_example_value"
    expect(page.locator("button.copy")).to_have_text("Copy", timeout=5000)

    page.click("#reveal")
    expect(page.locator("#secret")).to_be_visible()
    expect(page.locator("#secret-masked")).to_be_hidden()
    expect(page.locator("#reveal")).to_have_text("Hide")
    page.click("#reveal")
    expect(page.locator("#secret")).to_be_hidden()

    page.click("#opener")
    expect(page.locator("#dlg")).to_be_visible()
    page.click("#dlg [data-dialog-close]")
    expect(page.locator("#dlg")).to_be_hidden()


def test_an_inline_script_would_be_blocked_and_reported(page, live_url):
    """The harness itself: a CSP violation must surface as an error the page fixture fails on."""
    page.goto("/accounts/login/")
    page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_timeout(200)

    assert page.evaluate("window.ran") is None
    assert any("Content Security Policy" in e or "CSP violation" in e for e in page.browser_errors)
    page.browser_errors.clear()


@pytest.mark.parametrize("path", ["/applications/", "/applications/new/", "/accounts/password/change/"])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(page, signed_in_page, owner, path):
    signed_in_page(owner)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("nav.mainnav >> text=Applications")).to_be_visible()
    expect(page.locator(".user-menu summary")).to_be_visible()
    screenshot(page, "phone" + path.rstrip("/").replace("/", "-"))


def _fits_a_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide on a 390px screen"


def test_keys_overview_and_tokens_pages_fit_a_phone_once_they_hold_keys_and_tokens(
    page, signed_in_page, owner
):
    # Transactional tests flush what the data migrations made: put back Resident and the default scope.
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
    application = services.application_create(
        owner=owner, name="Weather App with a long name", token_type="JWT"
    )
    services.api_token_create(user=owner, name="CI deploy from the nightly pipeline", days=30)
    signed_in_page(owner)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"/applications/{application.pk}/keys/production/")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator(".secret-once")).to_contain_text("it will not be shown again")
    _fits_a_phone(page)
    # Every tab stays on screen: the tabs wrap instead of hiding "Sandbox Keys" past the edge.
    sandbox_tab = page.locator("nav.tabs >> text=Sandbox Keys")
    expect(sandbox_tab).to_be_in_viewport(ratio=1)
    screenshot(page, "phone-keys-generated")

    page.goto(f"/applications/{application.pk}/")
    expect(page.locator(".table-wrap table")).to_contain_text("Production")
    _fits_a_phone(page)
    # The table runs edge to edge in its card, as on a wide screen.
    card, wrap = (page.locator(sel).bounding_box() for sel in (".card:has(.table-wrap)", ".card .table-wrap"))
    assert abs((card["x"] + card["width"]) - (wrap["x"] + wrap["width"])) <= 2
    screenshot(page, "phone-application-detail")

    page.goto("/api-tokens/")
    expect(page.locator(".table-wrap table")).to_contain_text("CI deploy")
    _fits_a_phone(page)
    # The table scrolls inside its wrapper; its Revoke button is still reachable, and its dialog
    # (in the top layer) is not clipped by the wrapper.
    revoke = page.locator(".table-wrap button[data-dialog-open]")
    revoke.scroll_into_view_if_needed()
    expect(revoke).to_be_in_viewport()
    revoke.click()
    expect(page.locator("dialog[open] button[type=submit]")).to_be_in_viewport(ratio=1)
    screenshot(page, "phone-api-tokens")


def test_a_destructive_dialog_opens_with_cancel_focused_so_enter_does_not_destroy(
    page, signed_in_page, owner
):
    row, _value = services.api_token_create(user=owner, name="ci", days=30)
    signed_in_page(owner)
    page.goto("/api-tokens/")

    page.click(f"button[data-dialog-open='#revoke-{row.pk}']")
    dialog = page.locator(f"#revoke-{row.pk}")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dialog-close]")).to_be_focused()
    page.keyboard.press("Enter")  # activates the focused Cancel
    expect(dialog).to_be_hidden()
    assert owner.api_tokens.filter(pk=row.pk).exists()

    # A dialog without [autofocus] but with a danger button gets the same treatment from portal.js;
    # one without a danger button focuses its first field.
    page.evaluate(
        """() => {
        document.querySelector('main').insertAdjacentHTML('beforeend', `
          <button type="button" id="open-danger" data-dialog-open="#danger">Delete</button>
          <dialog id="danger"><div><p>Delete it?</p>
            <button type="button" class="btn btn-danger" id="do-it">Delete</button>
            <button type="button" class="btn" data-dialog-close id="keep">Cancel</button></div></dialog>
          <button type="button" id="open-plain" data-dialog-open="#plain">Rename</button>
          <dialog id="plain"><div><input id="new-name">
            <button type="button" data-dialog-close>Cancel</button></div></dialog>`);
      }"""
    )
    page.click("#open-danger")
    expect(page.locator("#keep")).to_be_focused()
    page.keyboard.press("Escape")
    page.click("#open-plain")
    expect(page.locator("#new-name")).to_be_focused()
