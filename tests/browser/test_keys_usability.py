"""Issue 13 (part B): the keys pages walked in Chromium as a new developer would, at 1280 and 390 px.

One test per finding: the scope picker, messages where the user is looking, a cURL command that
runs, single-secret mode that does not contradict itself, one confirmation pattern and one set of
labels, the Sandbox marker, the phone layout, and the demo's second key manager. Screenshots go to
``test-artifacts/`` (``UPDATE_README_SCREENSHOTS=1`` refreshes the README's). The ``page`` fixture
fails a test on any console error or CSP violation.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from keys.models import ApplicationKey, Scope
from keys.secrets import services as secret_services
from portal.models import Application
from tests.browser.conftest import BROWSER_DB, sign_in
from tests.browser.keys_walk import VIEWPORTS, make_keys, restore_migration_rows, shot

pytestmark = [pytest.mark.browser, BROWSER_DB]

SCOPES = [
    ("weather:read", "Read forecasts", "Read the forecast of any city."),
    ("weather:alerts", "Weather alerts", "Receive storm and heat warnings."),
    ("weather:history", "History", "Past observations, up to ten years back."),
    ("maps:tiles", "Map tiles", "Radar and satellite map tiles."),
    ("account:read", "Account", "Read the account's plan and usage."),
    ("billing:read", "Invoices", "Read invoices."),
    ("stations:write", "Stations", "Register your own weather stations."),
]


@pytest.fixture(params=list(VIEWPORTS))
def width(request, page):
    """Every test runs at 1280 px (desktop) and 390 px (phone)."""
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


@pytest.fixture
def resident():
    return restore_migration_rows()


@pytest.fixture
def application(owner, resident):
    return Application.objects.create(owner=owner, name="Weather App", token_type="JWT")


def keys_page(application, env="production", km="Resident"):
    return f"/applications/{application.pk}/keys/{env}/?km={km}"


def no_sideways_scrolling(page):
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


# -- 2. scopes ----------------------------------------------------------------------------------------


def test_scopes_are_labelled_checkboxes_with_a_filter_and_the_token_lists_them(
    page, width, owner, application, resident
):
    for name, display, description in SCOPES:
        Scope.objects.create(name=name, display_name=display, description=description)
    secret = make_keys(application, resident).consumer_secret
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.click("button:has-text('Generate Access Token')")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()

    # Each scope is a checkbox whose label says display name, key and description.
    read = dialog.get_by_role(
        "checkbox", name=re.compile(r"Read forecasts\s+weather:read\s+Read the forecast")
    )
    expect(read).to_be_visible()
    expect(dialog.locator("select[multiple]")).to_have_count(0)
    read.check()

    # Many scopes: a filter narrows the list; a ticked scope stays; the keyboard picks one.
    dialog.get_by_label("Filter scopes by name, key or description").fill("storm")
    expect(dialog.get_by_role("checkbox", name=re.compile("Weather alerts"))).to_be_visible()
    expect(dialog.get_by_role("checkbox", name=re.compile("Map tiles"))).to_be_hidden()
    expect(read).to_be_visible()
    shot(page, f"scopes-picker-{width}", readme="keys-token-dialog" if width == "desktop" else None)
    read.focus()  # listed by key: weather:alerts comes before weather:read, the rows between are hidden
    page.keyboard.press("Shift+Tab")
    alerts = dialog.get_by_role("checkbox", name=re.compile("Weather alerts"))
    expect(alerts).to_be_focused()
    page.keyboard.press("Space")
    expect(alerts).to_be_checked()
    dialog.get_by_label("Filter scopes by name, key or description").fill("")
    expect(dialog.get_by_role("checkbox", name=re.compile("Map tiles"))).to_be_visible()

    dialog.locator("input[name=token-validity_period]").fill("600")
    dialog.locator("input[name=token-consumer_secret]").fill(secret)
    dialog.locator("button[type=submit]").click()

    result = page.locator(".secret-once .scope-result")
    expect(result).to_contain_text("Read forecasts")
    expect(result).to_contain_text("weather:read")
    expect(result).to_contain_text("Weather alerts")
    expect(result).to_contain_text("weather:alerts")
    expect(result).not_to_contain_text("Map tiles")
    shot(page, f"scopes-token-result-{width}")


# -- 3. messages where the user is looking -----------------------------------------------------------


def test_update_says_so_inside_key_configurations_in_view_and_announced(
    page, width, owner, application, resident
):
    make_keys(application, resident)
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.fill("input[name=update-application_access_token_expiry_time]", "1800")
    page.click("#key-configuration button:has-text('Update')")

    message = page.locator("#key-configuration [data-panel-messages]")
    expect(message).to_contain_text("Keys updated.")
    expect(message).to_have_attribute("aria-live", "polite")
    expect(message).to_have_attribute("role", "status")
    expect(message).to_be_in_viewport()
    expect(page.locator("main > .flashes")).to_have_count(0)
    assert ApplicationKey.objects.get().application_access_token_expiry_time == 1800
    shot(page, f"message-update-{width}")


def test_deleting_a_secret_says_so_in_the_secrets_panel_in_view(page, width, owner, application, resident):
    key = make_keys(application, resident).key
    secret_services.secret_create(key=key, description="Old secret", actor=owner)
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.locator("tr", has_text="Old secret").locator("text=Delete").click()
    page.locator(f"#delete-secret-{key.pk} button[type=submit]").click()

    message = page.locator(".secrets-panel [data-panel-messages]")
    expect(message).to_contain_text("Secret deleted.")
    expect(message).to_have_attribute("aria-live", "polite")
    expect(message).to_be_in_viewport()
    expect(page.locator(".secrets-panel")).not_to_contain_text("Old secret")
    shot(page, f"message-secret-deleted-{width}")


# -- 4. cURL ------------------------------------------------------------------------------------------


def test_the_curl_commands_run_as_pasted_and_keep_the_secret_out_of_them(
    page, width, owner, application, resident, settings, live_server
):
    # The page's token endpoint is SITE_URL's: point it at this live server so the command is run.
    settings.SITE_URL = live_server.url
    generated = make_keys(application, resident)
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.click("button:has-text('CURL to Generate Access Token')")
    read_secret = page.locator("#curl-secret-command").inner_text()
    curl = page.locator("#curl-command").inner_text()
    assert read_secret == "read -rs CONSUMER_SECRET && export CONSUMER_SECRET"
    assert f'-u "{generated.key.consumer_key}:$CONSUMER_SECRET"' in curl
    assert generated.consumer_secret not in curl + read_secret
    no_sideways_scrolling(page)
    shot(page, f"curl-dialog-{width}")

    # Pasted into bash one after the other, the secret typed (here: piped) at `read`'s prompt.
    answer = subprocess.run(  # noqa: S603 - the two commands the page shows, nothing else
        ["bash", "-c", read_secret + "\n" + curl + " --silent --show-error"],  # noqa: S607
        input=generated.consumer_secret + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    assert '"access_token"' in answer.stdout
    assert generated.consumer_secret not in answer.stdout + answer.stderr


# -- 5. single-secret mode, confirmations, labels, badges, states -----------------------------------


def test_single_secret_mode_never_says_not_shown_again_above_a_working_show(
    page, width, owner, application, resident
):
    resident.multiple_secrets_enabled = False
    resident.save()
    key = make_keys(application, resident).key
    sign_in(page, owner)
    page.goto(keys_page(application))

    page.click("text=Regenerate Consumer Secret")
    dialog = page.locator("#regenerate-dialog")
    expect(dialog).to_be_visible()  # a dialog, like deleting a secret: no page of its own
    expect(dialog.locator("button:has-text('Cancel')")).to_be_focused()
    shot(page, f"regenerate-dialog-{width}")
    dialog.locator("button[type=submit]").click()

    once = page.locator(".secret-once")
    expect(once).to_contain_text("New consumer secret")
    expect(once).to_contain_text("stays available under Consumer Secret")
    expect(page.locator("body")).not_to_contain_text("will not be shown again")
    new_value = page.locator("#new-secret").inner_text()
    page.click("button[data-toggle-reveal='#consumer-secret']")
    expect(page.locator("#consumer-secret")).to_have_text(new_value)
    assert ApplicationKey.objects.get(pk=key.pk).consumer_key == key.consumer_key
    shot(page, f"single-secret-regenerated-{width}")


def test_one_confirmation_pattern_one_dialog_width_and_one_set_of_labels(
    page, width, owner, application, resident
):
    sign_in(page, owner)
    page.goto(keys_page(application))
    # The first secret's fields are named as in + New Secret.
    expect(page.get_by_label("Description (optional)")).to_be_visible()
    expect(page.get_by_label("Expiry", exact=True)).to_be_visible()
    page.click("button:has-text('Generate Keys')")
    key = ApplicationKey.objects.get()
    # A second secret: the last valid one cannot be deleted (its Delete is disabled), any other can.
    secret_services.secret_create(key=key, description="rotation", actor=owner)
    page.goto(keys_page(application))  # a GET: reloading the POST's answer would generate again

    widths = {}
    for opener, dialog_id in [
        ("button:has-text('Generate Access Token')", "#token-dialog"),
        ("button:has-text('CURL to Generate Access Token')", "#curl-dialog"),
        ("text=+ New Secret", f"#new-secret-{key.pk}"),
        (".secrets-table >> text=Delete", f"#delete-secret-{key.pk}"),
        ("text=Remove Keys", "#remove-dialog"),
    ]:
        page.click(opener)
        dialog = page.locator(dialog_id)
        expect(dialog).to_be_visible()
        if dialog_id == f"#new-secret-{key.pk}":
            expect(dialog.get_by_label("Description (optional)")).to_be_visible()
            expect(dialog.get_by_label("Expiry", exact=True)).to_be_visible()
        widths[dialog_id] = round(dialog.bounding_box()["width"])
        box = dialog.locator("button[type=submit], button:has-text('Close')").last.bounding_box()
        assert box["x"] + box["width"] <= VIEWPORTS[width]["width"], f"{dialog_id}'s button is off-screen"
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    assert len(set(widths.values())) == 1, widths

    # Remove Keys confirms in a dialog (Cancel focused), as deleting a secret does.
    page.click("text=Remove Keys")
    dialog = page.locator("#remove-dialog")
    expect(dialog.locator("button:has-text('Cancel')")).to_be_focused()
    expect(dialog).to_contain_text(key.consumer_key)
    shot(page, f"remove-dialog-{width}")
    dialog.locator("button:has-text('Remove Keys')").click()
    expect(page.locator("#generate-keys")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="keys at Resident Key Manager removed")).to_be_visible()
    assert not ApplicationKey.objects.exists()


def test_an_expiry_error_keeps_the_four_fields_in_line(page, width, owner, application):
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.fill("input[name=user_access_token_expiry_time]", "0")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator(".keys-expiry .errorlist")).to_have_count(1)
    page.browser_errors[:] = [e for e in page.browser_errors if "status of 400 (Bad Request)" not in e]
    tops = {
        round(page.locator(f"input[name={name}]").bounding_box()["y"])
        for name in (
            "application_access_token_expiry_time",
            "user_access_token_expiry_time",
            "refresh_token_expiry_time",
            "id_token_expiry_time",
        )
    }
    if width == "desktop":  # four columns: one line
        assert len(tops) == 1, tops
    no_sideways_scrolling(page)
    shot(page, f"expiry-error-{width}")


def test_badges_do_not_repeat_and_states_are_words(page, width, owner, application):
    sign_in(page, owner)
    page.goto(f"/applications/{application.pk}/")
    details = page.locator("dl.details")
    expect(details.locator("dt:has-text('Token type') + dd")).to_have_text("JWT")
    expect(details.locator("dt:has-text('Status') + dd")).to_have_text("Active")
    expect(page.locator("main")).not_to_contain_text("APPROVED")
    shot(page, f"application-overview-{width}", readme="application" if width == "desktop" else None)


# -- 6. Sandbox marker --------------------------------------------------------------------------------


def test_sandbox_pages_and_their_secrets_carry_a_band_and_a_label(page, width, owner, application, resident):
    sign_in(page, owner)
    page.goto(keys_page(application, "production"))
    expect(page.locator(".env-band")).to_have_count(0)
    page.goto(keys_page(application, "sandbox"))
    band = page.locator(".env-band")
    expect(band).to_be_visible()
    expect(band).to_contain_text("Sandbox")
    expect(band.locator(".env-label")).to_have_text("Sandbox")
    page.click("button:has-text('Generate Keys')")
    expect(page.locator(".secret-once .badge-sandbox")).to_have_text("Sandbox")
    shot(page, f"sandbox-keys-{width}", readme="keys-sandbox" if width == "desktop" else None)

    key = ApplicationKey.objects.get(key_type="SANDBOX")
    page.goto(f"/applications/{application.pk}/keys/sandbox/{key.pk}/secrets/")
    expect(page.locator(".env-band")).to_contain_text("Sandbox")
    shot(page, f"sandbox-secrets-{width}")


# -- 7. phone layout ----------------------------------------------------------------------------------


def test_every_keys_action_is_on_screen_without_sideways_scrolling(page, width, owner, application, resident):
    make_keys(application, resident)
    sign_in(page, owner)
    page.goto(keys_page(application))
    no_sideways_scrolling(page)
    limit = VIEWPORTS[width]["width"]
    actions = page.locator(
        ".keys-actions .btn, .copy-row .btn, #key-configuration button[type=submit], .secrets-new .btn"
    )
    assert actions.count() >= 8
    for index in range(actions.count()):
        box = actions.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= limit, actions.nth(index).inner_text()
    shot(page, f"keys-page-{width}", readme=f"keys-{width}")


# -- 10. the demo's second key manager ----------------------------------------------------------------


def test_the_demo_with_node_shows_a_second_key_manager_tab_that_makes_keys(page, width):
    from portal.demo import DEMO_PASSWORD, load_demo_data
    from tests.external.conftest import _start_peer

    restore_migration_rows()
    peer = _start_peer()
    try:
        data = load_demo_data(oidc_peer_url=peer.url, oidc_peer_token=peer.initial_access_token)
        sign_in(page, data["developer"], DEMO_PASSWORD)
        page.goto(f"/applications/{data['application'].pk}/keys/production/")
        tabs = page.locator(".keys-km-tabs .tab")
        expect(tabs).to_have_count(2)
        expect(tabs.nth(1)).to_have_text("Demo OIDC provider")
        tabs.nth(1).click()
        page.click("button:has-text('Generate Keys')")
        expect(page.locator("#consumer-key")).not_to_have_value("")
        key = ApplicationKey.objects.get(key_manager__name="demo-oidc")
        expect(page.locator("#consumer-key")).to_have_value(key.consumer_key)
        no_sideways_scrolling(page)
        shot(page, f"demo-second-key-manager-{width}")
    finally:
        peer.stop()


def test_a_new_secret_is_shown_once_on_the_keys_page_like_the_first(
    page, width, owner, application, resident
):
    key = make_keys(application, resident).key
    sign_in(page, owner)
    page.goto(keys_page(application))
    page.click("text=+ New Secret")
    dialog = page.locator(f"#new-secret-{key.pk}")
    dialog.get_by_label("Description (optional)").fill("CI pipeline")
    dialog.get_by_role("button", name="Generate secret").click()

    once = page.locator(".secret-once")
    expect(once.locator("h2")).to_have_text("Copy it now, it will not be shown again")
    expect(once).to_contain_text("“CI pipeline”")
    expect(page).to_have_url(re.compile(re.escape(keys_page(application)) + "$"))
    expect(page.locator(".secrets-panel tbody")).to_contain_text("CI pipeline")
    value = page.locator("#new-secret-value").inner_text()
    shot(page, f"secret-created-inline-{width}")
    page.reload()
    expect(page.locator(".secret-once")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(value)
