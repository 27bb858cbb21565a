"""The keys services with the real Resident key manager: generate, update, remove, secrets, tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keymanagers.base import KeyManagerError
from keymanagers.models import OAuthClient
from keys import services, tokens
from keys.errors import KeysConflict, KeysError
from keys.models import ApplicationKey, ConsumerSecret
from portal import crypto
from portal.models import AuditEvent
from tests.keys.helpers import CC_CONFIG, token_at_endpoint


def generate(application, km, owner, key_type="PRODUCTION", config=CC_CONFIG, **kwargs):
    return services.keys_generate(
        application=application, key_type=key_type, key_manager=km, config=config, actor=owner, **kwargs
    )


@pytest.mark.parametrize("key_type", ["PRODUCTION", "SANDBOX"])
def test_generated_keys_get_a_token_at_the_token_endpoint(client, application, resident, owner, key_type):
    result = generate(application, resident, owner, key_type=key_type)

    assert result.key.key_type == key_type
    assert result.key.key_state == ApplicationKey.State.COMPLETED
    assert OAuthClient.objects.filter(client_id=result.key.consumer_key).exists()
    assert result.token is not None and result.token.access_token
    response = token_at_endpoint(client, result.key.consumer_key, result.consumer_secret)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_only_a_hash_of_the_secret_is_kept_in_multiple_secret_mode(application, resident, owner):
    expires = timezone.now() + timedelta(days=30)
    result = generate(
        application, resident, owner, secret_description="CI pipeline", secret_expires_at=expires
    )

    secret = ConsumerSecret.objects.get(key=result.key)
    assert secret.secret_hash == crypto.keyed_hash(result.consumer_secret)
    assert secret.value_encrypted == ""
    assert secret.description == "CI pipeline"
    assert secret.expires_at == expires
    assert secret.created_by == owner


def test_single_secret_mode_keeps_the_secret_readable_for_the_page(
    application, single_secret_resident, owner
):
    result = generate(application, single_secret_resident, owner, secret_description="ignored")

    secret = ConsumerSecret.objects.get(key=result.key)
    assert crypto.decrypt(secret.value_encrypted) == result.consumer_secret
    assert secret.description == ""
    assert services.stored_secret_value(result.key) == result.consumer_secret


def test_a_jwt_application_gets_a_jwt_and_an_oauth_application_an_opaque_token(
    application, opaque_application, resident, owner
):
    jwt_token = generate(application, resident, owner).token.access_token
    opaque_token = generate(opaque_application, resident, owner).token.access_token

    assert jwt_token.count(".") == 2
    assert "." not in opaque_token


def test_no_token_without_client_credentials(application, resident, owner):
    result = generate(
        application,
        resident,
        owner,
        config={"grant_types": ["authorization_code"], "callback_url": "https://app.example/cb"},
    )
    assert result.token is None
    assert result.key.callback_url == "https://app.example/cb"


def test_no_token_where_the_key_manager_does_not_allow_token_generation(application, resident, owner):
    resident.enable_token_generation = False
    resident.save()
    assert generate(application, resident, owner).token is None


def test_the_token_has_the_asked_scopes_and_validity(application, resident, owner):
    result = generate(application, resident, owner, scopes=["default"], validity_time=120)
    assert result.token.scopes == ["default"]
    assert result.token.expires_in == 120


def test_keys_exist_only_once_per_application_environment_and_key_manager(application, resident, owner):
    generate(application, resident, owner)
    clients_before = OAuthClient.objects.count()

    with pytest.raises(KeysConflict, match="Keys already exist"):
        generate(application, resident, owner)

    assert OAuthClient.objects.count() == clients_before  # refused before reaching the key manager
    generate(application, resident, owner, key_type="SANDBOX")  # the other environment is free
    assert application.keys.count() == 2


def test_a_disabled_key_manager_cannot_be_used(application, resident, owner):
    resident.enabled = False
    resident.save()
    with pytest.raises(KeysError, match="disabled"):
        generate(application, resident, owner)
    assert not ApplicationKey.objects.exists()


def test_a_key_manager_without_app_creation_refuses_generation(application, resident, owner):
    resident.enable_oauth_app_creation = False
    resident.save()
    with pytest.raises(KeysError, match="Provide Existing OAuth Keys"):
        generate(application, resident, owner)


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"grant_types": []}, "grant_types", "Select at least one grant type"),
        ({"grant_types": ["password"]}, "grant_types", "not available at Resident Key Manager"),
        ({"grant_types": "client_credentials"}, "grant_types", "as a list"),
        ({"grant_types": ["authorization_code"]}, "callback_url", "A callback URL is required"),
        (
            {"grant_types": ["authorization_code"], "callback_url": "ftp://x.example/cb"},
            "callback_url",
            "not an absolute http:// or https:// URL",
        ),
        (
            {"grant_types": ["authorization_code"], "callback_url": "https://a.example/cb /relative"},
            "callback_url",
            "“/relative” is not an absolute",
        ),
        (
            {"grant_types": ["authorization_code"], "callback_url": "https://a.example/cb#frag"},
            "callback_url",
            "fragment",
        ),
        (
            {"grant_types": ["authorization_code"], "callback_url": "regexp=(https://a.example/cb"},
            "callback_url",
            "does not compile",
        ),
        (
            {"grant_types": ["client_credentials"], "application_access_token_expiry_time": "soon"},
            "application_access_token_expiry_time",
            "whole number of seconds",
        ),
        (
            {"grant_types": ["client_credentials"], "refresh_token_expiry_time": 0},
            "refresh_token_expiry_time",
            "other than 0",
        ),
        (
            {"grant_types": ["client_credentials"], "id_token_expiry_time": 2**40},
            "id_token_expiry_time",
            "whole number",
        ),
        (
            {"grant_types": ["client_credentials"], "pkce_mandatory": "maybe"},
            "pkce_mandatory",
            "true or false",
        ),
        (
            {"grant_types": ["client_credentials"], "bypass_client_credentials": True},
            "bypass_client_credentials",
            "public client",
        ),
    ],
)
def test_bad_configurations_are_refused_before_anything_is_made(
    application, resident, owner, config, field, message
):
    with pytest.raises(ValidationError) as caught:
        generate(application, resident, owner, config=config)

    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.exists()


def test_several_callback_urls_and_a_regexp_are_accepted(application, resident, owner):
    both = generate(
        application,
        resident,
        owner,
        config={
            "grant_types": ["authorization_code"],
            "callback_url": "https://a.example/cb, http://localhost:8080/cb",
        },
    ).key
    regexp = generate(
        application,
        resident,
        owner,
        key_type="SANDBOX",
        config={"grant_types": ["authorization_code"], "callback_url": r"regexp=https://.*\.example/cb"},
    ).key
    assert both.callback_url == "https://a.example/cb, http://localhost:8080/cb"
    assert regexp.callback_url == r"regexp=https://.*\.example/cb"


def test_negative_expiry_means_never_and_settings_reach_the_client(application, resident, owner):
    key = generate(
        application,
        resident,
        owner,
        config={
            "grant_types": ["client_credentials"],
            "application_access_token_expiry_time": -1,
            "pkce_mandatory": "true",
            "pkce_support_plain": True,
        },
    ).key
    assert key.application_access_token_expiry_time == -1
    assert key.pkce_mandatory and key.pkce_support_plain
    client = OAuthClient.objects.get(client_id=key.consumer_key)
    assert client.application_token_lifetime == -1
    assert client.pkce_required and client.pkce_plain_allowed


def test_secret_description_and_expiry_are_checked(application, resident, owner):
    with pytest.raises(ValidationError) as caught:
        generate(
            application,
            resident,
            owner,
            secret_description="x" * 1025,
            secret_expires_at=timezone.now() - timedelta(days=1),
        )
    assert set(caught.value.message_dict) == {"secret_description", "secret_expires_at"}
    assert not OAuthClient.objects.exists()


def test_updating_changes_the_client_at_the_key_manager(application, resident, owner):
    key = generate(application, resident, owner).key

    services.keys_update(
        key=key,
        config={
            "grant_types": ["client_credentials", "authorization_code"],
            "callback_url": "https://app.example/cb",
            "user_access_token_expiry_time": 600,
        },
        actor=owner,
    )

    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials", "authorization_code"]
    assert key.user_access_token_expiry_time == 600
    client = OAuthClient.objects.get(client_id=key.consumer_key)
    assert client.grant_types == ["client_credentials", "authorization_code"]
    assert "https://app.example/cb" in client.redirect_uris
    assert client.user_token_lifetime == 600


def test_an_invalid_update_changes_nothing(application, resident, owner):
    key = generate(application, resident, owner).key
    with pytest.raises(ValidationError):
        services.keys_update(key=key, config={"grant_types": ["implicit"]}, actor=owner)
    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials"]
    assert OAuthClient.objects.get(client_id=key.consumer_key).grant_types == ["client_credentials"]


def test_removing_keys_deletes_the_client_and_its_tokens_stop_working(client, application, resident, owner):
    result = generate(application, resident, owner)
    token = result.token.access_token

    services.keys_delete(key=result.key, actor=owner)

    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.filter(client_id=result.key.consumer_key).exists()
    assert token_at_endpoint(client, result.key.consumer_key, result.consumer_secret).status_code == 401
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_regenerating_the_secret_retires_the_old_one(client, application, single_secret_resident, owner):
    result = generate(application, single_secret_resident, owner)

    new_value = services.secret_regenerate(key=result.key, actor=owner)

    assert new_value != result.consumer_secret
    assert token_at_endpoint(client, result.key.consumer_key, result.consumer_secret).status_code == 401
    assert token_at_endpoint(client, result.key.consumer_key, new_value).status_code == 200
    secret = ConsumerSecret.objects.get(key=result.key)
    assert secret.secret_hash == crypto.keyed_hash(new_value)
    assert crypto.decrypt(secret.value_encrypted) == new_value


def test_regenerating_is_refused_in_multiple_secret_mode(application, resident, owner):
    key = generate(application, resident, owner).key
    with pytest.raises(KeysError, match="create a new secret"):
        services.secret_regenerate(key=key, actor=owner)


def test_generate_token_with_scopes_validity_and_the_stored_secret(
    application, single_secret_resident, owner
):
    key = generate(application, single_secret_resident, owner).key
    key = ApplicationKey.objects.prefetch_related("secrets").select_related("key_manager").get(pk=key.pk)

    result = tokens.token_generate(key=key, scopes=["default"], validity_period=300, actor=owner)

    assert result.scopes == ["default"]
    assert result.expires_in == 300


def test_generate_token_that_never_expires(application, resident, owner):
    generated = generate(application, resident, owner)
    result = tokens.token_generate(
        key=generated.key, consumer_secret=generated.consumer_secret, validity_period=-1, actor=owner
    )
    assert result.expires_in is None


def test_generate_token_can_revoke_earlier_tokens(client, application, resident, owner):
    generated = generate(application, resident, owner)
    first = generated.token.access_token
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200

    second = tokens.token_generate(
        key=generated.key, consumer_secret=generated.consumer_secret, revoke_previous=True, actor=owner
    ).access_token

    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.get("/sample/hello", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200


def test_generate_token_needs_a_valid_secret_in_multiple_secret_mode(application, resident, owner):
    key = generate(application, resident, owner).key
    with pytest.raises(ValidationError) as missing:
        tokens.token_generate(key=key, actor=owner)
    with pytest.raises(ValidationError) as wrong:
        tokens.token_generate(key=key, consumer_secret="dps_wrong", actor=owner)
    assert "Enter one of this key's consumer secrets" in missing.value.message_dict["consumer_secret"][0]
    assert "not a valid consumer secret" in wrong.value.message_dict["consumer_secret"][0]


def test_an_expired_secret_cannot_generate_tokens(application, resident, owner, time_machine):
    generated = generate(application, resident, owner, secret_expires_at=timezone.now() + timedelta(days=1))
    time_machine.move_to(timezone.now() + timedelta(days=2))
    with pytest.raises(ValidationError, match="expired"):
        tokens.token_generate(key=generated.key, consumer_secret=generated.consumer_secret, actor=owner)


def test_generate_token_refuses_unknown_scopes_with_the_key_managers_message(application, resident, owner):
    generated = generate(application, resident, owner)
    with pytest.raises(KeyManagerError, match="invalid_scope"):
        tokens.token_generate(
            key=generated.key, consumer_secret=generated.consumer_secret, scopes=["nope"], actor=owner
        )


def test_generate_token_needs_client_credentials_on_the_key(application, resident, owner):
    key = generate(
        application,
        resident,
        owner,
        config={"grant_types": ["authorization_code"], "callback_url": "https://a.example/cb"},
    ).key
    with pytest.raises(KeysError, match="Client Credentials grant type is not enabled"):
        tokens.token_generate(key=key, consumer_secret="whatever", actor=owner)


def test_map_keys_is_refused_where_the_key_manager_does_not_allow_it(application, resident, owner):
    with pytest.raises(KeysError, match="does not allow providing existing OAuth keys"):
        services.keys_map(
            application=application,
            key_type="PRODUCTION",
            key_manager=resident,
            consumer_key="abc",
            consumer_secret="def",
            actor=owner,
        )
    assert not ApplicationKey.objects.exists()


def test_clean_up_refuses_complete_keys(application, resident, owner):
    key = generate(application, resident, owner).key
    with pytest.raises(KeysError, match="nothing to clean up"):
        services.keys_clean_up(key=key, actor=owner)
    assert ApplicationKey.objects.filter(pk=key.pk).exists()


def test_deleting_all_keys_of_an_application(application, resident, owner):
    generate(application, resident, owner)
    generate(application, resident, owner, key_type="SANDBOX")

    services.keys_delete_all(application=application, actor=owner)

    assert not application.keys.exists()
    assert not OAuthClient.objects.exists()


def test_every_write_is_audited_without_secret_values(application, single_secret_resident, owner):
    generated = generate(application, single_secret_resident, owner)
    key = generated.key
    services.keys_update(
        key=key, config={"grant_types": ["client_credentials", "refresh_token"]}, actor=owner
    )
    new_secret = services.secret_regenerate(key=key, actor=owner)
    key = ApplicationKey.objects.prefetch_related("secrets").select_related("key_manager").get(pk=key.pk)
    token = tokens.token_generate(key=key, actor=owner)
    services.keys_delete(key=key, actor=owner)

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == [
        "keys.generate",
        "keys.update",
        "keys.secret_regenerate",
        "keys.token_generate",
        "keys.delete",
    ]
    assert all(e.actor == owner and e.application_id == application.pk for e in events)
    dumped = repr([(e.detail, e.action) for e in events])
    for value in (generated.consumer_secret, generated.token.access_token, new_secret, token.access_token):
        assert value not in dumped


def test_plain_pkce_without_pkce_is_refused_and_nothing_is_created(application, resident, owner):
    with pytest.raises(ValidationError) as refused:
        generate(application, resident, owner, config={**CC_CONFIG, "pkce_support_plain": True})

    assert refused.value.message_dict["pkce_support_plain"] == [
        "Plain text PKCE needs Enable PKCE: tick Enable PKCE or untick this."
    ]
    assert not ApplicationKey.objects.exists() and not OAuthClient.objects.exists()


def test_plain_pkce_with_pkce_is_kept(application, resident, owner):
    key = generate(
        application, resident, owner, config={**CC_CONFIG, "pkce_mandatory": True, "pkce_support_plain": True}
    ).key

    assert key.pkce_support_plain and OAuthClient.objects.get(client_id=key.consumer_key).pkce_plain_allowed
