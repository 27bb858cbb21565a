"""When each resident client and consumer secret last authenticated ("last used"), recorded cheaply.

Developers rotate a secret safely only once the old one is idle, so the server remembers when
each secret (and each client) last authenticated at its endpoints. A token request must neither
wait for nor fail because of this bookkeeping:

* at most one write per client and secret per minute (``THROTTLE``), checked in three steps, the
  cheapest first: this process's own memory of what it recorded in the last minute (no I/O: the
  common path of a busy client), then a cache marker shared by every process (one cache read), then
  the UPDATE itself, which only touches rows whose ``last_used_at`` is older than a minute, so
  workers with separate caches, or requests racing past the marker, still write once;
* with the cache down (``portal.cache`` answers a miss), only that UPDATE's condition throttles: a
  no-op UPDATE per request until the cache is back, never an error;
* a database failure here is logged and swallowed (in a savepoint, so an enclosing transaction
  survives): the request that authenticated goes on.

``record_use`` is the one entry point (``validator.ResidentValidator`` calls it after a client
authenticated); a cached secret check may call it just the same. Tokens the portal asks for itself
(the adapter's ``issue_token``: Generate Keys' first token, Generate Access Token) run under
``not_recorded()``: they say nothing about whether the developer's software still uses a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from keymanagers.models import ClientSecret, OAuthClient

log = logging.getLogger(__name__)

#: At most one write per client and secret in this period; also the precision "last used" has.
THROTTLE = timedelta(minutes=1)

#: This process's last recordings, (client_id, secret id) → when; cleared when it grows past
#: ``_RECENT_MAX`` entries (then a few extra cache reads, nothing more).
_recent: dict[tuple[str, str], datetime] = {}
_RECENT_MAX = 10_000

_not_recorded: ContextVar[bool] = ContextVar("resident_last_used_not_recorded", default=False)


@contextmanager
def not_recorded() -> Iterator[None]:
    """Client authentications inside this block are the portal's own, not the developer's use."""
    token = _not_recorded.set(True)
    try:
        yield
    finally:
        _not_recorded.reset(token)


def _marker(client_pk, secret_id) -> str:
    return f"resident:last-used:{client_pk}:{secret_id or '-'}"


def _stale(now: datetime) -> Q:
    return Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - THROTTLE)


def record_use(client: OAuthClient, secret_id=None, *, now: datetime | None = None) -> None:
    """Note that ``client`` just authenticated (with its secret ``secret_id``, where it used one)."""
    if _not_recorded.get():
        return
    now = now or timezone.now()
    mine = (client.client_id, str(secret_id or ""))
    recorded = _recent.get(mine)
    if recorded is not None and timedelta(0) <= now - recorded < THROTTLE:
        return  # this process recorded it in the last minute
    if len(_recent) >= _RECENT_MAX:
        _recent.clear()
    _recent[mine] = now
    marker = _marker(client.pk, secret_id)
    try:
        if cache.get(marker) is not None:
            return  # another process recorded it in the last minute
        cache.set(marker, 1, timeout=THROTTLE.total_seconds())
    except Exception:  # noqa: BLE001 - any cache backend's failure: the UPDATE's condition throttles alone
        log.warning("last used: the cache failed; throttling by the database only", exc_info=False)
    try:
        with transaction.atomic():
            if secret_id is not None:
                ClientSecret.objects.filter(_stale(now), pk=secret_id).update(last_used_at=now)
            OAuthClient.objects.filter(_stale(now), pk=client.pk).update(last_used_at=now)
    except DatabaseError as exc:
        log.warning("last used: not recorded for client %s (%s)", client.pk, exc.__class__.__name__)
