"""How long a signing key must stay published for the JWTs that have no row.

A retired key stays in the JWKS until its last live token expires (``signing.publish_until``). For
stored tokens the rows say when that is; a client_credentials JWT is not stored, so the key's
``SigningKey.unstored_expiry`` says it instead. Writing it per token would bring back the write
that not storing tokens saves, so it is raised in steps of ``STEP``: a token whose expiry is under
the mark this worker last saw costs nothing, and a worker reads it (and writes, when it must rise)
about once per ``STEP``. The
mark is at most ``STEP`` later than the real last expiry (the key is published that much longer).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, Greatest

from keymanagers.models import SigningKey

STEP = timedelta(hours=1)

_lock = threading.Lock()
_marks: dict[str, datetime] = {}  # kid -> the mark this worker knows is committed


def cover(kid: str, exp: int) -> None:
    """Make sure the key ``kid`` stays published until ``exp`` (seconds since the epoch)."""
    expires = datetime.fromtimestamp(exp, tz=UTC)
    known = _marks.get(kid)
    if known is not None and expires <= known:
        return
    stored = SigningKey.objects.filter(kid=kid).values_list("unstored_expiry", flat=True).first()
    if stored is not None and expires <= stored:
        _remember(kid, stored)  # another worker raised it far enough
        return
    mark = Value(expires + STEP)
    SigningKey.objects.filter(kid=kid).update(
        unstored_expiry=Greatest(Coalesce(F("unstored_expiry"), mark), mark),
        # A key retired a moment ago may still sign here (its "active" is cached for a minute):
        # its publication then lasts as long as this token.
        publish_until=Case(
            When(publish_until__isnull=False, then=Greatest(F("publish_until"), mark)),
            default=F("publish_until"),
        ),
    )
    _remember(kid, expires + STEP)


def _remember(kid: str, mark: datetime) -> None:
    if connection.in_atomic_block:
        return  # a write inside a transaction may still roll back: do not trust it for later tokens
    with _lock:
        _marks[kid] = mark


def reset() -> None:
    """Forget the marks (tests, whose transactions roll them back)."""
    with _lock:
        _marks.clear()
