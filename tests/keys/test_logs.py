"""Secrets and tokens never reach the logs, on success or failure."""

from __future__ import annotations

import logging

from tests.keys.helpers import FakeAdapter

API = "/api/am/devportal/v3"


def test_generating_keys_and_tokens_logs_no_secret(caplog, owner_client, application, resident):
    caplog.set_level(logging.DEBUG)
    body = owner_client.post(
        f"{API}/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION"},
        content_type="application/json",
    ).json()
    token = owner_client.post(
        f"{API}/applications/{application.pk}/oauth-keys/{body['keyMappingId']}/generate-token",
        {"consumerSecret": body["consumerSecret"]},
        content_type="application/json",
    ).json()["accessToken"]

    logged = caplog.text + repr([r.args for r in caplog.records])
    for value in (body["consumerSecret"], body["token"]["accessToken"], token):
        assert value not in logged


def test_a_failed_save_logs_the_client_id_but_no_secret(
    caplog, owner_client, application, fake_km, monkeypatch
):
    from keys import services

    caplog.set_level(logging.DEBUG)
    seen = {}
    real_register = FakeAdapter.register_client

    def register(self, config, **kwargs):
        registered = real_register(self, config, **kwargs)
        seen["secret"] = registered.secret.value
        return registered

    monkeypatch.setattr(FakeAdapter, "register_client", register)
    monkeypatch.setattr(
        services, "_store_secret", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full"))
    )
    response = owner_client.post(
        f"{API}/applications/{application.pk}/generate-keys",
        {"keyType": "PRODUCTION", "keyManager": "fake"},
        content_type="application/json",
    )

    assert response.status_code == 500
    assert "removed again" in response.json()["description"]
    assert "Saving keys failed" in caplog.text
    assert seen["secret"] not in caplog.text
