"""Reminder mail about consumer secrets that expire soon (``manage.py notify_expiring_secrets``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from keys.models import ConsumerSecret
from keys.secrets.selectors import ENVIRONMENT_OF

logger = logging.getLogger(__name__)


@dataclass
class ReminderResult:
    emails: int = 0
    secrets: int = 0
    failed_emails: int = 0
    recipients: list[str] = field(default_factory=list)


def _expiring(*, days: int, now: datetime):
    return (
        ConsumerSecret.objects.filter(
            reminder_sent_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .exclude(secret_hash="")
        .exclude(Q(key__application__owner__email="") | Q(key__application__owner__is_active=False))
    )


def secrets_notify_expiring(
    *, days: int = 14, dry_run: bool = False, now: datetime | None = None
) -> ReminderResult:
    """Email each owner once per secret about their secrets expiring within ``days`` days.

    Safe to run from cron on several machines at once: each run claims its rows (sets
    ``reminder_sent_at``) in a short transaction, skipping rows another run has locked, and only
    then sends. A failed email un-claims its rows so that the next run tries again.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or timezone.now()
    result = ReminderResult()
    related = ("key__application__owner", "key__key_manager")
    if dry_run:
        claimed = list(_expiring(days=days, now=now).select_related(*related))
    else:
        with transaction.atomic():
            claimed = list(
                _expiring(days=days, now=now)
                .select_related(*related)
                .select_for_update(skip_locked=True, of=("self",))
            )
            # The condition repeats ``reminder_sent_at IS NULL``: on databases without row locks
            # (SQLite) this UPDATE, serialised by the write lock, is what keeps a row from being
            # claimed twice.
            ConsumerSecret.objects.filter(
                pk__in=[s.pk for s in claimed], reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)

    by_owner: dict[int, list[ConsumerSecret]] = {}
    for secret in claimed:
        by_owner.setdefault(secret.key.application.owner_id, []).append(secret)

    connection = None if dry_run else get_connection()
    for secrets_of_owner in by_owner.values():
        owner = secrets_of_owner[0].key.application.owner
        secrets_of_owner.sort(key=lambda s: s.expires_at)
        result.recipients.append(owner.email)
        if dry_run:
            result.emails += 1
            result.secrets += len(secrets_of_owner)
            continue
        message = _reminder_email(owner=owner, secrets=secrets_of_owner, days=days, now=now)
        try:
            connection.send_messages([message])
        except Exception:
            logger.exception("could not email %s about %d expiring secrets", owner.pk, len(secrets_of_owner))
            ConsumerSecret.objects.filter(pk__in=[s.pk for s in secrets_of_owner]).update(
                reminder_sent_at=None
            )
            result.failed_emails += 1
            continue
        result.emails += 1
        result.secrets += len(secrets_of_owner)
    return result


def _reminder_email(*, owner, secrets: list[ConsumerSecret], days: int, now: datetime) -> EmailMessage:
    rows = [
        {
            "application": s.key.application.name,
            "environment": s.key.get_key_type_display(),
            "key_manager": str(s.key.key_manager),
            "description": s.description or "No description",
            "expires_at": s.expires_at,
            "url": settings.SITE_URL
            + reverse(
                "application_keys",
                kwargs={"application_id": s.key.application_id, "env": ENVIRONMENT_OF[s.key.key_type]},
            ),
        }
        for s in secrets
    ]
    context = {"owner": owner, "rows": rows, "days": days, "count": len(rows)}
    subject = render_to_string("keys/secrets/email/expiring_subject.txt", context).strip()
    body = render_to_string("keys/secrets/email/expiring.txt", context)
    return EmailMessage(subject=subject, body=body, to=[owner.email])
