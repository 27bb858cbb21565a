"""Shared by the issue-13 browser tests (test_keys_usability.py, test_accessibility.py): the two
widths the keys pages are walked at, the data rows transactional tests lose, keys made through the
service (the tests are about the pages, not about generating), and screenshots under
``test-artifacts/`` (git-ignored), with the README's copies refreshed on demand.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

from django.apps import apps

from keymanagers.models import GrantType, KeyManager
from keys import services

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
README_SHOTS = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


def restore_migration_rows() -> KeyManager:
    """Transactional tests flush every table, taking the data migrations' rows (the Resident key
    manager, the default scope): run those migrations' functions again. Returns the Resident."""
    for module, function in [
        ("keymanagers.migrations.0002_resident_key_manager", "create_resident"),
        ("keys.migrations.0002_default_scope", "create_default_scope"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)
    return KeyManager.objects.get(type=KeyManager.Type.RESIDENT)


def make_keys(application, key_manager, *, env: str = "PRODUCTION", description: str = "First secret"):
    """Keys with Client Credentials (so the token and cURL dialogs are there); returns the result
    of ``keys.services.keys_generate`` (its ``consumer_secret`` is the one-time value)."""
    return services.keys_generate(
        application=application,
        key_type=env,
        key_manager=key_manager,
        config={"grant_types": [GrantType.CLIENT_CREDENTIALS, GrantType.REFRESH_TOKEN]},
        actor=application.owner,
        secret_description=description,
    )


def shot(page, name: str, *, readme: str | None = None) -> Path:
    """Save a full-page screenshot as ``test-artifacts/<name>.png``. With ``readme`` and
    ``UPDATE_README_SCREENSHOTS=1``, also refresh ``docs/screenshots/<readme>.png`` (the visible
    part only, so the committed files stay small)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if readme and os.environ.get("UPDATE_README_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        visible = ARTIFACTS / f"{name}.readme.png"
        page.screenshot(path=str(visible), full_page=False)
        shutil.copyfile(visible, README_SHOTS / f"{readme}.png")
    return path
