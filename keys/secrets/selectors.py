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
from django.utils.timesince import timesince

from keymanagers.base import KeyManagerError, adapter_for
from keys.models import ApplicationKey, ConsumerSecret
from keys.remote import client_ref
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


# -- last used ---------------------------------------------------------------------------------

NOT_REPORTED = "Not reported by this key manager"
#: What the REST API's ``lastUsedTime`` means (secrets list; the key output says it of the key).
LAST_USED_HELP = (
    "When the secret last authenticated at the token endpoint (to the minute, ISO 8601 UTC); null when "
    "it never did, or when its key manager does not report use (only Resident does)."
)
NEVER_USED = "Never used"
#: A secret used more recently than this may still be in use: its delete confirmation warns.
RECENT_USE = timedelta(hours=24)
#: Why the Delete of a key's only valid secret is disabled (the service refuses it: ``LastSecret``).
LAST_SECRET_REASON = "The only valid secret of this key: create a new one before deleting it."


@dataclass(frozen=True)
class KeyLastUse:
    """When a key and its secrets last authenticated, as its key manager reports it."""

    reported: bool
    key: datetime | None = None
    secrets: dict[str, datetime | None] = field(default_factory=dict)
    note: str = NOT_REPORTED  # shown instead of a time where ``reported`` is False

    @property
    def key_text(self) -> str:
        """The key's "last used" as the pages say it."""
        return last_used_text(self.key, timezone.now()) if self.reported else self.note


def last_uses_of(keys) -> dict[Any, KeyLastUse]:
    """Each key's last use by key id, asking each key manager once (``reports_last_use``): one
    query at the resident server however many keys."""
    by_manager: dict[Any, list[ApplicationKey]] = {}
    result: dict[Any, KeyLastUse] = {}
    for key in keys:
        if key.consumer_key:
            by_manager.setdefault(key.key_manager_id, []).append(key)
        else:  # no client made yet (partially created): nothing could have used it
            result[key.pk] = KeyLastUse(reported=True)
    for group in by_manager.values():
        km = group[0].key_manager
        try:
            adapter = adapter_for(km)
            reports = adapter.last_used([client_ref(k) for k in group]) if adapter.reports_last_use else None
        except KeyManagerError:
            reports = False
        for key in group:
            if reports is None:
                result[key.pk] = KeyLastUse(reported=False)
            elif reports is False or key.consumer_key not in reports:
                result[key.pk] = KeyLastUse(reported=False, note=f"Not available: {km} did not answer")
            else:
                report = reports[key.consumer_key]
                result[key.pk] = KeyLastUse(reported=True, key=report.client, secrets=report.secrets)
    return result


def last_use_of(key: ApplicationKey) -> KeyLastUse:
    """One key's last use (``last_uses_of``)."""
    return last_uses_of([key])[key.pk]


def last_used_text(when: datetime | None, now: datetime) -> str:
    """ "3 days ago", "in the last minute" or "Never used" (the recording is per minute)."""
    if when is None:
        return NEVER_USED
    if now - when < timedelta(minutes=1):
        return "in the last minute"
    return timesince(when, now, depth=1).replace("\xa0", " ") + " ago"


def secret_last_used(secret: ConsumerSecret, last_use: KeyLastUse) -> datetime | None:
    return last_use.secrets.get(secret.remote_id) if last_use.reported and secret.remote_id else None


def delete_refusal(secret: ConsumerSecret, *, unexpired_count: int, now: datetime) -> str:
    """Why ``secret`` cannot be deleted now ("" when it can): the rule ``services.secret_delete``
    enforces, told before the developer clicks."""
    if not secret.is_expired(now) and unexpired_count <= 1:
        return LAST_SECRET_REASON
    return ""


def unexpired_count(*, key: ApplicationKey, now: datetime) -> int:
    return ConsumerSecret.objects.filter(key=key).exclude(secret_hash="").filter(unexpired_q(now)).count()


