"""Signing keys of the resident authorization server: creation, rotation, JWKS, signing, verifying.

Keys live in ``SigningKey`` rows (private PEM Fernet-encrypted), or come from
``RESIDENT_SIGNING_KEY_FILE`` (then the row only carries the public JWK, so the JWKS and other
instances still know it). The newest active row signs; retired rows stay in the JWKS until their
``publish_until`` so tokens signed before a rotation keep verifying.

Two process-local caches, both safe with several instances:

* loaded key objects by ``kid``: a key's material never changes, and PyJWT given a PEM string
  re-parses it on every call (RS256 falls from ~2,600 to ~23 signatures/s);
* which kid is active, and which kids may verify: refreshed every ``RESIDENT_SIGNING_KEY_CACHE_SECONDS`` (60) so a rotation
  done by another instance is seen within a minute, and at once for a token with a kid not seen
  yet (at most once a second: ``UNKNOWN_KID_REFRESH_SECONDS``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from keymanagers.models import OAuthClient, SigningKey
from portal import crypto

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256")
DEFAULT_CACHE_SECONDS = 60
#: How often at most an unknown kid makes this process read the published kids again.
UNKNOWN_KID_REFRESH_SECONDS = 1.0
# A retired key is published at least this long, even when every configured lifetime is shorter.
MIN_PUBLISH_SECONDS = 86400
DEFAULT_ACCESS_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    algorithm: str
    private_key: Any  # a cryptography key object, or None for a verify-only key


_lock = threading.Lock()
_private_keys: dict[str, Any] = {}  # kid -> loaded private key (never changes for a kid)
_public_keys: dict[str, tuple[Any, str]] = {}  # kid -> (loaded public key, algorithm)
_active: tuple[float, LoadedKey] | None = None  # (monotonic fetch time, key)
_published: tuple[float, frozenset[str]] | None = None  # kids allowed to verify, and when read


def _clock() -> float:
    return time.monotonic()


def _cache_seconds() -> float:
    return getattr(settings, "RESIDENT_SIGNING_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)


def reset_caches() -> None:
    """Forget what this process knows (after a rotation here, and in tests)."""
    global _active, _published
    with _lock:
        _active = None
        _published = None
        _private_keys.clear()
        _public_keys.clear()


# -- key material ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk_of(private_key: Any) -> dict[str, str]:
    """The public JWK (with an RFC 7638 thumbprint as ``kid``) of a private key."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        members = {
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "kty": "RSA",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        }
        alg = "RS256"
    elif isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        numbers = public.public_numbers()
        members = {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
        alg = "ES256"
    else:
        raise ImproperlyConfigured("Resident signing keys must be RSA or EC P-256 keys")
    # RFC 7638: SHA-256 over the required members, sorted, no whitespace.
    thumbprint = _b64(
        hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).digest()
    )
    return {**members, "kid": thumbprint, "alg": alg, "use": "sig"}


def _generate_private_key(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ImproperlyConfigured(
        f"RESIDENT_JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}"
    )


def _pem(private_key: Any) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _load_pem(pem: str | bytes) -> Any:
    return serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)


def _key_file_private_key() -> Any | None:
    path = getattr(settings, "RESIDENT_SIGNING_KEY_FILE", "")
    if not path:
        return None
    try:
        return _load_pem(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"RESIDENT_SIGNING_KEY_FILE {path!r} is not a readable PEM private key: {exc}"
        ) from exc


def configured_algorithm() -> str:
    algorithm = getattr(settings, "RESIDENT_JWT_ALGORITHM", "RS256")
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"RESIDENT_JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}"
        )
    return algorithm


# -- lifetimes that decide how long a retired key stays published ----------------------------


def longest_token_lifetime() -> int:
    """Seconds the longest-lived token signed now may stay valid under the clients' configuration.

    A finite floor for how long a retired key stays published (at least a day); clients whose
    lifetime is "never" are left out here, because the tokens actually issued are counted by
    ``publish_until`` instead.
    """
    from oauth2_provider.settings import oauth2_settings

    default = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    candidates = [MIN_PUBLISH_SECONDS, default if isinstance(default, int) else DEFAULT_ACCESS_TOKEN_SECONDS]
    for field in ("application_token_lifetime", "user_token_lifetime", "id_token_lifetime"):
        longest = (
            OAuthClient.objects.filter(**{f"{field}__gt": 0})
            .order_by(f"-{field}")
            .values_list(field, flat=True)
            .first()
        )
        if longest:
            candidates.append(longest)
    return max(candidates)


