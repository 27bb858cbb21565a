"""Every page carries the strict Content-Security-Policy, and our HTML needs nothing it forbids."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/done/",
    "/accounts/signup/sent/",
    "/no-such-page/",
]
SIGNED_IN_PAGES = ["/accounts/password/change/", "/accounts/password/change/done/"]


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, style attributes, on* handlers, other origins."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("src", "href", "action") and value and value.startswith(("http:", "https:", "//")):
                self.problems.append(f"<{tag} {name}={value!r}> loads from another origin")
            if name == "href" and value and value.startswith("javascript:"):
                self.problems.append(f"<{tag} href={value!r}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not attributes.get("src"):
            self._in_inline_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _assert_strict(response):
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header

    finder = _InlineFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_pages_are_served_with_a_strict_csp(client, path):
    response = client.get(path)

    assert response.status_code in (200, 404)
    _assert_strict(response)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_are_served_with_a_strict_csp(owner_client, path):
    response = owner_client.get(path)

    assert response.status_code == 200
    _assert_strict(response)


def test_staff_see_the_admin_link_and_others_do_not(owner_client, admin_client_):
    assert 'href="/admin/"' not in owner_client.get("/accounts/password/change/").content.decode()
    assert 'href="/admin/"' in admin_client_.get("/accounts/password/change/").content.decode()


@pytest.mark.django_db
def test_pages_cannot_be_framed_and_do_not_sniff(client):
    response = client.get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_stylesheet_script_and_logo_the_pages_load_are_served_from_our_origin(client):
    content = client.get("/accounts/login/").content.decode()

    for path, content_type in [
        ("/static/css/portal.css", "text/css"),
        ("/static/js/portal.js", "text/javascript"),
        ("/static/img/logo.svg", "image/svg+xml"),
    ]:
        assert f'"{path}"' in content
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
