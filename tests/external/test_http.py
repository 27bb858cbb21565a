"""keymanagers.http: one pooled client per process, and no cookie ever carried between requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from keymanagers.http import KeyManagerHttp
from keymanagers.models import KeyManager


class _CookieServer(BaseHTTPRequestHandler):
    """Sets a cookie on every answer and reports the Cookie header it was sent, and its connection."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"cookie": self.headers.get("Cookie"), "port": self.client_address[1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "session=from-the-key-manager; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def cookie_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CookieServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def key_manager(db):
    return KeyManager.objects.create(name="idp", display_name="IdP", type="oidc-dcr", timeout=7)


def test_requests_share_one_pooled_connection_across_adapters(key_manager, cookie_server):
    first = KeyManagerHttp(key_manager).request("probe", "GET", f"{cookie_server}/a").data
    second = KeyManagerHttp(key_manager).request("probe", "GET", f"{cookie_server}/b").data

    # The same client port: the second adapter reused the first one's keep-alive connection.
    assert first["port"] == second["port"]


def test_a_cookie_set_by_a_key_manager_is_never_sent_back(key_manager, cookie_server):
    http = KeyManagerHttp(key_manager)
    http.request("probe", "GET", f"{cookie_server}/a")
    answer = http.request("probe", "GET", f"{cookie_server}/b").data

    assert answer["cookie"] is None