def latest_signed_expiry(signed_since: datetime, now: datetime) -> datetime | None:
    """The latest expiry among live JWTs issued since ``signed_since`` (access tokens and ID tokens).

    Rows do not record which key signed them, so every JWT issued since the key became active
    counts (a few issued by an older key only make the window longer). Tokens issued with a
    custom validity (the portal's "Generate token") and "never expires" tokens are included: a
    never-expiring token keeps its key published for its far-future expiry, which is what keeps
    it verifiable.
    """
    from oauth2_provider.models import get_access_token_model, get_id_token_model

    live = {"created__gte": signed_since, "expires__gt": now}
    latest_access = (
        get_access_token_model()
        .objects.filter(application__token_format="JWT", **live)
        .aggregate(latest=Max("expires"))["latest"]
    )
    latest_id = get_id_token_model().objects.filter(**live).aggregate(latest=Max("expires"))["latest"]
    return max((t for t in (latest_access, latest_id) if t is not None), default=None)


def publish_until(key: SigningKey, now: datetime) -> datetime:
    """Until when a key retired ``now`` stays in the JWKS: the configured window or its last live token."""
    window = now + timedelta(seconds=longest_token_lifetime())
    latest = latest_signed_expiry(key.created_at, now)
    if key.unstored_expiry is not None and key.unstored_expiry > now:
        # Unstored JWTs (client_credentials) have no row: the key carries their latest expiry.
        latest = max(latest or key.unstored_expiry, key.unstored_expiry)
    return max(window, latest) if latest is not None else window


# -- active key ------------------------------------------------------------------------------


def _create_key(algorithm: str) -> SigningKey:
    private_key = _generate_private_key(algorithm)
    jwk = public_jwk_of(private_key)
    return SigningKey.objects.create(
        kid=jwk["kid"],
        algorithm=algorithm,
        private_key_encrypted=crypto.encrypt(_pem(private_key)),
        public_jwk=jwk,
    )


def _retire(queryset, now: datetime) -> int:
    retired = 0
    for key in queryset.only("pk", "created_at", "unstored_expiry"):
        retired += SigningKey.objects.filter(pk=key.pk).update(
            state=SigningKey.State.RETIRED, retired_at=now, publish_until=publish_until(key, now)
        )
    return retired


@transaction.atomic
def _ensure_file_key(private_key: Any) -> SigningKey:
    """Record the key file's public half; retire any other active key (the file replaced it)."""
    jwk = public_jwk_of(private_key)
    row, _ = SigningKey.objects.get_or_create(
        kid=jwk["kid"],
        defaults={"algorithm": jwk["alg"], "private_key_encrypted": "", "public_jwk": jwk},
    )
    if row.state != SigningKey.State.ACTIVE:
        row.state, row.retired_at, row.publish_until = SigningKey.State.ACTIVE, None, None
        row.save(update_fields=["state", "retired_at", "publish_until"])
    _retire(SigningKey.objects.filter(state=SigningKey.State.ACTIVE).exclude(pk=row.pk), timezone.now())
    return row


def _load_active() -> LoadedKey:
    file_key = _key_file_private_key()
    if file_key is not None:
        row = _ensure_file_key(file_key)
        _private_keys[row.kid] = file_key
        return LoadedKey(row.kid, row.algorithm, file_key)

    algorithm = configured_algorithm()
    row = SigningKey.objects.filter(state=SigningKey.State.ACTIVE).order_by("-created_at", "-id").first()
    if row is None or row.algorithm != algorithm:
        # First use, or the operator switched RESIDENT_JWT_ALGORITHM: rotate to a key of the new kind.
        row = rotate(algorithm=algorithm, reset=False)
    private_key = _private_keys.get(row.kid)
    if private_key is None:
        private_key = _load_pem(crypto.decrypt(row.private_key_encrypted))
        _private_keys[row.kid] = private_key
    return LoadedKey(row.kid, row.algorithm, private_key)


