"""The shared cache (Redis) as a part that may fail without taking the portal down.

What the portal keeps in the cache is expendable: failed sign-in counts, rate-limit counters and
Keycloak's service-account token (encrypted). Losing them for a while is better than answering
500, or hanging each request for the socket timeout, so this backend turns every Redis failure into
"nothing cached": reads answer their default, writes do nothing, ``incr`` says the key is missing
(``ValueError``, as Django's contract for a missing key). The first failure logs a warning; then
Redis is left alone for ``REDIS_RETRY_SECONDS`` (per process), so a hung server costs one timeout
per process and pause, not one per request. ``/healthz`` asks Redis directly (``ping``).

What this means for each user of the cache is decided and documented in SECURITY.md: the sign-in
failure limit and the abuse limits are skipped while Redis is down (fail open), with a warning.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_MISSING = object()
# Django makes one cache object per thread; the pause is per process (and per Redis location).
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache whose failures degrade to a cache miss, with a per-process pause."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = str(server)

    # -- failure handling ---------------------------------------------------------------------
    def _available(self) -> bool:
        return time.monotonic() >= _down_until.get(self._location, 0.0)

    def _failed(self, operation: str, exc: Exception) -> None:
        with _lock:
            first = self._available()
            _down_until[self._location] = time.monotonic() + settings.REDIS_RETRY_SECONDS
        if first:
            # The class name is enough; the message may carry the URL (with a password).
            logger.warning(
                "cache: Redis unavailable during %s (%s); rate limits and the sign-in failure limit are "
                "skipped, retrying in %s s",
                operation,
                type(exc).__name__,
                settings.REDIS_RETRY_SECONDS,
            )

    def _call(self, operation: str, fallback: Any, *args, **kwargs):
        if not self._available():
            return fallback
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except RedisError as exc:
            self._failed(operation, exc)
            return fallback

    def ping(self) -> bool:
        """Whether Redis answers now (for /healthz); ignores the pause, and ends it on success."""
        try:
            self._cache.get_client(write=True).ping()
        except RedisError as exc:
            self._failed("ping", exc)
            return False
        _down_until.pop(self._location, None)
        return True

    # -- Django's cache API -------------------------------------------------------------------
    def add(self, key, value, timeout=_MISSING, version=None):
        kwargs = {} if timeout is _MISSING else {"timeout": timeout}
        return self._call("add", False, key, value, version=version, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version=version)

    def set(self, key, value, timeout=_MISSING, version=None):
        kwargs = {} if timeout is _MISSING else {"timeout": timeout}
        self._call("set", None, key, value, version=version, **kwargs)

    def touch(self, key, timeout=_MISSING, version=None):
        kwargs = {} if timeout is _MISSING else {"timeout": timeout}
        return self._call("touch", False, key, version=version, **kwargs)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version=version)

    def incr(self, key, delta=1, version=None):
        result = self._call("incr", _MISSING, key, delta, version=version)
        if result is _MISSING:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return result

    def set_many(self, data, timeout=_MISSING, version=None):
        kwargs = {} if timeout is _MISSING else {"timeout": timeout}
        return self._call("set_many", list(data), data, version=version, **kwargs)

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, keys, version=version)

    def clear(self):
        """Delete this portal's keys only (its KEY_PREFIX), not the whole Redis database.

        Django's RedisCache.clear() is FLUSHDB: it would also wipe whatever else shares the
        database, such as the counts of another test worker running under its own prefix.
        """
        if not self._available():
            return False
        try:
            client = self._cache.get_client(write=True)
            batch = []
            for key in client.scan_iter(match=f"{self.key_prefix}:*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        except RedisError as exc:
            self._failed("clear", exc)
            return False
        return True


def cache_state() -> str:
    """``ok``, ``unreachable`` or ``local`` (no Redis: a per-process memory cache)."""
    from django.core.cache import cache

    ping = getattr(cache, "ping", None)
    if ping is None:
        return "local"
    return "ok" if ping() else "unreachable"
