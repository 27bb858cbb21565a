"""Browser-test harness: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures:
- ``browser``: one headless Chromium for the whole session.
- ``page``: a fresh context and page per test. Any console error, uncaught page error or CSP
  violation fails the test at teardown: that is how the strict Content-Security-Policy is proven
  to hold on every page a test visits. A test that expects such an error can call
  ``page.browser_errors.clear()``.
- ``signed_in_page(user, password=PASSWORD)``: signs ``user`` in through the real login form and
  returns the page, on the applications list.
- ``live_url(path)``: an absolute URL on the live server.
- ``screenshot(page, name)``: saves ``/tmp/shots/<name>.png`` (full page) for a human to look at.

Mark tests with ``@pytest.mark.browser`` and ``BROWSER_DB`` (the live server runs in another
thread, so the test's data must really be committed). Without a Chromium the tests skip locally;
in CI a skip is a failure (tests/conftest.py).

Browser tests always run with ``serialized_rollback``: a transactional test ends by emptying the
database, which would also wipe what migrations created (the Resident key manager, content
types) for every later test in the process; serialized rollback restores it. A browser test
marked with plain ``django_db(transaction=True)`` gets ``serialized_rollback`` added here, because
one test without it recreates content types under new ids and breaks the next one that has it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a thread
# with a running loop unless told it is safe (the test and the loop never share a connection).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = Path("/tmp/shots")
BROWSER_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TIMEOUT_MS = 10_000


def _chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser") is None:
            continue
        marker = item.get_closest_marker("django_db")
        if (
            marker is not None
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}),
                append=False,
            )


# One Playwright and one Chromium per test process, whichever conftest re-exports the fixture:
# Playwright's sync API refuses to start a second instance while one is running.
_SHARED: dict = {}


def _stop_shared_browser() -> None:
    browser = _SHARED.pop("browser", None)
    playwright = _SHARED.pop("playwright", None)
    if browser is not None:
        browser.close()
    if playwright is not None:
        playwright.stop()


def _shared_browser(config, executable: str):
    if "browser" not in _SHARED:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        try:
            _SHARED["browser"] = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        except Exception:
            playwright.stop()
            raise
        _SHARED["playwright"] = playwright
        config.add_cleanup(_stop_shared_browser)
    return _SHARED["browser"]


@pytest.fixture(scope="session")
def browser(request):
    executable = _chromium_path()
    if not executable:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return _shared_browser(request.config, executable)


@pytest.fixture
def live_url(live_server):
    def build(path: str = "/") -> str:
        return live_server.url + path

    return build


def _watch_for_errors(page) -> list[str]:
    errors: list[str] = []

    def on_console(message):
        # CSP violations are reported as console errors ("Refused to load/apply/execute ...").
        if message.type == "error":
            errors.append(f"console error: {message.text} at {message.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught page error: {exc}"))
    # A second, explicit net for CSP: the browser fires this event for every violation.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI); });"
    )
    return errors


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.browser_errors = _watch_for_errors(page)
    try:
        yield page
        errors = list(page.browser_errors)
    finally:
        context.close()
    if errors:
        pytest.fail("the browser reported errors (CSP violations count):\n" + "\n".join(errors))


def sign_in(page, user, password: str = PASSWORD):
    """Sign ``user`` in through the real login form; leaves the page on the applications list."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/applications/**")
    return page


@pytest.fixture
def signed_in_page(page):
    def _signed_in(user, password: str = PASSWORD):
        return sign_in(page, user, password)

    return _signed_in


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