def with_last_used(secrets, last_use: KeyLastUse) -> list[ConsumerSecret]:
    """The secrets, each with ``last_used_at`` (None: never, or not reported) for the REST API's
    serializer."""
    rows = list(secrets)
    for secret in rows:
        secret.last_used_at = secret_last_used(secret, last_use)
    return rows


@dataclass(frozen=True)
class SecretRow:
    """One secret as the tables and the delete confirmation show it."""

    secret: ConsumerSecret
    expires_in: str  # "Never expires", "Expired" or "N days" (``expires_in``)
    last_used_at: datetime | None  # None: never used, or not reported
    last_used_text: str
    used_recently: bool  # the delete confirmation warns
    delete_refusal: str  # why Delete is disabled ("" when it is not)


def secret_row(
    secret: ConsumerSecret, *, now: datetime, unexpired_count: int, last_use: KeyLastUse
) -> SecretRow:
    last_used_at = secret_last_used(secret, last_use)
    return SecretRow(
        secret=secret,
        expires_in=expires_in(secret, now),
        last_used_at=last_used_at,
        last_used_text=last_used_text(last_used_at, now) if last_use.reported else last_use.note,
        used_recently=last_used_at is not None and now - last_used_at < RECENT_USE,
        delete_refusal=delete_refusal(secret, unexpired_count=unexpired_count, now=now),
    )


def table_rows(secrets, *, now: datetime, unexpired_count: int, last_use: KeyLastUse) -> list[SecretRow]:
    """The secrets as the table shows them (``SecretRow``)."""
    return [secret_row(s, now=now, unexpired_count=unexpired_count, last_use=last_use) for s in secrets]


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


@dataclass(frozen=True)
class SecretsPanel:
    """What ``templates/keys/secrets/_panel.html`` shows."""

    secrets: list[SecretRow]  # the first page of unexpired secrets
    unexpired_count: int
    expired_count: int
    usage: SecretUsage
    more: bool = False
    form: Any = None  # the + New Secret form (keys.secrets.forms.SecretCreateForm)
    last_use: KeyLastUse = field(default_factory=lambda: KeyLastUse(reported=False))


#: The columns the secrets table reads (not the hash or the encrypted value).
TABLE_FIELDS = ("id", "key_id", "remote_id", "description", "expires_at", "created_at")


def secrets_panel(*, key: ApplicationKey, now: datetime | None = None) -> SecretsPanel:
    """The panel's data in two queries whatever the number of secrets: the counts (``_usage_of``'s
    rule, in SQL) and the first page's rows; "last used" comes from the key manager (one query at
    the resident server). A key with a hundred secrets no longer loads them all (issue 14).
    """
    now = now or timezone.now()
    real = ~Q(secret_hash="")
    holding = real | Q(created_at__gt=now - RESERVATION_TTL)
    unexpired = unexpired_q(now)
    counts = ConsumerSecret.objects.filter(key=key).aggregate(
        unexpired=Count("pk", filter=real & unexpired),
        expired=Count("pk", filter=real & ~unexpired),
        holding=Count("pk", filter=holding),
        holding_unexpired=Count("pk", filter=holding & unexpired),
    )
    page = list(
        ConsumerSecret.objects.filter(key=key)
        .filter(real & unexpired)
        .only(*TABLE_FIELDS)
        .order_by("-created_at", "-id")[:PAGE_SIZE]
    )
    usage = SecretUsage(
        unexpired=counts["holding_unexpired"],
        stored=counts["holding"],
        policy_limit=key.key_manager.secret_count,
        server_limit=server_limit_for(key),
    )
    last_use = last_use_of(key)
    return SecretsPanel(
        secrets=table_rows(page, now=now, unexpired_count=counts["unexpired"], last_use=last_use),
        unexpired_count=counts["unexpired"],
        expired_count=counts["expired"],
        usage=usage,
        more=counts["unexpired"] > PAGE_SIZE,
        form=_new_secret_form(),
        last_use=last_use,
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
