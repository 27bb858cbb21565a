"""The applications and API-token pages, and the Swagger UI, in a real browser under the strict CSP.

The ``page`` fixture (tests/browser/conftest.py) fails a test on any console error or CSP
violation, so these walks also prove that the pages need no inline script or style.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.models import ApiToken, Application
from tests.browser.conftest import screenshot
from tests.portal.conftest import API

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_developer_creates_edits_and_deletes_an_application(signed_in_page, owner):
    page = signed_in_page(owner)
    page.click("text=Add new application")
    page.fill("input[name=name]", "Weather App")
    page.fill("textarea[name=description]", "Forecasts")
    page.check("input[name=token_type][value=OAUTH]")
    page.click("main form button[type=submit]")

    expect(page.locator("h1")).to_contain_text("Weather App")
    application = Application.objects.get(owner=owner)
    assert application.token_type == "OAUTH"
    expect(page.locator("#application-id")).to_have_text(str(application.pk))
    expect(page.locator("nav.tabs a.tab.active")).to_have_text("Overview")
    screenshot(page, "h1-apps-overview")

    page.click("main >> text=Edit")
    page.fill("input[name=name]", "Weather Pro")
    page.click("main form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Weather Pro")

    page.click("main a.btn-danger")
    expect(page.locator("main")).to_contain_text("Are you sure you want to delete this application?")
    screenshot(page, "h1-apps-confirm-delete")
    page.click("main form button.btn-danger")
    expect(page).to_have_url(re.compile(r"/applications/$"))
    expect(page.locator("main")).to_contain_text("deleted")
    assert not Application.objects.exists()


def test_a_duplicate_name_is_shown_on_the_form(signed_in_page, owner):
    Application.objects.create(owner=owner, name="Weather App")
    page = signed_in_page(owner)
    page.goto("/applications/new/")
    page.fill("input[name=name]", "weather app")
    page.click("main form button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("You already have an application named")
    screenshot(page, "h1-apps-duplicate-name")

    page.goto("/applications/")
    expect(page.locator("main table")).to_contain_text("Weather App")
    screenshot(page, "h1-apps-list")


def test_a_developer_creates_copies_and_revokes_an_api_token(signed_in_page, owner):
    page = signed_in_page(owner)
    page.goto("/api-tokens/")
    page.fill("input[name=name]", "CI deploy")
    page.select_option("select[name=days]", "30")
    page.click("main form button[type=submit]")

    token_box = page.locator("#new-api-token")
    expect(token_box).to_have_text(re.compile(r"^dpt_"))
    expect(page.locator("main")).to_contain_text("Copy it now, it will not be shown again.")
    page.click("button[data-copy-target='#new-api-token']")
    expect(page.locator("button[data-copy-target='#new-api-token']")).to_have_text("Copied")
    screenshot(page, "h1-api-token-created")

    token = ApiToken.objects.get(user=owner)
    page.click(f"button[data-dialog-open='#revoke-{token.pk}']")
    dialog = page.locator(f"#revoke-{token.pk}")
    expect(dialog).to_be_visible()
    screenshot(page, "h1-api-token-revoke-dialog")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("revoked")
    assert not ApiToken.objects.exists()


def test_the_swagger_ui_renders_under_the_strict_csp(page):
    page.goto(f"{API}/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Developer Portal API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text(f"{API}/applications")
    screenshot(page, "h1-api-docs")
