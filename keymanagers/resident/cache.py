"""Resident clients, their grant rules and their secrets' hashes, cached per worker process.

A token or introspection request used to read the client and then its secrets: two round trips
before any work. Now it reads one number, the ``ResidentStamp`` version, and takes the client and
its secrets from this process's memory when they were loaded under that same version.

Why this is exact:

* database triggers (migration ``keymanagers.0009``) bump the version in the same transaction as
  any change to a client, a secret or a key manager, so every instance sees the new version at the
  moment it can see the change: a deleted secret fails at the next request, everywhere;
* the version is read *before* the rows it guards, so rows read after it are at least that new;
* "revoke earlier tokens" is a change of the client (``tokens_revoked_before``), so it reaches
  every worker at the next request like any other; revoked JWTs (``RevokedToken``) are not cached,
  they are read with the version (``client_and_revoked``);
* an expiry is a time, not a change: the cached secrets keep ``expires_at`` and are filtered at
  every check, so an expired secret fails at once;
* inside a transaction (``atomic``) the cache is neither read nor filled: that transaction may see
  its own uncommitted changes, and may still roll them back (and the version with them);
* on a database without the triggers (another vendor, or a SQLite table rebuilt by a later
  migration) the cache stays off and says so once in the log.

Each request gets its own copy of the cached client, so nothing one request sets on it is seen by
another.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from keymanagers.models import ClientSecret, KeyManager, OAuthClient, ResidentStamp, RevokedToken

log = logging.getLogger(__name__)

# A bound on memory: a worker that has seen more clients than this starts over.
MAX_CLIENTS = 10_000
# The attribute a request's copy of a client carries its secrets in (see ``secret_candidates``).
SECRETS_ATTRIBUTE = "_resident_cached_secrets"

STAMP_TABLE = ResidentStamp._meta.db_table
REVOKED_TABLE = RevokedToken._meta.db_table
GUARDED_TABLES = (
    OAuthClient._meta.db_table,
    ClientSecret._meta.db_table,
    KeyManager._meta.db_table,
)


@dataclass(frozen=True)
class CachedSecret:
    id: object  # ClientSecret's UUID: which secret matched is recorded (last use)
    secret_hash: str
    expires_at: datetime | None


@dataclass(frozen=True)
class _Entry:
    version: int
    client: OAuthClient
    secrets: tuple[CachedSecret, ...]


_lock = threading.Lock()
_clients: dict[str, _Entry] = {}
_grant_types: tuple[int, frozenset[str]] | None = None  # (version, value)
_enabled: bool | None = None  # None: not checked yet in this process


def _triggers_present() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE %s AND c.relname = ANY(%s)",
                ["%stamp_change", list(GUARDED_TABLES)],
            )
        elif connection.vendor == "sqlite":
            placeholders = ", ".join("%s" for _ in GUARDED_TABLES)
            cursor.execute(
                "SELECT count(DISTINCT tbl_name) FROM sqlite_master WHERE type = 'trigger' "  # noqa: S608 (placeholders only)
                f"AND name LIKE %s AND tbl_name IN ({placeholders})",
                ["%stamp%", *GUARDED_TABLES],
            )
        else:
            return False
        (count,) = cursor.fetchone()
    return count == len(GUARDED_TABLES)


def enabled() -> bool:
    """Whether this process may cache: checked once (the triggers exist on every guarded table)."""
    global _enabled
    if _enabled is None:
        _enabled = _triggers_present()
        if not _enabled:
            log.warning(
                "resident client cache off: the change triggers of migration keymanagers.0009 are "
                "missing on %s (%s); every token request reads the client and its secrets",
                ", ".join(GUARDED_TABLES),
                connection.vendor,
            )
    return _enabled


def current_version() -> int | None:
    """The stamp's version, or None when the cache must not be used for this read."""
    if connection.in_atomic_block or not enabled():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {STAMP_TABLE} WHERE id = 1")  # noqa: S608 (a constant)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _load_secrets(client: OAuthClient) -> tuple[CachedSecret, ...]:
    rows = ClientSecret.objects.filter(client=client).values_list("id", "secret_hash", "expires_at")
    return tuple(CachedSecret(*row) for row in rows)


def client(client_id: str, load) -> OAuthClient | None:
    """A request's own copy of the client ``client_id``, with its secrets attached; ``load()``
    reads the client from the database (None when there is none) on a miss.

    When the cache cannot be used, it is ``load()``'s client as it is (its secrets read later by
    ``secret_candidates``).
    """
    return _client_at(current_version(), client_id, load)


def client_and_revoked(client_id: str, jti: str, load) -> tuple[OAuthClient | None, bool]:
    """``client(client_id, load)``, and whether the token ``jti`` is a ``RevokedToken``: both in
    one round trip when the client is cached (the check of an unstored JWT)."""
    version = None
    if not connection.in_atomic_block and enabled():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT version FROM {STAMP_TABLE} WHERE id = 1), "  # noqa: S608 (constants)
                f"EXISTS (SELECT 1 FROM {REVOKED_TABLE} WHERE jti = %s)",
                [jti],
            )
            version, revoked = cursor.fetchone()
    else:
        revoked = RevokedToken.objects.filter(jti=jti).exists()
    return _client_at(version, client_id, load), revoked


def _client_at(version: int | None, client_id: str, load) -> OAuthClient | None:
    if version is None:
        return load()
    entry = _clients.get(client_id)
    if entry is None or entry.version != version:
        loaded = load()
        if loaded is None:
            return None  # unknown ids are not remembered: anyone can send any number of them
        entry = _Entry(version, loaded, _load_secrets(loaded))
        with _lock:
            if len(_clients) >= MAX_CLIENTS:
                _clients.clear()
            _clients[client_id] = entry
    mine = copy.copy(entry.client)
    setattr(mine, SECRETS_ATTRIBUTE, (version, entry.secrets))
    return mine


def secret_candidates(client: OAuthClient, now: datetime | None = None) -> list[tuple[object, str]] | None:
    """(id, hash) of the client's unexpired secrets as cached for this request, or None when the
    client did not come from the cache (the caller reads them)."""
    cached = getattr(client, SECRETS_ATTRIBUTE, None)
    if cached is None:
        return None
    _version, secrets = cached
    now = now or timezone.now()
    return [(s.id, s.secret_hash) for s in secrets if s.expires_at is None or s.expires_at > now]


def resident_grant_types(load) -> set[str]:
    """The grant types the Resident key manager offers (``load()`` reads them), cached like clients."""
    global _grant_types
    version = current_version()
    if version is None:
        return load()
    cached = _grant_types
    if cached is None or cached[0] != version:
        cached = (version, frozenset(load()))
        _grant_types = cached
    return set(cached[1])


def clear() -> None:
    """Forget everything (tests; a process that changed databases)."""
    global _enabled, _grant_types
    with _lock:
        _clients.clear()
        _grant_types = None
        _enabled = None
