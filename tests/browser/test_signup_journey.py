"""Sign-up with e-mail verification in a real browser: check your email, follow the link, activate.

The ``page`` fixture fails on any console error or CSP violation, so the new pages (sent, verify)
are proved CSP-clean too.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_DB, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_a_newcomer_confirms_the_address_before_the_first_sign_in(page, live_server):
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", "newdev")
    page.fill("input[name=email]", "newdev@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/accounts/signup/sent/$"))
    expect(page.locator("h1")).to_have_text("Check your email")
    screenshot(page, "signup-sent")

    link = re.search(r"https?://\S+(/accounts/signup/verify/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Confirm your email")
    screenshot(page, "signup-verify")
    page.click("main button[type=submit]")

    expect(page).to_have_url(re.compile(r"/applications/$"))
    expect(page.locator(".user-menu summary")).to_contain_text("newdev")
