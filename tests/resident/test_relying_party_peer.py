"""An independent relying party (npm ``openid-client`` and ``oauth4webapi``, tests/peers/relying-party)
runs every flow the keys page offers for Code against the live portal: discovery, code + PKCE with
the RFC 9207 ``iss`` check, ID token and userinfo, RFC 9068 validation of the JWT access token,
refresh, introspection, revocation, and an error answer (``login_required``) that carries ``iss``.

The test plays the browser: it follows each authorization URL the library built with a signed-in
session (or none) and hands the callback URL back. The client has the admin's *Skip
authorization*, so no consent form stands between (the browser tests cover the forms).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from keymanagers.base import ClientConfig, adapter_for
from keymanagers.models import KeyManager, OAuthClient

PEER_DIR = Path(__file__).resolve().parent.parent / "peers" / "relying-party"
CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect itself

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def migration_rows():
    """Transactional tests flush every table, taking the data migrations' rows (the Resident key
    manager, the default scope) with them: run those migrations' functions again first."""
    from django.apps import apps

    for module, function in [
        ("keymanagers.migrations.0002_resident_key_manager", "create_resident"),
        ("keys.migrations.0002_default_scope", "create_default_scope"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def node():
    executable = shutil.which("node")
    if not executable:
        pytest.skip("node is not installed (CI installs it)")
    if not (PEER_DIR / "node_modules" / "openid-client").is_dir():
        pytest.skip(f"run `npm ci` in {PEER_DIR} (CI does)")
    return executable


def test_openid_client_completes_code_pkce_refresh_introspection_and_revocation(
    node, live_server, settings, owner
):
    settings.SITE_URL = live_server.url
    settings.RESIDENT_ISSUER = live_server.url + "/oauth2"
    resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
    registered = adapter_for(resident).register_client(
        ClientConfig(
            name="alice_Relying party_PRODUCTION",
            application_name="Relying party",
            grant_types=["authorization_code", "refresh_token"],
            callback_url=CALLBACK,
            pkce_mandatory=True,
            owner=owner.username,
        )
    )
    OAuthClient.objects.filter(client_id=registered.ref.client_id).update(skip_authorization=True)
    browser = Client()
    browser.force_login(owner)
    session_cookie = {
        django_settings.SESSION_COOKIE_NAME: browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    }

    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own script
        [node, "run.mjs"],
        cwd=PEER_DIR,
        env={
            **os.environ,
            "RP_ISSUER": settings.RESIDENT_ISSUER,
            "RP_CLIENT_ID": registered.ref.client_id,
            "RP_CLIENT_SECRET": registered.secret.value,
            "RP_REDIRECT_URI": CALLBACK,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answers = []
        for cookies in (session_cookie, {}):  # signed in, then a silent request without a session
            line = process.stdout.readline()
            assert line, process.stderr.read()
            message = json.loads(line)
            assert "authorize" in message, message
            redirect = httpx.get(message["authorize"], cookies=cookies, follow_redirects=False)
            assert redirect.status_code == 302, redirect.text
            assert redirect.headers["location"].startswith(CALLBACK)
            answers.append(redirect.headers["location"])
            process.stdin.write(redirect.headers["location"] + "\n")
            process.stdin.flush()
        result = json.loads(process.stdout.readline() or '{"ok": false, "error": "no answer"}')
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert result == {
        "ok": True,
        "steps": [
            "discovery",
            "code+pkce",
            "rfc9068",
            "userinfo",
            "refresh",
            "introspection",
            "revocation",
            "error-with-iss",
        ],
    }, result
    assert process.returncode == 0
