"""Fixtures for the external key-manager tests: a real oidc-provider peer, dead ports, key managers.

The peer (tests/peers/oidc-provider/start.mjs) runs under ``node`` on a free loopback port. Locally the
tests skip when node or the peer's node_modules are missing; CI installs both (and fails on skips).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from keymanagers.base import ClientRef
from keymanagers.models import KeyManager
from tests.external.okta_schema import check_simulator

PEER_DIR = Path(__file__).resolve().parent.parent / "peers" / "oidc-provider"
READY_TIMEOUT = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Peer:
    """A running oidc-provider: its issuer URL and the secrets it was started with."""

    url: str
    initial_access_token: str
    introspection_client_id: str
    introspection_client_secret: str
    process: subprocess.Popen = field(repr=False)
    output: list[str] = field(default_factory=list, repr=False)

    @property
    def well_known_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def resource(self) -> str:
        return "urn:devportal:test-api"

    def stop(self) -> None:
        """Stop the server (mid-test: the port then refuses connections)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_peer(**env: str) -> Peer:
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (CI installs it)")
    if not (PEER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip(f"run `npm ci` in {PEER_DIR} (CI does)")
    port = free_port()
    iat = "iat-" + secrets.token_urlsafe(24)
    introspector_secret = secrets.token_urlsafe(24)
    process_env = {
        **os.environ,
        "PEER_PORT": str(port),
        "PEER_INITIAL_ACCESS_TOKEN": iat,
        "PEER_INTROSPECTION_CLIENT_ID": "introspector",
        "PEER_INTROSPECTION_CLIENT_SECRET": introspector_secret,
        "PEER_EXIT_ON_STDIN_CLOSE": "1",
        **env,
    }
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own script
        [node, "start.mjs"],
        cwd=PEER_DIR,
        env=process_env,
        stdin=subprocess.PIPE,  # closed when this process ends, however it ends: the peer then exits
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peer = Peer(f"http://127.0.0.1:{port}", iat, "introspector", introspector_secret, process)
    ready = threading.Event()

    def read_output():
        # Drain the pipe for the whole run so the peer never blocks on a full stdout.
        for line in process.stdout:
            peer.output.append(line.rstrip())
            if line.startswith("ready "):
                ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            peer.stop()
            pytest.fail("the oidc-provider peer did not start:\n" + "\n".join(peer.output))
    return peer


@pytest.fixture
def oidc_peer():
    """A fresh oidc-provider (registration access tokens rotate on update; secrets do not)."""
    peer = _start_peer()
    yield peer
    peer.stop()


@pytest.fixture
def oidc_peer_rotating_secrets():
    """A peer whose RFC 7592 updates also issue a new client secret."""
    peer = _start_peer(PEER_ROTATE_SECRET_ON_UPDATE="1")
    yield peer
    peer.stop()


@pytest.fixture
def oidc_peer_fixed_rat():
    """A peer that keeps a client's registration access token across updates."""
    peer = _start_peer(PEER_ROTATE_RAT="0")
    yield peer
    peer.stop()


@pytest.fixture
def stop_peer():
    """Stops a peer in the middle of a test: ``stop_peer(peer)``."""

    def stop(peer: Peer) -> None:
        peer.stop()

    return stop


@pytest.fixture
def closed_port_url():
    """A loopback URL nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def silent_server_url():
    """A loopback server that accepts connections and never answers (for timeouts)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stopping.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


def make_dcr_key_manager(
    peer: Peer, *, name: str = "peer", with_introspection: bool = True, **fields
) -> KeyManager:
    """An oidc-dcr key manager pointing at ``peer``, endpoints filled as discovery would."""
    km = KeyManager(
        name=name,
        display_name=fields.pop("display_name", "Peer IdP"),
        type=KeyManager.Type.OIDC_DCR,
        well_known_url=peer.well_known_url,
        issuer=peer.url,
        token_endpoint=f"{peer.url}/token",
        revoke_endpoint=f"{peer.url}/token/revocation",
        introspection_endpoint=f"{peer.url}/token/introspection",
        jwks_endpoint=f"{peer.url}/jwks",
        registration_endpoint=f"{peer.url}/reg",
        authorize_endpoint=f"{peer.url}/auth",
        available_grant_types=["client_credentials", "refresh_token", "authorization_code"],
        multiple_secrets_enabled=False,
        **fields,
    )
    credentials = {"initial_access_token": peer.initial_access_token}
    if with_introspection:
        credentials["introspection_client_id"] = peer.introspection_client_id
        credentials["introspection_client_secret"] = peer.introspection_client_secret
    km.set_credentials(credentials)
    km.save()
    return km


@pytest.fixture
def dcr_key_manager(db, oidc_peer):
    return make_dcr_key_manager(oidc_peer)


def read_registration(ref: ClientRef) -> httpx.Response:
    """The peer's own record of a client (RFC 7592 read, with the registration access token the
    adapter kept): what the adapter really did at the server, not what it says it did."""
    return httpx.get(
        ref.state["registration_client_uri"],
        headers={"Authorization": f"Bearer {ref.state['registration_access_token']}"},
        timeout=5,
    )


def registered(ref: ClientRef) -> dict:
    response = read_registration(ref)
    assert response.status_code == 200, response.text
    return response.json()


# -- Keycloak and Okta, simulated ----------------------------------------------------------------


@pytest.fixture
def keycloak_sim(monkeypatch):
    from keymanagers.keycloak import KeycloakAdapter
    from tests.external.simulators.keycloak import KeycloakSimulator

    sim = KeycloakSimulator()
    monkeypatch.setattr(KeycloakAdapter, "transport", sim.transport)
    return sim


def make_keycloak_key_manager(
    sim, *, initial_access_token: bool = True, service_account: bool = True, **fields
) -> KeyManager:
    km = KeyManager(
        name=fields.pop("name", "keycloak"),
        display_name=fields.pop("display_name", "Company SSO"),
        type=KeyManager.Type.KEYCLOAK,
        config={"base_url": sim.base_url, "realm": sim.realm, **fields.pop("config", {})},
        multiple_secrets_enabled=False,
        **fields,
    )
    credentials = {}
    if initial_access_token:
        credentials["initial_access_token"] = next(iter(sim.initial_access_tokens))
    if service_account:
        client_id, (secret, _roles) = next(iter(sim.service_accounts.items()))
        credentials.update(client_id=client_id, client_secret=secret)
    km.set_credentials(credentials)
    km.save()
    return km


@pytest.fixture
def keycloak_key_manager(db, keycloak_sim):
    return make_keycloak_key_manager(keycloak_sim)


@pytest.fixture
def okta_sim(monkeypatch):
    from keymanagers.okta import OktaAdapter
    from tests.external.simulators.okta import OktaSimulator

    sim = OktaSimulator()
    monkeypatch.setattr(OktaAdapter, "transport", sim.transport)
    yield sim
    # Every request the adapter sent and every answer the simulator gave fit Okta's OpenAPI spec.
    problems = check_simulator(sim)
    assert not problems, "\n".join(problems)


def make_okta_key_manager(sim, **fields) -> KeyManager:
    credentials = fields.pop("credentials", None) or {"api_token": sim.api_token}
    km = KeyManager(
        name=fields.pop("name", "okta"),
        display_name=fields.pop("display_name", "Okta"),
        type=KeyManager.Type.OKTA,
        config={
            "base_url": sim.base_url,
            "authorization_server_id": sim.authorization_server_id,
            **fields.pop("config", {}),
        },
        multiple_secrets_enabled=True,
        secret_count=2,
        **fields,
    )
    km.set_credentials(credentials)
    km.save()
    return km


@pytest.fixture
def okta_key_manager(db, okta_sim):
    return make_okta_key_manager(okta_sim)
