"""Helpers of the keys tests: a fake key manager, URL builders, a token request at the Resident server."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from django.urls import reverse

from keymanagers.base import (
    ClientConfig,
    ClientRef,
    KeyManagerAdapter,
    RegisteredClient,
    SecretInfo,
    TokenResult,
)

FAKE_TYPE = "fake-test"


class FakeAdapter(KeyManagerAdapter):
    """An in-memory key manager. ``fail`` maps a step name to the message it fails with."""

    type = FAKE_TYPE
    supports_multiple_secrets = True
    clients: dict[str, dict] = {}
    fail: dict[str, str] = {}
    calls: list[str] = []

    def _step(self, step: str) -> None:
        self.calls.append(step)
        if step in self.fail:
            raise self.error(step, self.fail[step])

    def endpoints(self):
        return {
            "token": "https://fake.example/token",
            "revoke": "https://fake.example/revoke",
            "userinfo": "https://fake.example/userinfo",
        }

    def register_client(self, config: ClientConfig, *, secret_expires_at: datetime | None = None):
        self._step("register client")
        client_id = "fake-" + secrets.token_hex(8)
        value = "fks_" + secrets.token_urlsafe(16)
        self.clients[client_id] = {"config": config, "secrets": {value}}
        # The adapter's state must be persisted by the caller (encrypted).
        return RegisteredClient(
            ref=ClientRef(client_id, {"rat": "rat-1"}),
            secret=SecretInfo(value, remote_id="s1", expires_at=secret_expires_at),
            grant_types=config.grant_types,
            callback_url=config.callback_url,
        )

    def update_client(self, ref: ClientRef, config: ClientConfig) -> None:
        ref.state = {"rat": ref.state.get("rat", "") + "+"}  # rotates on every call, like Keycloak
        self._step("update client")
        self.clients[ref.client_id]["config"] = config

    def delete_client(self, ref: ClientRef) -> None:
        self._step("delete client")
        self.clients.pop(ref.client_id, None)

    def map_client(self, client_id: str, client_secret: str = "", state=None):
        self._step("map existing client")
        if client_secret != "right-secret":
            raise self.error("map existing client", "invalid_client: the secret does not match")
        return RegisteredClient(ref=ClientRef(client_id, {}), secret=None, grant_types=["client_credentials"])

    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        self._step("regenerate secret")
        value = "fks_" + secrets.token_urlsafe(16)
        self.clients[ref.client_id]["secrets"] = {value}
        return SecretInfo(value, remote_id="s2")

    def issue_token(
        self, ref, *, client_secret, scopes, validity_period=None, grant_type="client_credentials"
    ):
        self._step("generate token")
        if client_secret not in self.clients.get(ref.client_id, {}).get("secrets", set()):
            raise self.error("generate token", "invalid_client", status=401)
        return TokenResult(
            "fake-token-" + secrets.token_hex(8), validity_period or 3600, list(scopes) or ["default"]
        )

    def revoke_client_tokens(self, ref: ClientRef) -> int:
        self._step("revoke tokens")
        return 0


def keys_url(application, env="production", km=None):
    url = reverse("application_keys", kwargs={"application_id": application.pk, "env": env})
    return f"{url}?km={km}" if km else url


def key_url(name, key, env=None):
    return reverse(
        name,
        kwargs={"application_id": key.application_id, "env": env or key.key_type.lower(), "key_id": key.pk},
    )


CC_CONFIG = {"grant_types": ["client_credentials"]}


def token_at_endpoint(client, consumer_key, consumer_secret, **extra):
    """A client_credentials request at the Resident token endpoint, HTTP Basic like curl -u."""
    basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
    return client.post(
        "/oauth2/token",
        {"grant_type": "client_credentials", **extra},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
