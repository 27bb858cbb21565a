"""Deployment settings: a production-like environment passes `manage.py check --deploy` cleanly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing from the test run or the developer's shell may leak into the "production" process.
        if not key.startswith(
            ("DJANGO_", "PORTAL_", "PYTEST", "SECURE_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
        )
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        PORTAL_HASH_KEY=secrets.token_urlsafe(32),
        PORTAL_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="portal.example.com",
        SITE_URL="https://portal.example.com",
        EMAIL_HOST="smtp.example.com",
    )
    env.update(extra)
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_production_environment_passes_the_deploy_checks_without_a_single_warning():
    result = _check_deploy(_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_checks_catch_a_missing_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]

    result = _check_deploy(env)

    assert result.returncode != 0
    assert "portal.E001" in result.stderr


def test_the_deploy_checks_catch_https_switched_off():
    result = _check_deploy(_production_env(PORTAL_HTTPS="false"))

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


def test_the_deploy_checks_refuse_emails_in_the_server_log():
    env = _production_env()
    del env["EMAIL_HOST"]  # the console backend: password-reset links would land in the log

    result = _check_deploy(env)

    assert result.returncode != 0
    assert "portal.E003" in result.stderr


def test_the_deploy_checks_refuse_hash_and_encryption_keys_that_fall_back_to_secret_key():
    env = _production_env()
    del env["PORTAL_HASH_KEY"], env["PORTAL_ENCRYPTION_KEY"]

    result = _check_deploy(env)

    assert result.returncode != 0
    assert result.stderr.count("portal.E002") == 2
    assert "PORTAL_HASH_KEY is not set" in result.stderr
    assert "PORTAL_ENCRYPTION_KEY is not set" in result.stderr
