"""The layout's promises, checked: ``keys`` reaches key managers only through ``keymanagers.base``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# keys may use keymanagers' interface, models and shared helpers, never an adapter, DOT or HTTP.
FORBIDDEN_IN_KEYS = (
    "oauth2_provider",
    "oauthlib",
    "httpx",
    "requests",
    "urllib.request",
    "keymanagers.resident",
    "keymanagers.oidc_dcr",
    "keymanagers.keycloak",
    "keymanagers.okta",
    "keymanagers.http",
    "keymanagers.adapters",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_keys_never_imports_an_adapter_dot_or_an_http_client():
    offenders = []
    for path in sorted((ROOT / "keys").rglob("*.py")):
        for module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN_IN_KEYS):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_adapters_never_import_the_keys_app():
    # Adapters get plain dataclasses in and give plain dataclasses back (keymanagers/base.py).
    offenders = []
    for path in sorted((ROOT / "keymanagers").rglob("*.py")):
        if path.name == "admin.py" or "migrations" in path.parts:
            continue  # the admin is a composition point: it offers the secrets masking action
        for module in imported_modules(path):
            if module == "keys" or module.startswith("keys."):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []
