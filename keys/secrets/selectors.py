"""Reads for the multiple-consumer-secrets area: a key's secrets, the limit, the panel's data.

Every lookup starts from ``portal.applications.selectors.application_get`` so that another developer's key or
secret is a 404. A ``ConsumerSecret`` row with an empty ``secret_hash`` is a pending reservation
(see ``keys.secrets.services.secret_create``): it is never listed, but it counts toward the limit
while it is fresh.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from keymanagers.base import KeyManagerError, adapter_for
from keys.models import ApplicationKey, ConsumerSecret
from keys.secrets.forms import SecretCreateForm
from keys.selectors import ENVIRONMENTS

#: Key type → its URL segment: ``/applications/<id>/keys/production/…``.
ENVIRONMENT_OF = {value: name for name, value in ENVIRONMENTS.items()}

#: A reservation older than this belongs to a request that died between reserving and filling
#: its row (process killed mid-call): it no longer holds a slot, and the next create removes it.
RESERVATION_TTL = timedelta(minutes=5)

#: Secrets per page on the secrets page and in the panel.
PAGE_SIZE = 10


def expires_in(secret: ConsumerSecret, now: datetime) -> str:
    """The table's "Expires In": "Never expires", "Expired", or whole days left, rounded up."""
    if secret.expires_at is None:
        return "Never expires"
    left = secret.expires_at - now
    if left <= timedelta(0):
        return "Expired"
    days = math.ceil(left / timedelta(days=1))
    return "1 day" if days == 1 else f"{days} days"


def with_expires_in(secrets, now: datetime) -> list[ConsumerSecret]:
    """The secrets, each with ``expires_in`` set for the template."""
    rows = list(secrets)
    for secret in rows:
        secret.expires_in = expires_in(secret, now)
    return rows


def unexpired_q(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def secrets_for_key(
    *, key: ApplicationKey, include_expired: bool = False, query: str = "", now: datetime | None = None
) -> QuerySet[ConsumerSecret]:
    """The key's secrets (never reservations), newest first, optionally searched by description."""
    now = now or timezone.now()
    qs = ConsumerSecret.objects.filter(key=key).exclude(secret_hash="")
    if not include_expired:
        qs = qs.filter(unexpired_q(now))
    query = (query or "").strip()
    if query:
        qs = qs.filter(description__icontains=query)
    # The id breaks ties between secrets made in the same instant, so pages never overlap.
    return qs.order_by("-created_at", "id")


def secret_get(*, key: ApplicationKey, secret_id) -> ConsumerSecret:
    """One secret of ``key`` (expired ones too), or Http404."""
    try:
        secret_id = uuid.UUID(str(secret_id))
        return ConsumerSecret.objects.exclude(secret_hash="").get(pk=secret_id, key=key)
    except (ValueError, ConsumerSecret.DoesNotExist):
        raise Http404("No such secret") from None


@dataclass(frozen=True)
class SecretUsage:
    """How many of a key's secrets hold a slot, and what the limits are."""

    unexpired: int  # unexpired secrets + fresh reservations: what ``secret_count`` limits
    stored: int  # every secret the key manager still holds (expired ones too) + fresh reservations
    policy_limit: int | None  # the key manager's ``secret_count``; None = unlimited
    server_limit: int | None  # the adapter's own bound (Okta: 2); None = no bound

    @property
    def limit_reached(self) -> bool:
        return (self.policy_limit is not None and self.unexpired >= self.policy_limit) or (
            self.server_limit is not None and self.stored >= self.server_limit
        )

    @property
    def limit(self) -> int | None:
        """The smaller of the two limits, for messages."""
        limits = [n for n in (self.policy_limit, self.server_limit) if n is not None]
        return min(limits) if limits else None


def server_limit_for(key: ApplicationKey) -> int | None:
    try:
        return adapter_for(key.key_manager).max_secrets
    except KeyManagerError:
        return None


def secret_usage(*, key: ApplicationKey, now: datetime | None = None) -> SecretUsage:
    """Count the slots in use in ONE query (callers that enforce the limit hold the key's row lock).

    Expired secrets do not count toward ``secret_count``: they no longer authenticate, and making
    developers delete dead secrets before they may rotate would only get in the way. A server's own
    bound (``max_secrets``) counts every secret it still stores, since it does not know our expiry.
    """
    now = now or timezone.now()
    rows = ConsumerSecret.objects.filter(key=key).only("secret_hash", "created_at", "expires_at")
    return _usage_of(key, list(rows), now)


def _usage_of(key: ApplicationKey, rows: list[ConsumerSecret], now: datetime) -> SecretUsage:
    """The one counting rule, for the service that enforces it and the panel that shows it: a
    secret holds a slot once made, and so does a reservation while it is fresh."""
    holding = [s for s in rows if s.secret_hash or s.created_at > now - RESERVATION_TTL]
    return SecretUsage(
        unexpired=sum(1 for s in holding if not s.is_expired(now)),
        stored=len(holding),
        policy_limit=key.key_manager.secret_count,
        server_limit=server_limit_for(key),
    )


@dataclass
class SecretsPanel:
    """What ``templates/keys/secrets/_panel.html`` shows, computed from prefetched secrets."""

    secrets: list[ConsumerSecret]  # the first page of unexpired secrets
    unexpired_count: int
    expired_count: int
    usage: SecretUsage
    more: bool = field(default=False)
    form: Any = None  # the + New Secret form (keys.secrets.forms.SecretCreateForm)


def secrets_panel(*, key: ApplicationKey, now: datetime | None = None) -> SecretsPanel:
    """The panel's data from ``key.secrets.all()``: no query when the keys page prefetched them.

    The keys page prefetches ``secrets`` for its key(s); this works without that too (one query).
    """
    now = now or timezone.now()
    rows = list(key.secrets.all())
    real = [s for s in rows if s.secret_hash]
    unexpired = sorted(
        (s for s in real if not s.is_expired(now)), key=lambda s: (s.created_at, s.pk.hex), reverse=True
    )
    usage = _usage_of(key, rows, now)
    return SecretsPanel(
        secrets=with_expires_in(unexpired[:PAGE_SIZE], now),
        unexpired_count=len(unexpired),
        expired_count=len(real) - len(unexpired),
        usage=usage,
        more=len(unexpired) > PAGE_SIZE,
        form=_new_secret_form(),
    )


def _new_secret_form():
    return SecretCreateForm(prefix="secret")


def secrets_mask_preview(*, key_managers) -> tuple[int, int]:
    """(secrets, keys) whose retrievable copy masking would destroy, at these key managers."""
    counts = (
        ConsumerSecret.objects.filter(key__key_manager__in=key_managers)
        .exclude(value_encrypted="")
        .aggregate(secrets=Count("pk"), keys=Count("key", distinct=True))
    )
    return counts["secrets"], counts["keys"]
