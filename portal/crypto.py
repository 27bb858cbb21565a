"""Secrets: generation, keyed hashing, constant-time comparison and encryption at rest.

Consumer secrets and API tokens are high-entropy values we generate ourselves, so a keyed
HMAC-SHA-256 is the right check: microseconds per compare, where Django's password hasher
would cost ~0.3 s of CPU on every token request. Values that must be read back (an external key
manager's admin credentials, a single-secret-mode consumer secret) are encrypted with Fernet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(material: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material.encode())


@cache
def _hash_key() -> bytes:
    return _derive(settings.PORTAL_HASH_KEY, b"devportal keyed hash v1")


@cache
def _fernet() -> Fernet:
    return Fernet(
        base64.urlsafe_b64encode(_derive(settings.PORTAL_ENCRYPTION_KEY, b"devportal encryption v1"))
    )


def generate_secret(prefix: str, nbytes: int = 32) -> str:
    """A random value with a recognisable prefix (so leaked ones can be found by scanners)."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def keyed_hash(value: str) -> str:
    """HMAC-SHA-256 of ``value`` under the portal's hash key, as hex."""
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()


def hash_matches(value: str, stored_hash: str) -> bool:
    """Constant-time check of ``value`` against a stored ``keyed_hash``. Empty never matches."""
    return matches_any(value, [stored_hash])


def matches_any(value: str, stored_hashes: Iterable[str]) -> bool:
    """Whether ``value`` is one of ``stored_hashes`` (``keyed_hash`` values). The hash is computed
    once and compared in constant time with every candidate, with no early exit, so the time taken
    does not tell which one matched. An empty value or hash never matches."""
    return which_matches(value, ((True, stored) for stored in stored_hashes)) is not None


def which_matches(value: str, candidates: Iterable[tuple[Any, str]]):
    """The id of the ``(id, keyed_hash)`` candidate that ``value`` is, or None; compared like
    ``matches_any`` (every candidate, constant time), so it tells which secret was used."""
    if not value:
        return None
    digest = keyed_hash(value)
    found = None
    for ident, stored in candidates:
        if bool(stored) & hmac.compare_digest(digest, stored or ""):
            found = ident
    return found


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong PORTAL_ENCRYPTION_KEY or corrupted value") from exc


def encrypt_json(data: dict[str, Any]) -> str:
    return encrypt(json.dumps(data, separators=(",", ":")))


def decrypt_json(token: str) -> dict[str, Any]:
    return json.loads(decrypt(token)) if token else {}


def mask(value: str, visible: int = 4) -> str:
    """``abcd••••••••`` — enough to tell two values apart, never enough to use one."""
    if not value:
        return ""
    return value[:visible] + "•" * 12
