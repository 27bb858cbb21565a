"""Switching multiple secrets on masks every existing secret for good: service, command, admin action."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from keymanagers.models import KeyManager
from keys.models import ConsumerSecret, KeyType
from keys.secrets import rules, services
from keys.services import stored_secret_value
from portal.models import AuditEvent
from tests.secrets.conftest import generate

ACTION_URL = "/admin/keymanagers/keymanager/"


@pytest.fixture
def single_mode(resident):
    resident.multiple_secrets_enabled = False
    resident.save()
    return resident


@pytest.fixture
def other_km(db):
    return KeyManager.objects.create(
        name="second",
        display_name="Second",
        type="resident",
        multiple_secrets_enabled=False,
        available_grant_types=["client_credentials"],
    )


@pytest.fixture
def revealable(application, single_mode, other_km):
    """Two keys at the Resident key manager and one at another, all in single-secret mode."""
    production, value = generate(application, single_mode)
    sandbox, _ = generate(application, single_mode, key_type=KeyType.SANDBOX)
    elsewhere, _ = generate(application, other_km)
    assert stored_secret_value(production) == value
    return production, sandbox, elsewhere


def encrypted_count(km):
    return ConsumerSecret.objects.filter(key__key_manager=km).exclude(value_encrypted="").count()


def switch_on(km):
    km.multiple_secrets_enabled = True
    km.save()


def test_switching_multiple_secrets_on_masks_that_key_managers_secrets(
    revealable, single_mode, other_km, admin_user
):
    production, _, _ = revealable
    hashes = set(ConsumerSecret.objects.values_list("secret_hash", flat=True))
    switch_on(single_mode)

    masked = services.on_multiple_secrets_enabled(single_mode, actor=admin_user)

    assert masked == 2
    assert encrypted_count(single_mode) == 0
    assert encrypted_count(other_km) == 1  # still in single-secret mode: untouched
    assert set(ConsumerSecret.objects.values_list("secret_hash", flat=True)) == hashes  # they still work
    production.refresh_from_db()
    assert stored_secret_value(production) == ""
    event = AuditEvent.objects.get(action="secrets.mask")
    assert event.detail == {"masked": 2, "key_manager": "Resident"} and event.actor == admin_user


def test_masking_a_key_manager_in_single_secret_mode_is_refused(revealable, single_mode):
    with pytest.raises(rules.SecretsDisabled):
        services.secrets_mask_all(key_manager=single_mode)
    assert encrypted_count(single_mode) == 2


def test_mask_all_covers_every_key_manager_with_multiple_secrets_on(revealable, single_mode, other_km):
    switch_on(single_mode)
    switch_on(other_km)
    assert services.secrets_mask_all(dry_run=True) == 3
    assert ConsumerSecret.objects.exclude(value_encrypted="").count() == 3
    assert services.secrets_mask_all() == 3
    assert ConsumerSecret.objects.exclude(value_encrypted="").count() == 0


def test_command_dry_run_counts_and_changes_nothing(revealable, single_mode):
    switch_on(single_mode)
    out = StringIO()
    call_command("mask_secrets", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "Would mask 2 secrets of 2 keys (dry run: nothing changed)."
    assert encrypted_count(single_mode) == 2


def test_command_masks_one_named_key_manager(revealable, single_mode, other_km):
    switch_on(single_mode)
    switch_on(other_km)
    out = StringIO()
    call_command("mask_secrets", "--key-manager", "second", stdout=out)
    assert "Masked 1 secrets of 1 keys." in out.getvalue()
    assert encrypted_count(other_km) == 0
    assert encrypted_count(single_mode) == 2


def test_command_refuses_unknown_or_single_secret_key_managers(revealable, single_mode):
    with pytest.raises(CommandError, match="No key manager named 'nope'"):
        call_command("mask_secrets", "--key-manager", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="single-secret mode"):
        call_command("mask_secrets", "--key-manager", "Resident", stdout=StringIO())
    assert encrypted_count(single_mode) == 2


def test_admin_action_asks_for_confirmation_first(revealable, single_mode, admin_client_):
    switch_on(single_mode)

    response = admin_client_.post(
        ACTION_URL, {"action": "mask_existing_secrets", "_selected_action": [single_mode.pk]}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "This destroys the retrievable copies of 2 secrets of 2 keys." in page
    assert "Developers will not be able to see these secrets again. This cannot be undone." in page
    assert 'name="post" value="yes"' in page
    assert encrypted_count(single_mode) == 2


def test_admin_action_masks_on_confirmation(revealable, single_mode, other_km, admin_client_):
    switch_on(single_mode)

    response = admin_client_.post(
        ACTION_URL,
        {"action": "mask_existing_secrets", "_selected_action": [single_mode.pk, other_km.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Masked 2 secrets of 2 keys." in page
    assert "Skipped" in page and "Second" in page
    assert encrypted_count(single_mode) == 0
    assert encrypted_count(other_km) == 1


def test_admin_action_needs_an_admin(revealable, single_mode, owner_client):
    switch_on(single_mode)
    response = owner_client.post(
        ACTION_URL, {"action": "mask_existing_secrets", "_selected_action": [single_mode.pk], "post": "yes"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert encrypted_count(single_mode) == 2


def test_switching_multiple_secrets_on_in_the_admin_masks_existing_secrets(
    revealable, single_mode, other_km, admin_client_
):
    production, _, _ = revealable
    change_url = f"/admin/keymanagers/keymanager/{single_mode.pk}/change/"
    form = admin_client_.get(change_url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: v for k, v in data.items() if v is not False}
    data.update(multiple_secrets_enabled="on", config="{}", secret_count="", timeout="")

    response = admin_client_.post(change_url, data, follow=True)

    assert response.status_code == 200
    assert "2 existing secret(s) were masked for good" in response.content.decode()
    single_mode.refresh_from_db()
    assert single_mode.multiple_secrets_enabled
    assert encrypted_count(single_mode) == 0
    assert encrypted_count(other_km) == 1
    production.refresh_from_db()
    assert stored_secret_value(production) == ""


def test_the_admin_change_form_warns_what_switching_on_does(single_mode, admin_client_):
    page = admin_client_.get(f"/admin/keymanagers/keymanager/{single_mode.pk}/change/").content.decode()
    assert "masks every existing secret of this key manager for good" in page