def active_key() -> LoadedKey:
    """The key that signs now (created on first use)."""
    global _active
    cached = _active
    if cached is not None and _clock() - cached[0] < _cache_seconds():
        return cached[1]
    with _lock:
        key = _load_active()
        _active = (_clock(), key)
        return key


@transaction.atomic
def rotate(*, algorithm: str | None = None, reset: bool = True) -> SigningKey:
    """Make a new active key; retire the active ones, published until their last token expires.

    "Never expires" tokens count with their far-future expiry, so a key that signed one stays
    published for as long (resource servers keep accepting those tokens); revoke such tokens to
    let the key go.
    """
    if _key_file_private_key() is not None:
        raise ImproperlyConfigured(
            "RESIDENT_SIGNING_KEY_FILE is set: rotate by replacing that file, not in the database"
        )
    now = timezone.now()
    # Lock the active rows so two rotations at once do not both retire the same key.
    list(SigningKey.objects.select_for_update().filter(state=SigningKey.State.ACTIVE))
    _retire(SigningKey.objects.filter(state=SigningKey.State.ACTIVE), now)
    row = _create_key(algorithm or configured_algorithm())
    if reset:
        # Now for this thread, and again at commit for threads that read in between.
        reset_caches()
        transaction.on_commit(reset_caches)
    log.info("resident signing key rotated: new kid %s (%s)", row.kid, row.algorithm)
    return row


# -- publishing and verifying ----------------------------------------------------------------


def _published_filter(now: datetime) -> Q:
    return Q(state=SigningKey.State.ACTIVE) | Q(state=SigningKey.State.RETIRED, publish_until__gt=now)


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The JSON Web Key Set: active keys and retired ones still inside their publication window."""
    active_key()  # make sure there is one, so the very first JWKS is not empty
    rows = SigningKey.objects.filter(_published_filter(timezone.now())).order_by("-created_at")
    return {"keys": [row.public_jwk for row in rows]}


def _published_kids() -> frozenset[str]:
    global _published
    cached = _published
    if cached is not None and _clock() - cached[0] < _cache_seconds():
        return cached[1]
    kids = frozenset(
        SigningKey.objects.filter(_published_filter(timezone.now())).values_list("kid", flat=True)
    )
    _published = (_clock(), kids)
    return kids


def _public_key(kid: str) -> tuple[Any, str] | None:
    if kid not in _published_kids():
        # Maybe a key rotated in by another instance since we last looked: look again, but not
        # if we looked less than a second ago (a flood of tokens with made-up kids would cost a
        # query each), as JWKS clients wait between refreshes for an unknown kid.
        global _published
        cached = _published
        if cached is not None and _clock() - cached[0] < min(UNKNOWN_KID_REFRESH_SECONDS, _cache_seconds()):
            return None
        _published = None
        if kid not in _published_kids():
            return None
    loaded = _public_keys.get(kid)
    if loaded is None:
        row = SigningKey.objects.filter(kid=kid).only("public_jwk", "algorithm").first()
        if row is None:
            return None
        loaded = (jwt.PyJWK.from_dict(row.public_jwk).key, row.algorithm)
        _public_keys[kid] = loaded
    return loaded


def sign(claims: dict[str, Any], *, typ: str = "at+jwt", key: LoadedKey | None = None) -> str:
    key = key or active_key()
    return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": typ})


class InvalidJWT(Exception):
    """A JWT that is not ours, is malformed, forged or expired."""


def verify(token: str, *, typ: str = "at+jwt") -> dict[str, Any]:
    """Claims of a JWT signed by one of our published keys, checking typ, iss, exp. Raises ``InvalidJWT``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidJWT("not a JWT") from exc
    if str(header.get("typ", "")).lower() != typ.lower():
        raise InvalidJWT(f"typ is not {typ}")
    kid = header.get("kid")
    loaded = _public_key(kid) if isinstance(kid, str) else None
    if loaded is None:
        raise InvalidJWT("unknown signing key")
    public_key, algorithm = loaded
    try:
        return jwt.decode(
            token,
            public_key,
            algorithms=[algorithm],
            issuer=settings.RESIDENT_ISSUER,
            options={"require": ["exp", "iat", "iss", "jti"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidJWT(str(exc)) from exc
