"""The keys pages: Production / Sandbox tabs, one tab per key manager, every form and its errors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from keymanagers.models import KeyManager, OAuthClient
from keys import services
from keys.models import ApplicationKey, ConsumerSecret, Scope
from portal import crypto
from tests.keys.helpers import CC_CONFIG, key_url, keys_url, token_at_endpoint

FORM = {
    "grant_types": ["client_credentials"],
    "application_access_token_expiry_time": "3600",
    "user_access_token_expiry_time": "3600",
    "refresh_token_expiry_time": "86400",
    "id_token_expiry_time": "3600",
    "secret_description": "laptop",
    "secret_expiry": "90",
}


def generate_url(application, env="production", km="Resident"):
    return reverse("keys_generate", kwargs={"application_id": application.pk, "env": env, "km": km})


def update_form(**changes):
    data = {f"update-{k}": v for k, v in FORM.items() if not k.startswith("secret_")}
    data.update({f"update-{k}": v for k, v in changes.items()})
    return data


def make_key(application, km, owner, key_type="PRODUCTION", **kwargs):
    return services.keys_generate(
        application=application, key_type=key_type, key_manager=km, config=CC_CONFIG, actor=owner, **kwargs
    )


def text(response) -> str:
    return response.content.decode()


# -- the page ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "label"), [("production", "Production Keys"), ("sandbox", "Sandbox Keys")])
def test_the_keys_page_offers_key_configurations_per_environment(
    owner_client, application, resident, env, label
):
    response = owner_client.get(keys_url(application, env))

    assert response.status_code == 200
    page = text(response)
    assert label in page
    assert "Key Configurations" in page
    assert "Generate Keys" in page
    assert 'name="grant_types" value="client_credentials"' in page
    assert 'name="grant_types" value="password"' not in page  # not offered by the Resident key manager
    assert "Enable PKCE" in page and "Support PKCE Plain Text" in page
    assert "Allow authentication without the client secret" in page
    assert "Provide Existing OAuth Keys" not in page  # Resident does not map existing clients
    assert response["Cache-Control"].startswith("max-age=0")


def test_key_managers_are_tabs_in_their_order_and_only_enabled_ones(owner_client, application, resident):
    KeyManager.objects.create(name="okta-corp", display_name="Okta Corp", type="okta", order=20)
    KeyManager.objects.create(
        name="old-kc", display_name="Old Keycloak", type="keycloak", order=10, enabled=False
    )

    page = text(owner_client.get(keys_url(application)))

    assert page.index("Resident Key Manager") < page.index("Okta Corp")
    assert "Old Keycloak" not in page
    assert owner_client.get(keys_url(application, km="okta-corp")).status_code == 200
    assert owner_client.get(keys_url(application, km="old-kc")).status_code == 404


def test_unknown_environment_or_key_manager_is_a_404(owner_client, application, resident):
    assert owner_client.get(f"/applications/{application.pk}/keys/staging/").status_code == 404
    assert owner_client.get(keys_url(application, km="nope")).status_code == 404
    assert owner_client.post(generate_url(application, km="nope"), FORM).status_code == 404


def test_no_enabled_key_manager_says_so(owner_client, application, resident):
    KeyManager.objects.update(enabled=False)
    response = owner_client.get(keys_url(application))
    assert response.status_code == 200
    assert "No key manager is enabled" in text(response)


def test_map_form_appears_where_the_key_manager_allows_it(owner_client, application, fake_km):
    page = text(owner_client.get(keys_url(application, km="fake")))
    assert "Provide Existing OAuth Keys" in page

    response = owner_client.post(
        reverse("keys_map", kwargs={"application_id": application.pk, "env": "sandbox", "km": "fake"}),
        {"map-consumer_key": "existing-client", "map-consumer_secret": "right-secret"},
    )
    assert response.status_code == 302
    key = ApplicationKey.objects.get()
    assert (key.mode, key.key_type, key.consumer_key) == ("MAPPED", "SANDBOX", "existing-client")


def test_map_form_errors(owner_client, application, fake_km):
    url = reverse("keys_map", kwargs={"application_id": application.pk, "env": "sandbox", "km": "fake"})
    empty = owner_client.post(url, {"map-consumer_key": "", "map-consumer_secret": ""})
    wrong = owner_client.post(url, {"map-consumer_key": "c", "map-consumer_secret": "wrong"})

    assert empty.status_code == 400
    assert text(empty).count("This field is required.") == 2
    assert wrong.status_code == 502
    assert "Fake KM: map existing client failed: invalid_client" in text(wrong)
    assert not ApplicationKey.objects.exists()


def test_map_is_refused_on_the_resident_key_manager(owner_client, application, resident):
    url = reverse("keys_map", kwargs={"application_id": application.pk, "env": "sandbox", "km": "Resident"})
    response = owner_client.post(url, {"map-consumer_key": "c", "map-consumer_secret": "s"})
    assert response.status_code == 400
    assert "does not allow providing existing OAuth keys" in text(response)
    assert not ApplicationKey.objects.exists()


# -- generate ------------------------------------------------------------------------------------


def test_generate_keys_shows_the_secret_and_token_once(owner_client, client, application, resident):
    response = owner_client.post(generate_url(application), FORM)

    assert response.status_code == 200
    page = text(response)
    key = ApplicationKey.objects.get()
    assert "Copy it now, it will not be shown again" in page
    secret = re.search(r'<code id="generated-secret">([^<]+)</code>', page).group(1)
    token = re.search(r'<code id="generated-token">([^<]+)</code>', page).group(1)
    assert 'data-copy-target="#generated-secret"' in page and 'data-copy-target="#generated-token"' in page
    assert ConsumerSecret.objects.get(key=key).secret_hash == crypto.keyed_hash(secret)
    assert token_at_endpoint(client, key.consumer_key, secret).status_code == 200
    assert key.consumer_key in page

    later = text(owner_client.get(keys_url(application)))
    assert secret not in later and token not in later
    assert "Consumer Key" in later and key.consumer_key in later


def test_generate_keys_first_secret_description_and_expiry(owner_client, application, resident):
    owner_client.post(
        generate_url(application), {**FORM, "secret_expiry": "custom", "secret_expiry_days": "7"}
    )
    secret = ConsumerSecret.objects.get()
    assert secret.description == "laptop"
    assert timedelta(days=6, hours=23) < secret.expires_at - timezone.now() <= timedelta(days=7)


def test_generate_keys_with_a_secret_that_never_expires(owner_client, application, resident):
    owner_client.post(generate_url(application), {**FORM, "secret_expiry": "never"})
    assert ConsumerSecret.objects.get().expires_at is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"grant_types": []}, "Select at least one grant type."),
        ({"grant_types": ["authorization_code"]}, "A callback URL is required for the Code grant type."),
        (
            {"grant_types": ["authorization_code"], "callback_url": "not a url"},
            "“not” is not an absolute http:// or https:// URL.",
        ),
        (
            {"grant_types": ["password"]},
            "Select a valid choice. password is not one of the available choices.",
        ),
        ({"application_access_token_expiry_time": "soon"}, "Enter a whole number."),
        ({"user_access_token_expiry_time": "0"}, "other than 0"),
        ({"refresh_token_expiry_time": ""}, "This field is required."),
        ({"bypass_client_credentials": "on"}, "A public client has no secret"),
        ({"secret_expiry": "custom"}, "Enter the number of days (1 to 3650) for a custom expiry."),
        ({"secret_expiry": "custom", "secret_expiry_days": "9999"}, "less than or equal to 3650"),
        ({"secret_expiry": "forever"}, "Select a valid choice."),
        ({"secret_description": "x" * 1025}, "at most 1024 characters"),
    ],
)
def test_generate_form_errors_are_shown_and_nothing_is_made(
    owner_client, application, resident, changes, message
):
    response = owner_client.post(generate_url(application), {**FORM, **changes})

    assert response.status_code == 400
    assert message in text(response).replace("&#x27;", "'")
    assert 'class="errorlist' in text(response)
    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.exists()


def test_generating_twice_says_keys_already_exist(owner_client, application, resident, owner):
    make_key(application, resident, owner)
    response = owner_client.post(generate_url(application), FORM)
    assert response.status_code == 409
    assert "Keys already exist" in text(response)
    assert OAuthClient.objects.count() == 1


def test_the_callback_field_is_wired_to_the_redirect_grant_types(owner_client, application, resident):
    page = text(owner_client.get(keys_url(application)))
    assert 'data-redirect-grants="authorization_code"' in page
    assert "data-callback-url" in page
    assert "js/keys.js" in page


# -- a key exists ---------------------------------------------------------------------------------


def test_single_secret_mode_shows_a_masked_secret_with_show_copy_and_regenerate(
    owner_client, application, single_secret_resident, owner
):
    generated = make_key(application, single_secret_resident, owner)

    page = text(owner_client.get(keys_url(application)))

    assert (
        f'<code id="consumer-secret" class="secret-value" hidden>{generated.consumer_secret}</code>' in page
    )
    assert 'id="consumer-secret-masked"' in page and "••••" in page
    assert 'data-toggle-reveal="#consumer-secret"' in page
    assert 'data-copy-target="#consumer-secret"' in page
    assert "Regenerate Consumer Secret" in page


def test_multiple_secret_mode_never_shows_a_secret_value(owner_client, application, resident, owner):
    generated = make_key(application, resident, owner, secret_description="ci")
    page = text(owner_client.get(keys_url(application)))
    assert generated.consumer_secret not in page
    assert "Regenerate Consumer Secret" not in page
    assert "Consumer Secrets" in page
    if "secrets-panel" in page:  # the secrets area's table (another part of the portal) is installed
        assert "ci" in page and "••••••••" in page


def test_the_page_shows_endpoints_actions_and_the_curl_command(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    page = text(owner_client.get(keys_url(application)))

    for name in ("authorize", "token", "revoke", "userinfo", "discovery"):
        assert f'id="endpoint-{name}" value="http' in page
        assert f'data-copy-target="#endpoint-{name}"' in page
    assert f'value="{settings.SITE_URL}/.well-known/openid-configuration"' in page
    # The consent page names the application, not the client's internal name.
    assert OAuthClient.objects.get(client_id=key.consumer_key).application_name == application.name
    assert "Generate Access Token" in page
    assert 'id="curl-dialog"' in page
    curl = re.search(r'<pre id="curl-command">([^<]+)</pre>', page).group(1)
    assert f"curl -X POST {settings.SITE_URL}/oauth2/token" in curl
    # Runs as pasted once CONSUMER_SECRET is set (issue 13: a <CONSUMER_SECRET> placeholder got
    # invalid_client); the variable is set first with `read -s`, never typed into the history.
    assert f"-u &quot;{key.consumer_key}:$CONSUMER_SECRET&quot; \\" in curl
    assert (
        '<pre id="curl-secret-command">read -rs CONSUMER_SECRET &amp;&amp; export CONSUMER_SECRET</pre>'
        in page
    )
    assert "grant_type=client_credentials" in curl
    assert key_url("keys_remove", key) in page


def test_update_changes_the_configuration(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    response = owner_client.post(
        key_url("keys_update", key),
        update_form(
            grant_types=["client_credentials", "authorization_code"], callback_url="https://a.example/cb"
        ),
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials", "authorization_code"]
    assert key.callback_url == "https://a.example/cb"
    assert "Keys updated." in text(owner_client.get(response["Location"]))


def test_update_form_is_prefilled_and_shows_errors(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    page = text(owner_client.get(keys_url(application)))
    assert 'name="update-grant_types" value="client_credentials" id="id_update-grant_types_0" checked' in page

    response = owner_client.post(key_url("keys_update", key), update_form(grant_types=["authorization_code"]))
    assert response.status_code == 400
    assert "A callback URL is required" in text(response)
    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials"]


def test_remove_keys_asks_first_then_removes_the_client(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key

    confirm = owner_client.get(key_url("keys_remove", key))
    assert confirm.status_code == 200
    assert "Are you sure" in text(confirm)
    assert ApplicationKey.objects.exists()

    response = owner_client.post(key_url("keys_remove", key))
    assert response.status_code == 302
    assert not ApplicationKey.objects.exists()
    assert not OAuthClient.objects.filter(client_id=key.consumer_key).exists()


def test_regenerate_secret_asks_first_then_shows_the_new_secret_once(
    owner_client, client, application, single_secret_resident, owner
):
    generated = make_key(application, single_secret_resident, owner)
    url = key_url("keys_regenerate_secret", generated.key)

    assert "Are you sure" in text(owner_client.get(url))
    response = owner_client.post(url)

    assert response.status_code == 200
    new = re.search(r'<code id="new-secret">([^<]+)</code>', text(response)).group(1)
    # Single-secret mode can show the secret again (Show): the page must not claim otherwise (issue 13).
    assert "it will not be shown again" not in text(response)
    assert "stays available under Consumer Secret" in text(response)
    assert token_at_endpoint(client, generated.key.consumer_key, generated.consumer_secret).status_code == 401
    assert token_at_endpoint(client, generated.key.consumer_key, new).status_code == 200


def test_regenerate_is_refused_in_multiple_secret_mode(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    response = owner_client.post(key_url("keys_regenerate_secret", key))
    assert response.status_code == 400
    assert "create a new secret" in text(response)


def test_generate_access_token_with_the_stored_secret(
    owner_client, application, single_secret_resident, owner
):
    key = make_key(application, single_secret_resident, owner).key
    page = text(owner_client.get(keys_url(application)))
    assert 'name="token-consumer_secret"' not in page  # the portal can look it up

    response = owner_client.post(
        key_url("keys_token", key), {"token-scopes": ["default"], "token-validity_period": "600"}
    )
    assert response.status_code == 200
    page = text(response)
    assert re.search(r'<code id="new-token">[^<]+</code>', page)
    assert "600 seconds" in page
    assert '<code class="scope-key">default</code>' in page


def test_generate_access_token_asks_for_the_secret_in_multiple_secret_mode(
    owner_client, application, resident, owner
):
    generated = make_key(application, resident, owner)
    url = key_url("keys_token", generated.key)
    assert 'name="token-consumer_secret"' in text(owner_client.get(keys_url(application)))

    missing = owner_client.post(url, {"token-validity_period": "600"})
    wrong = owner_client.post(url, {"token-validity_period": "600", "token-consumer_secret": "dps_nope"})
    never = owner_client.post(
        url,
        {
            "token-validity_period": "-1",
            "token-consumer_secret": generated.consumer_secret,
            "token-revoke_previous": "on",
        },
    )

    assert missing.status_code == 400 and "Enter one of this key&#x27;s consumer secrets" in text(missing)
    assert "data-dialog-autoopen" in text(missing)
    assert wrong.status_code == 400 and "not a valid consumer secret" in text(wrong)
    assert never.status_code == 200 and "Never expires" in text(never)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"token-validity_period": "abc"}, "Enter a whole number."),
        ({"token-validity_period": "0"}, "other than 0"),
        ({"token-validity_period": "60", "token-scopes": ["root"]}, "Select a valid choice. root"),
    ],
)
def test_generate_access_token_form_errors(
    owner_client, application, single_secret_resident, owner, data, message
):
    key = make_key(application, single_secret_resident, owner).key
    response = owner_client.post(key_url("keys_token", key), data)
    assert response.status_code == 400
    assert message in text(response)


def test_unknown_scopes_from_the_key_manager_are_shown(
    owner_client, application, single_secret_resident, owner
):
    Scope.objects.create(name="weather:read")
    key = make_key(application, single_secret_resident, owner).key
    response = owner_client.post(
        key_url("keys_token", key), {"token-validity_period": "60", "token-scopes": ["weather:read"]}
    )
    # The scope exists in the catalogue: the Resident server grants it (the token carries it).
    assert response.status_code == 200
    assert "weather:read" in text(response)


# -- access control --------------------------------------------------------------------------------


def _all_urls(application, key):
    return [
        ("get", keys_url(application)),
        ("get", keys_url(application, "sandbox")),
        ("post", generate_url(application)),
        (
            "post",
            reverse(
                "keys_map", kwargs={"application_id": application.pk, "env": "production", "km": "Resident"}
            ),
        ),
        ("post", key_url("keys_update", key)),
        ("get", key_url("keys_remove", key)),
        ("post", key_url("keys_remove", key)),
        ("get", key_url("keys_regenerate_secret", key)),
        ("post", key_url("keys_regenerate_secret", key)),
        ("post", key_url("keys_token", key)),
        ("post", key_url("keys_clean_up", key)),
    ]


def test_another_developer_gets_404_everywhere_and_changes_nothing(
    other_client, application, resident, owner
):
    key = make_key(application, resident, owner).key
    for method, url in _all_urls(application, key):
        response = getattr(other_client, method)(url, FORM if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert ApplicationKey.objects.filter(pk=key.pk).exists()
    assert OAuthClient.objects.count() == 1


def test_a_key_is_not_reachable_through_the_other_environment(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    assert owner_client.get(key_url("keys_remove", key, env="sandbox")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(anonymous_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    for method, url in _all_urls(application, key):
        response = getattr(anonymous_client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login"))
    assert ApplicationKey.objects.filter(pk=key.pk).exists()


def test_state_changes_need_the_csrf_token(csrf_owner_client, application, resident, owner):
    key = make_key(application, resident, owner, key_type="SANDBOX").key
    assert csrf_owner_client.post(generate_url(application), FORM).status_code == 403
    assert csrf_owner_client.post(key_url("keys_remove", key)).status_code == 403
    assert not ApplicationKey.objects.filter(key_type="PRODUCTION").exists()
    assert ApplicationKey.objects.filter(pk=key.pk).exists()


def test_state_changes_are_posts_only(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    for url in (generate_url(application), key_url("keys_token", key), key_url("keys_update", key)):
        assert owner_client.put(url).status_code == 405
        assert owner_client.delete(url).status_code == 405
    assert ApplicationKey.objects.filter(pk=key.pk).exists()


# -- query counts ------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_keys_page_runs_a_constant_number_of_queries(owner_client, application, resident, owner):
    generated = make_key(application, resident, owner)
    make_key(application, resident, owner, key_type="SANDBOX")
    few = _queries(owner_client, keys_url(application))

    for i in range(15):
        ConsumerSecret.objects.create(
            key=generated.key, secret_hash=crypto.keyed_hash(f"v{i}"), description=f"s{i}"
        )
        Scope.objects.create(name=f"scope{i}")
        KeyManager.objects.create(name=f"km{i}", display_name=f"KM {i}", type="okta", order=100 + i)
    many = _queries(owner_client, keys_url(application))

    assert many == few


def test_the_single_secret_page_runs_a_constant_number_of_queries(
    owner_client, application, single_secret_resident, owner
):
    make_key(application, single_secret_resident, owner)
    few = _queries(owner_client, keys_url(application))
    for i in range(15):
        Scope.objects.create(name=f"scope{i}")
        KeyManager.objects.create(name=f"km{i}", display_name=f"KM {i}", type="okta", order=100 + i)
    assert _queries(owner_client, keys_url(application)) == few


def test_a_key_managers_own_settings_become_form_fields(owner_client, application, fake_km):
    from tests.keys.helpers import FakeAdapter

    FakeAdapter.application_configuration = lambda self: [
        {
            "name": "application_type",
            "label": "App type",
            "type": "select",
            "required": True,
            "default": "",
            "tooltip": "Pick one",
            "values": ["", "web", "service"],
        },
    ]
    try:
        page = text(owner_client.get(keys_url(application, km="fake")))
        assert 'name="ap_application_type"' in page and "App type" in page
        assert len(re.findall(r'<option value=""', page)) == 1

        url = generate_url(application, km="fake")
        missing = owner_client.post(url, FORM)
        assert missing.status_code == 400 and "App type is required." in text(missing)

        assert owner_client.post(url, {**FORM, "ap_application_type": "service"}).status_code == 200
        key = ApplicationKey.objects.get()
        assert key.additional_properties == {"application_type": "service"}
        assert FakeAdapter.clients[key.consumer_key]["config"].additional_properties == {
            "application_type": "service"
        }
    finally:
        del FakeAdapter.application_configuration


def test_a_secret_encrypted_under_another_key_is_treated_as_masked(
    owner_client, application, single_secret_resident, owner
):
    generated = make_key(application, single_secret_resident, owner)
    ConsumerSecret.objects.update(value_encrypted="gAAAA-not-ours")
    response = owner_client.get(keys_url(application))
    assert response.status_code == 200
    assert "The consumer secret cannot be shown" in text(response)
    assert 'name="token-consumer_secret"' in text(response)
    assert generated.consumer_secret not in text(response)
