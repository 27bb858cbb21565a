"""Expiry reminders: one email per owner listing their soon-expiring secrets, once per secret."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from keys.models import KeyType
from keys.secrets import reminders, services
from portal.models import Application
from tests.secrets.conftest import generate


@pytest.fixture
def expiring(key, owner, application, resident):
    """Owner: two secrets expiring within 14 days (two environments), one in 30 days, one never."""
    now = timezone.now()
    created = services.secret_create(
        key=key, description="CI", expires_at=now + timedelta(days=3), actor=owner
    )
    soon, soon_value = created.secret, created.value
    services.secret_create(key=key, description="later", expires_at=now + timedelta(days=30), actor=owner)
    services.secret_create(key=key, description="forever", expires_at=None, actor=owner)
    sandbox, _ = generate(application, resident, key_type=KeyType.SANDBOX)
    created = services.secret_create(
        key=sandbox, description="", expires_at=now + timedelta(days=10), actor=owner
    )
    other, other_value = created.secret, created.value
    return soon, other, [soon_value, other_value]


def test_each_owner_gets_one_email_listing_their_expiring_secrets(expiring, owner):
    soon, other, values = expiring

    result = reminders.secrets_notify_expiring(days=14)

    assert (result.emails, result.secrets) == (1, 2)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"]
    assert email.subject == "2 consumer secrets expire within 14 days"
    body = email.body
    assert body.index("Description: CI") < body.index("Description: No description")  # soonest first
    assert "Application: Weather" in body
    assert "Environment: Production" in body and "Environment: Sandbox" in body
    assert "Key manager: Resident Key Manager" in body
    assert f"/applications/{soon.key.application_id}/keys/production/" in body
    assert "later" not in body and "forever" not in body
    assert all(value not in body for value in values)
    soon.refresh_from_db()
    other.refresh_from_db()
    assert soon.reminder_sent_at is not None and other.reminder_sent_at is not None


def test_a_secret_is_reminded_about_only_once(expiring):
    reminders.secrets_notify_expiring(days=14)
    again = reminders.secrets_notify_expiring(days=14)
    assert (again.emails, again.secrets) == (0, 0)
    assert len(mail.outbox) == 1


def test_owners_are_emailed_separately(expiring, other_developer, resident):
    theirs = Application.objects.create(owner=other_developer, name="Theirs")
    key, _ = generate(theirs, resident)
    services.secret_create(key=key, expires_at=timezone.now() + timedelta(days=1), actor=other_developer)

    result = reminders.secrets_notify_expiring(days=14)

    assert result.emails == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "mallory@example.com"]
    mallory = next(m for m in mail.outbox if m.to == ["mallory@example.com"])
    assert "Weather" not in mallory.body and "Theirs" in mallory.body


def test_expired_secrets_and_owners_without_email_get_nothing(key, owner):
    services.secret_create(key=key, expires_at=timezone.now() + timedelta(days=1), actor=owner)
    owner.email = ""
    owner.save()
    assert reminders.secrets_notify_expiring(days=14).emails == 0
    assert mail.outbox == []


def test_a_failed_email_is_retried_next_run(expiring, monkeypatch):
    soon, _, _ = expiring

    def refuse(self, messages):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    failed = reminders.secrets_notify_expiring(days=14)
    soon.refresh_from_db()
    assert failed.failed_emails == 1 and soon.reminder_sent_at is None

    monkeypatch.undo()
    assert reminders.secrets_notify_expiring(days=14).secrets == 2
    assert len(mail.outbox) == 1


def test_command_dry_run_sends_nothing(expiring):
    soon, _, _ = expiring
    out = StringIO()
    call_command("notify_expiring_secrets", "--dry-run", "--days", "5", stdout=out)
    assert (
        "Would email 1 owners about 1 secrets expiring within 5 days (dry run: nothing sent)."
        in out.getvalue()
    )
    assert "alice@example.com" in out.getvalue()
    assert mail.outbox == []
    soon.refresh_from_db()
    assert soon.reminder_sent_at is None


def test_command_sends(expiring):
    out = StringIO()
    call_command("notify_expiring_secrets", stdout=out)
    assert "Emailed 1 owners about 2 secrets expiring within 14 days." in out.getvalue()
    assert len(mail.outbox) == 1


def test_command_refuses_a_bad_window(db):
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("notify_expiring_secrets", "--days", "0", stdout=StringIO())
