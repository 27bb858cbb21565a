"""SSRF: server-side fetches of admin- or server-supplied URLs reach only public addresses.

A real listener on loopback counts connections: a refused fetch must leave it untouched. The tests
run with PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES off, as production does by default.
"""

from __future__ import annotations

import socket
import threading

import pytest

from keymanagers import http as km_http
from keymanagers.base import ClientRef, KeyManagerError, adapter_for
from keymanagers.http import fetch_well_known, is_public_address
from keymanagers.models import KeyManager
from tests.external.test_admin import ADD_URL, form_data


class Listener:
    """A loopback HTTP server that counts connections and answers every request the same way."""

    def __init__(
        self, host: str = "127.0.0.1", *, status: str = "200 OK", body: bytes = b"{}", headers: str = ""
    ):
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.response = (
            f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{headers}\r\n"
        ).encode() + body
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(self.response)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    made: list[Listener] = []

    def make(**kwargs) -> Listener:
        made.append(Listener(**kwargs))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture(autouse=True)
def _production_rule(settings):
    settings.PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_not_public(address):
    assert not is_public_address(address)


def test_public_addresses_are_public():
    assert is_public_address("93.184.215.14")
    assert is_public_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")


def test_the_well_known_import_refuses_loopback_without_connecting(listener):
    server = listener()

    with pytest.raises(KeyManagerError) as caught:
        fetch_well_known(f"http://127.0.0.1:{server.port}/.well-known/openid-configuration")

    assert "not a public address" in caught.value.message
    assert server.connections == 0


def test_a_name_is_checked_after_dns_resolution(listener, monkeypatch):
    server = listener()
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        # An innocent-looking name whose DNS answer is a loopback address.
        return real("127.0.0.1" if host == "innocent.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    with pytest.raises(KeyManagerError) as caught:
        fetch_well_known(f"http://innocent.example:{server.port}/.well-known/openid-configuration")

    assert "innocent.example is not a public address" in caught.value.message
    assert server.connections == 0


def test_every_redirect_is_checked_again_dns_rebinding_included(listener, monkeypatch):
    # The first answer for the name is "public" (127.0.0.1, declared public for this test); the
    # server redirects to its own origin and closes the connection, and the second DNS answer points
    # at a private address (127.0.0.2): the redirect's new connection must be refused there.
    first = listener(status="302 Found", headers="Location: /again\r\n")
    second = listener(host="127.0.0.2")
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2"])

    def resolve(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(km_http, "is_public_address", lambda address: address == "127.0.0.1")

    with pytest.raises(KeyManagerError) as caught:
        fetch_well_known(f"http://rebind.example:{first.port}/.well-known/openid-configuration")

    assert "not a public address" in caught.value.message
    assert first.connections == 1
    assert second.connections == 0


def test_remote_error_bodies_are_summarised_never_echoed(listener, settings):
    settings.PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES = True  # the operator allowed a private server
    server = listener(status="500 Internal Server Error", body=b"<h1>INTERNAL-ONLY db password hunter2</h1>")

    with pytest.raises(KeyManagerError) as caught:
        fetch_well_known(f"http://127.0.0.1:{server.port}/.well-known/openid-configuration")

    assert caught.value.message == "the server answered HTTP 500, not a discovery document"
    assert server.connections == 1


def test_a_non_json_answer_to_a_key_manager_call_is_summarised(listener, settings):
    settings.PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES = True
    server = listener(status="403 Forbidden", body=b"INTERNAL-ONLY")
    km = KeyManager(name="internal", type=KeyManager.Type.OIDC_DCR)

    with pytest.raises(KeyManagerError) as caught:
        km_http.KeyManagerHttp(km).request("probe", "GET", f"http://127.0.0.1:{server.port}/x")

    assert "INTERNAL-ONLY" not in caught.value.message
    assert caught.value.message == "the server answered with a non-JSON body (13 bytes) (HTTP 403)"


@pytest.mark.django_db
def test_admin_import_from_well_known_shows_no_remote_content(admin_client_, listener):
    server = listener()

    response = admin_client_.post(
        ADD_URL,
        form_data(
            well_known_url=f"http://127.0.0.1:{server.port}/.well-known/openid-configuration",
            import_well_known="on",
        ),
    )

    assert response.status_code == 200
    assert "not a public address" in response.content.decode()
    assert server.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["delete", "update"])
def test_registration_client_uri_must_share_the_registration_endpoints_origin(operation, listener, settings):
    settings.PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES = True  # even where private addresses are allowed
    registration = listener()
    elsewhere = listener()
    km = KeyManager.objects.create(
        name="dcr",
        type=KeyManager.Type.OIDC_DCR,
        registration_endpoint=f"http://127.0.0.1:{registration.port}/reg",
        token_endpoint=f"http://127.0.0.1:{registration.port}/token",
        available_grant_types=["client_credentials"],
    )
    ref = ClientRef(
        client_id="c1",
        state={
            "registration_access_token": "rat-secret",
            "registration_client_uri": f"http://127.0.0.1:{elsewhere.port}/steal",
        },
    )
    adapter = adapter_for(km)

    with pytest.raises(KeyManagerError) as caught:
        if operation == "delete":
            adapter.delete_client(ref)
        else:
            from keymanagers.base import ClientConfig

            adapter.update_client(ref, ClientConfig(name="x", grant_types=["client_credentials"]))

    assert "not at the registration endpoint's origin" in caught.value.message
    assert elsewhere.connections == 0
    assert registration.connections == 0
