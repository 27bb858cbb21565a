"""The applications services and the audit helper, below the pages and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.applications import services
from portal.audit import audit
from portal.models import Application, AuditEvent
from tests.portal.conftest import RecordingAdapter

pytestmark = pytest.mark.django_db


def test_names_are_unique_per_owner_without_case(owner):
    services.application_create(owner=owner, name="Weather App")
    with pytest.raises(services.DuplicateApplicationName) as excinfo:
        services.application_create(owner=owner, name="  WEATHER app ")
    assert str(excinfo.value) == "An application named 'WEATHER app' already exists"
    assert Application.objects.count() == 1


def test_the_unique_constraint_catches_a_duplicate_that_raced_past_the_check(owner, monkeypatch):
    # Two requests racing: both pass the friendly check, the database constraint stops the second,
    # and the caller still gets the clear DuplicateApplicationName, not an IntegrityError.
    services.application_create(owner=owner, name="Weather App")
    real_check = services.name_taken
    calls = []

    def stale_first_check(**kwargs):
        calls.append(kwargs)
        return False if len(calls) == 1 else real_check(**kwargs)

    monkeypatch.setattr(services, "name_taken", stale_first_check)
    with pytest.raises(services.DuplicateApplicationName):
        services.application_create(owner=owner, name="weather app")
    assert len(calls) == 2
    assert Application.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the application."),
        ("\t \n", "Enter a name for the application."),
        ("x" * 71, "at most 70 characters"),
        ("tab\tinside", "control characters"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(owner, name, message):
    with pytest.raises(ValidationError) as excinfo:
        services.application_create(owner=owner, name=name)
    assert message in " ".join(excinfo.value.messages)
    assert not Application.objects.exists()


def test_a_bad_token_type_is_refused(owner):
    with pytest.raises(ValidationError, match="Token type must be one of JWT, OAUTH"):
        services.application_create(owner=owner, name="ok", token_type="SAML")


def test_update_records_what_changed(owner, application):
    services.application_update(application=application, actor=owner, name="Weather App", description="new")
    event = AuditEvent.objects.get(action="application.update")
    assert event.detail == {"changed": ["description"]}
    assert event.actor == owner


def test_deleting_an_application_deletes_every_key_at_its_key_manager(owner, application, make_key):
    from keys.models import KeyType

    make_key(application, consumer_key="ck-prod")
    make_key(application, key_type=KeyType.SANDBOX, consumer_key="ck-sand")
    services.application_delete(application=application, actor=owner)
    assert sorted(RecordingAdapter.deleted) == ["ck-prod", "ck-sand"]
    assert not Application.objects.exists()
    event = AuditEvent.objects.get(action="application.delete")
    assert (event.outcome, event.detail) == ("success", {"name": "Weather App"})


def test_a_failed_delete_keeps_the_application_and_audits_the_failure(owner, application, make_key):
    from keymanagers.base import KeyManagerError

    RecordingAdapter.fail = True
    make_key(application)
    with pytest.raises(KeyManagerError):
        services.application_delete(application=application, actor=owner)
    assert Application.objects.filter(pk=application.pk).exists()
    event = AuditEvent.objects.get(action="application.delete")
    assert event.outcome == "failure"
    assert "connection refused" in event.detail["error"]


def test_audit_refuses_secret_values_in_its_detail(owner):
    with pytest.raises(ValueError, match="must not carry secret values"):
        audit(actor=owner, action="keys.generate", consumer_secret="s3cr3t")
    assert not AuditEvent.objects.exists()


def test_audit_takes_objects_or_ids_and_forgets_anonymous_actors(application, make_key):
    from django.contrib.auth.models import AnonymousUser

    key = make_key(application)
    event = audit(actor=AnonymousUser(), action="keys.generate", key=key, outcome="failure", step="register")
    assert event.actor is None
    assert event.application_id == application.pk
    assert event.key_mapping_id == key.pk
    assert (event.outcome, event.detail) == ("failure", {"step": "register"})


def test_api_token_lifetimes_are_capped_by_the_setting(settings):
    settings.PORTAL_API_TOKEN_MAX_DAYS = 365
    assert services.api_token_lifetime_choices() == [7, 30, 90, 365]
    settings.PORTAL_API_TOKEN_MAX_DAYS = 60
    assert services.api_token_lifetime_choices() == [7, 30]
    settings.PORTAL_API_TOKEN_MAX_DAYS = 3
    assert services.api_token_lifetime_choices() == [3]
