"""Admin for keys, secrets and scopes: searchable, filterable, and never a secret value or hash."""

from __future__ import annotations

from keymanagers.models import OAuthClient
from keys import services
from keys.models import ApplicationKey, ConsumerSecret, Scope
from portal import crypto
from tests.keys.helpers import CC_CONFIG


def make_key(application, km, owner, key_type="PRODUCTION", **kwargs):
    return services.keys_generate(
        application=application, key_type=key_type, key_manager=km, config=CC_CONFIG, actor=owner, **kwargs
    )


def test_key_admin_lists_searches_and_filters(admin_client_, application, resident, owner):
    key = make_key(application, resident, owner).key

    listing = admin_client_.get("/admin/keys/applicationkey/")
    by_consumer_key = admin_client_.get("/admin/keys/applicationkey/", {"q": key.consumer_key})
    by_owner = admin_client_.get("/admin/keys/applicationkey/", {"q": "alice"})
    by_name = admin_client_.get("/admin/keys/applicationkey/", {"q": "nothing-like-it"})
    filtered = admin_client_.get("/admin/keys/applicationkey/", {"key_type__exact": "SANDBOX"})

    assert listing.status_code == 200 and key.consumer_key in listing.content.decode()
    assert key.consumer_key in by_consumer_key.content.decode()
    assert key.consumer_key in by_owner.content.decode()
    assert key.consumer_key not in by_name.content.decode()
    assert key.consumer_key not in filtered.content.decode()


def test_key_admin_page_shows_no_secret_remote_state_or_hash(
    admin_client_, application, single_secret_resident, owner
):
    generated = make_key(application, single_secret_resident, owner)
    key = generated.key
    key.set_remote_state({"registration_access_token": "rat-very-secret"})
    key.save()
    secret = ConsumerSecret.objects.get()

    pages = [
        admin_client_.get(f"/admin/keys/applicationkey/{key.pk}/change/"),
        admin_client_.get("/admin/keys/consumersecret/"),
        admin_client_.get(f"/admin/keys/consumersecret/{secret.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        content = page.content.decode()
        for value in (
            generated.consumer_secret,
            secret.secret_hash,
            secret.value_encrypted,
            "rat-very-secret",
            key.remote_state_encrypted,
        ):
            assert value not in content


def test_keys_and_secrets_cannot_be_edited_in_place(admin_client_, application, resident, owner):
    key = make_key(application, resident, owner).key
    response = admin_client_.post(
        f"/admin/keys/applicationkey/{key.pk}/change/", {"consumer_key": "hijacked"}
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.consumer_key != "hijacked"
    assert admin_client_.get("/admin/keys/consumersecret/add/").status_code == 403


def test_the_remove_action_deletes_the_client_at_the_key_manager(admin_client_, application, resident, owner):
    key = make_key(application, resident, owner).key
    response = admin_client_.post(
        "/admin/keys/applicationkey/", {"action": "remove_keys", "_selected_action": [str(key.pk)]}
    )
    assert response.status_code == 302
    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.exists()


def test_secret_admin_filters_expired(admin_client_, application, resident, owner):
    key = make_key(application, resident, owner, secret_description="brand-new-secret").key
    from datetime import timedelta

    from django.utils import timezone

    ConsumerSecret.objects.create(
        key=key,
        description="retired-secret",
        secret_hash=crypto.keyed_hash("x"),
        expires_at=timezone.now() - timedelta(days=1),
    )
    expired = admin_client_.get("/admin/keys/consumersecret/", {"expired": "yes"}).content.decode()
    valid = admin_client_.get("/admin/keys/consumersecret/", {"expired": "no"}).content.decode()
    assert "retired-secret" in expired and "brand-new-secret" not in expired
    assert "brand-new-secret" in valid and "retired-secret" not in valid


def test_scopes_are_editable(admin_client_):
    response = admin_client_.post(
        "/admin/keys/scope/add/", {"name": "weather:read", "display_name": "Read", "description": "Forecasts"}
    )
    assert response.status_code == 302
    assert Scope.objects.filter(name="weather:read").exists()
    assert "weather:read" in admin_client_.get("/admin/keys/scope/", {"q": "weather"}).content.decode()


def test_the_admin_is_for_staff_only(owner_client, application, resident, owner):
    make_key(application, resident, owner)
    assert owner_client.get("/admin/keys/applicationkey/").status_code == 302
