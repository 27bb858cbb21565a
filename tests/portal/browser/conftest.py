"""The browser harness's fixtures (tests/browser/conftest.py), for the applications area's browser tests."""

from tests.browser.conftest import browser, live_url, page, signed_in_page  # noqa: F401
