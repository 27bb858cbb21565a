"""Deleting what the resident server no longer needs: ended tokens, used-up codes, old ID tokens.

DOT's ``cleartokens`` cannot do it here: refresh-token lifetimes are per client (so DOT's
``REFRESH_TOKEN_EXPIRE_SECONDS`` is None and it keeps every refresh token), and "never expires"
must stay never. What goes, once it ended more than the grace period ago:

* access tokens past their expiry, unless a live refresh token still points at them (deleting one
  would orphan the refresh token, and DOT's ``cleartokens`` deletes orphans);
* refresh tokens past their client's ``refresh_token_lifetime`` (or
  ``RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS``), never one whose lifetime is "never";
* revoked refresh tokens: replay detection (``REFRESH_TOKEN_REUSE_PROTECTION``) needs a revoked
  token only while it could otherwise have been used, so it stays until it would have expired;
  one of a never-expiring client goes after the grace period;
* authorization codes (grants) and ID tokens past their expiry; an ID token only once its access
  token is gone (deleting an ID token deletes its access token);
* records of redeemed codes (kept to revoke the tokens of a code used twice) past their expiry;
* revoked JWTs (the jti of an unstored token, revoked by RFC 7009) past their token's expiry: the
  expiry refuses that token by then.

Deletes run in batches, each its own short transaction, so the tables are never locked for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from keymanagers.models import RedeemedCode, RevokedToken
from keymanagers.resident import tokens

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(days=1)
DEFAULT_BATCH_SIZE = 1000


@dataclass
class CleanupCounts:
    access_tokens: int = 0
    refresh_tokens: int = 0
    grants: int = 0
    id_tokens: int = 0
    redeemed_codes: int = 0
    revoked_jwts: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def _refresh_lifetimes() -> dict[int | None, int | None]:
    """Each distinct configured refresh lifetime -> its seconds (None: never expires)."""
    default = tokens.default_refresh_token_seconds()
    configured = set(
        get_application_model().objects.values_list("refresh_token_lifetime", flat=True).distinct()
    )
    lifetimes: dict[int | None, int | None] = {}
    for value in configured:
        seconds = tokens.lifetime_seconds(value, default)
        lifetimes[value] = None if tokens.is_never(seconds) or seconds < 0 else seconds
    return lifetimes


def _lifetime_q(value: int | None) -> Q:
    # Empty and zero both mean the default lifetime (tokens.lifetime_seconds).
    if value is None:
        return Q(application__refresh_token_lifetime__isnull=True)
    return Q(application__refresh_token_lifetime=value)


def _refresh_tokens_query(now: datetime, cutoff: datetime) -> Q:
    """Refresh tokens to delete, per distinct client lifetime (a handful of values)."""
    query = Q(pk__in=[])
    for value, seconds in _refresh_lifetimes().items():
        if seconds is None:
            # Never expires: only a revoked one goes, after the grace period.
            query |= _lifetime_q(value) & Q(revoked__lte=cutoff)
            continue
        ended = Q(created__lte=cutoff - timedelta(seconds=seconds))
        revoked_and_done = Q(revoked__lte=cutoff, created__lte=now - timedelta(seconds=seconds))
        query |= _lifetime_q(value) & (ended | revoked_and_done)
    return query


def _queries(now: datetime, grace: timedelta) -> dict[str, tuple[type, Q]]:
    cutoff = now - grace
    return {
        # Order matters: refresh tokens first frees their access tokens, and access tokens first
        # frees their ID tokens, all in the same run.
        "refresh_tokens": (get_refresh_token_model(), _refresh_tokens_query(now, cutoff)),
        "access_tokens": (
            get_access_token_model(),
            Q(expires__lte=cutoff)
            & (Q(refresh_token__isnull=True) | Q(refresh_token__revoked__isnull=False)),
        ),
        "grants": (get_grant_model(), Q(expires__lte=cutoff)),
        "redeemed_codes": (RedeemedCode, Q(expires__lte=cutoff)),
        "id_tokens": (get_id_token_model(), Q(expires__lte=cutoff, access_token__isnull=True)),
        "revoked_jwts": (RevokedToken, Q(expires_at__lte=cutoff)),
    }


def _delete_in_batches(queryset: QuerySet, batch_size: int) -> int:
    deleted = 0
    model = queryset.model
    while True:
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            # Only rows of this model: cascades (a refresh token's SET_NULL) are not counted.
            _, per_model = model.objects.filter(pk__in=pks).delete()
            deleted += per_model.get(model._meta.label, 0)


def clear_resident_tokens(
    *,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
) -> CleanupCounts:
    """Delete (or with ``dry_run`` only count) what ended more than ``grace`` ago."""
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    now = now or timezone.now()
    counts = CleanupCounts()
    for name, (model, query) in _queries(now, grace).items():
        queryset = model.objects.filter(query)
        count = queryset.count() if dry_run else _delete_in_batches(queryset, batch_size)
        setattr(counts, name, count)
    if not dry_run:
        log.info("resident cleanup deleted %s", counts)
    return counts
