"""Accessibility: axe-core finds no serious or critical violation on the applications, keys,
secrets and consent pages, at 1280 and 390 px.

axe-core comes from npm, pinned with a lock file in tests/peers/axe/ (``bash .ci/test`` runs
``npm ci`` there). The portal's Content-Security-Policy rightly refuses an injected script, so only
this test's browser context bypasses CSP (``bypass_csp=True``); every other browser test keeps
proving the policy holds.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from keymanagers.base import ClientConfig, adapter_for
from keys.secrets import services as secret_services
from portal.models import Application
from tests.browser.conftest import BROWSER_DB, TIMEOUT_MS, sign_in
from tests.browser.keys_walk import VIEWPORTS, make_keys, restore_migration_rows, shot

pytestmark = [pytest.mark.browser, BROWSER_DB]

AXE = Path(__file__).resolve().parents[1] / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture(params=list(VIEWPORTS))
def axe_page(request, browser, live_server):
    if not AXE.is_file():
        pytest.skip("run `npm ci` in tests/peers/axe (bash .ci/test does)")
    context = browser.new_context(
        viewport=VIEWPORTS[request.param], base_url=live_server.url, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {n['target']}: {n['failureSummary']}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
        for n in v["nodes"][:8]
    ]


@pytest.fixture
def walked(owner):
    """An application with Production keys (secrets panel, a second secret) and Sandbox keys."""
    resident = restore_migration_rows()
    application = Application.objects.create(owner=owner, name="Weather App", token_type="JWT")
    key = make_keys(application, resident).key
    secret_services.secret_create(key=key, description="Rotation", actor=owner)
    make_keys(application, resident, env="SANDBOX")
    return application, key


def test_applications_keys_and_secrets_pages_have_no_serious_violation(axe_page, owner, walked):
    application, key = walked
    sign_in(axe_page, owner)
    found = {}
    for name, path in [
        ("applications", "/applications/"),
        ("application", f"/applications/{application.pk}/"),
        ("keys-production", f"/applications/{application.pk}/keys/production/"),
        ("keys-sandbox", f"/applications/{application.pk}/keys/sandbox/"),
        ("secrets", f"/applications/{application.pk}/keys/production/{key.pk}/secrets/"),
        ("new-secret", f"/applications/{application.pk}/keys/production/{key.pk}/secrets/new/"),
    ]:
        axe_page.goto(path)
        found[name] = violations(axe_page)
    # The dialogs of the keys page, open.
    axe_page.goto(f"/applications/{application.pk}/keys/production/")
    for opener, dialog in [
        ("button:has-text('Generate Access Token')", "#token-dialog"),
        ("button:has-text('CURL to Generate Access Token')", "#curl-dialog"),
        ("text=Remove Keys", "#remove-dialog"),
    ]:
        axe_page.click(opener)
        expect(axe_page.locator(dialog)).to_be_visible()
        found[dialog] = violations(axe_page)
        axe_page.keyboard.press("Escape")
    assert not any(found.values()), "\n".join(
        f"{page}: {line}" for page, lines in found.items() for line in lines
    )


def test_the_consent_page_has_no_serious_violation(axe_page, owner, live_url):
    resident = restore_migration_rows()
    client = adapter_for(resident).register_client(
        ClientConfig(
            name=f"{owner.username}_Pizza Tracker_PRODUCTION",
            application_name="Pizza Tracker",
            grant_types=["authorization_code"],
            callback_url="http://127.0.0.1:9/callback",
            owner=owner.username,
        )
    )
    sign_in(axe_page, owner)
    params = {
        "response_type": "code",
        "client_id": client.ref.client_id,
        "redirect_uri": "http://127.0.0.1:9/callback",
        "scope": "openid default",
        "state": "st-axe",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    axe_page.goto(live_url("/oauth2/authorize?" + urlencode(params)))
    expect(axe_page.locator("h1")).to_have_text("Authorize Pizza Tracker?")
    found = violations(axe_page)
    shot(
        axe_page,
        f"consent-{axe_page.width_name}",
        readme="consent" if axe_page.width_name == "desktop" else None,
    )
    assert not found, "\n".join(found)
