"""clear_resident_tokens: what ended more than the grace period ago goes; "never" and live rows stay."""

from __future__ import annotations

import secrets
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from keymanagers.resident.cleanup import clear_resident_tokens
from tests.resident.conftest import CALLBACK

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def ago(delta):
    return timezone.now() - delta


def access_token(app, *, expires, user=None, id_token=None, created=None):
    with time_machine.travel(created or timezone.now()):
        return AccessToken.objects.create(
            application=app,
            user=user,
            token=secrets.token_urlsafe(16),
            expires=expires,
            scope="default",
            id_token=id_token,
        )


def refresh_token(app, user, *, created, access=None, revoked=None):
    with time_machine.travel(created):
        return RefreshToken.objects.create(
            application=app,
            user=user,
            token=secrets.token_urlsafe(16),
            access_token=access,
            revoked=revoked,
        )


def test_access_tokens_go_once_expired_longer_than_the_grace_period(make_client):
    app, _ = make_client()
    old = access_token(app, expires=ago(2 * DAY))
    recent = access_token(app, expires=ago(timedelta(hours=2)))
    live = access_token(app, expires=timezone.now() + DAY)

    counts = clear_resident_tokens()

    assert counts.access_tokens == 1
    assert set(AccessToken.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not AccessToken.objects.filter(pk=old.pk).exists()


def test_an_expired_access_token_stays_while_its_refresh_token_lives(make_client, owner):
    app, _ = make_client()
    expired = access_token(app, user=owner, expires=ago(2 * DAY))
    refresh_token(app, owner, created=ago(timedelta(hours=1)), access=expired)
    assert clear_resident_tokens().access_tokens == 0
    assert AccessToken.objects.filter(pk=expired.pk).exists()


def test_refresh_tokens_follow_their_clients_lifetime(make_client, owner, settings):
    settings.RESIDENT_REFRESH_TOKEN_EXPIRE_SECONDS = 86400
    hourly, _ = make_client(name="Hourly", refresh_token_expiry_time=3600)
    default, _ = make_client(name="Default")
    default.refresh_token_lifetime = None  # empty: the server default
    default.save()
    never, _ = make_client(name="Never", refresh_token_expiry_time=-1)

    hourly_old = refresh_token(hourly, owner, created=ago(DAY + timedelta(hours=2)))
    hourly_new = refresh_token(hourly, owner, created=ago(timedelta(minutes=30)))
    default_old = refresh_token(default, owner, created=ago(3 * DAY))
    default_within_grace = refresh_token(default, owner, created=ago(DAY + timedelta(hours=1)))
    never_old = refresh_token(never, owner, created=ago(400 * DAY))

    counts = clear_resident_tokens()

    assert counts.refresh_tokens == 2
    kept = set(RefreshToken.objects.values_list("pk", flat=True))
    assert kept == {hourly_new.pk, default_within_grace.pk, never_old.pk}
    assert hourly_old.pk not in kept and default_old.pk not in kept


def test_revoked_refresh_tokens_stay_while_replay_detection_needs_them(make_client, owner):
    monthly, _ = make_client(name="Monthly", refresh_token_expiry_time=30 * 86400)
    never, _ = make_client(name="Never", refresh_token_expiry_time=-1)
    # Rotated two days ago but could still be replayed for weeks: kept to catch the replay.
    replayable = refresh_token(monthly, owner, created=ago(3 * DAY), revoked=ago(2 * DAY))
    done = refresh_token(monthly, owner, created=ago(40 * DAY), revoked=ago(35 * DAY))
    never_revoked = refresh_token(never, owner, created=ago(10 * DAY), revoked=ago(2 * DAY))
    never_just_revoked = refresh_token(never, owner, created=ago(10 * DAY), revoked=ago(timedelta(hours=1)))

    assert clear_resident_tokens().refresh_tokens == 2

    kept = set(RefreshToken.objects.values_list("pk", flat=True))
    assert kept == {replayable.pk, never_just_revoked.pk}
    assert done.pk not in kept and never_revoked.pk not in kept


def test_codes_and_id_tokens_go_once_expired(make_client, owner):
    app, _ = make_client()
    old_code = Grant.objects.create(
        application=app, user=owner, code="c1", expires=ago(2 * DAY), redirect_uri=CALLBACK, scope="openid"
    )
    fresh_code = Grant.objects.create(
        application=app,
        user=owner,
        code="c2",
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri=CALLBACK,
        scope="openid",
    )
    lone_id_token = IDToken.objects.create(application=app, user=owner, expires=ago(2 * DAY), scope="openid")
    held_id_token = IDToken.objects.create(application=app, user=owner, expires=ago(2 * DAY), scope="openid")
    live = access_token(app, user=owner, expires=timezone.now() + DAY, id_token=held_id_token)

    counts = clear_resident_tokens()

    assert (counts.grants, counts.id_tokens) == (1, 1)
    assert list(Grant.objects.values_list("pk", flat=True)) == [fresh_code.pk]
    assert not Grant.objects.filter(pk=old_code.pk).exists()
    assert not IDToken.objects.filter(pk=lone_id_token.pk).exists()
    # Deleting an ID token would delete its (live) access token with it.
    assert IDToken.objects.filter(pk=held_id_token.pk).exists()
    assert AccessToken.objects.filter(pk=live.pk).exists()


def test_an_expired_access_token_and_its_id_token_go_in_one_run(make_client, owner):
    app, _ = make_client()
    id_token = IDToken.objects.create(application=app, user=owner, expires=ago(2 * DAY), scope="openid")
    access_token(app, user=owner, expires=ago(2 * DAY), id_token=id_token)
    counts = clear_resident_tokens()
    assert (counts.access_tokens, counts.id_tokens) == (1, 1)
    assert not IDToken.objects.exists() and not AccessToken.objects.exists()


def test_deletes_run_in_batches_until_nothing_is_left(make_client):
    app, _ = make_client()
    for _ in range(5):
        access_token(app, expires=ago(2 * DAY))
    assert clear_resident_tokens(batch_size=2).access_tokens == 5
    assert not AccessToken.objects.exists()


def test_a_longer_grace_period_keeps_more(make_client):
    app, _ = make_client()
    access_token(app, expires=ago(2 * DAY))
    assert clear_resident_tokens(grace=3 * DAY).access_tokens == 0
    assert AccessToken.objects.count() == 1


def test_the_command_reports_counts_and_dry_run_deletes_nothing(make_client, owner):
    app, _ = make_client(refresh_token_expiry_time=3600)
    access_token(app, expires=ago(2 * DAY))
    refresh_token(app, owner, created=ago(3 * DAY))

    out = StringIO()
    call_command("clear_resident_tokens", "--dry-run", stdout=out)
    assert (
        "Would delete 1 access token(s), 1 refresh token(s), 0 authorization code(s), 0 ID token(s), "
        "0 redeemed-code record(s) and 0 revoked JWT(s)." in (out.getvalue())
    )
    assert AccessToken.objects.count() == 1 and RefreshToken.objects.count() == 1

    out = StringIO()
    call_command("clear_resident_tokens", "--grace-days", "0.5", "--batch-size", "10", stdout=out)
    assert "Deleted 1 access token(s), 1 refresh token(s)" in out.getvalue()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()


def test_the_command_refuses_a_negative_grace_period(db):
    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("clear_resident_tokens", "--grace-days", "-1", stdout=StringIO())


def test_a_refresh_token_kept_by_the_cleanup_still_refreshes(client, owner_client, make_client):
    # End to end: a real code flow's refresh token outlives a cleanup that removes the expired
    # access token beside it, and still works.
    from tests.resident.conftest import token_request
    from tests.resident.test_authorization_code import code_tokens

    _, registered = make_client(user_access_token_expiry_time=60, refresh_token_expiry_time=30 * 86400)
    first = code_tokens(client, owner_client, registered)
    with time_machine.travel(timezone.now() + 3 * DAY):
        counts = clear_resident_tokens()
        assert counts.refresh_tokens == 0
        answer = token_request(
            client,
            registered.ref.client_id,
            registered.secret.value,
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
        )
        assert answer.status_code == 200, answer.content
