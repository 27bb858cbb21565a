"""The authorization endpoint as browsers meet it: prompt, max_age, iss on every answer, the
consent page's content, and the form-action policy that lets its forms reach the callback."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import Grant

from keymanagers.models import OAuthClient
from keymanagers.resident.signin import AUTH_TIME_SESSION_KEY
from keys.services import keys_generate
from portal.applications.services import application_update
from portal.models import Application
from tests.conftest import PASSWORD
from tests.resident.conftest import CALLBACK, pkce_pair
from tests.resident.test_authorization_code import code_tokens

pytestmark = pytest.mark.django_db


def auth_params(client_id, **extra):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "default",
        "state": "st-1",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


def callback_query(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(CALLBACK), location
    return parse_qs(urlparse(location).query)


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("form-action")).strip()


def signed_in(user, *, seconds_ago: int = 0) -> Client:
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[AUTH_TIME_SESSION_KEY] = int(time.time()) - seconds_ago
    session.save()
    return browser


# -- prompt=none -------------------------------------------------------------------------------


def test_prompt_none_for_a_signed_in_user_who_consented_gives_a_code(owner, make_client, client, settings):
    _, registered = make_client()
    browser = signed_in(owner)
    code_tokens(client, browser, registered)  # approved once, and a live token remembers it
    query = callback_query(
        browser.get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="none"))
    )
    assert query["code"] and query["state"] == ["st-1"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]


def test_prompt_none_without_consent_is_consent_required_with_state_and_iss(owner, make_client, settings):
    _, registered = make_client()
    answer = signed_in(owner).get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="none"))
    query = callback_query(answer)
    assert query["error"] == ["consent_required"]
    assert query["state"] == ["st-1"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]
    assert not Grant.objects.exists()


def test_prompt_none_with_openid_scope_does_not_crash(owner, make_client, settings):
    _, registered = make_client()
    params = auth_params(registered.ref.client_id, prompt="none", scope="openid", nonce="n1")
    query = callback_query(signed_in(owner).get("/oauth2/authorize", params))
    assert query["error"] == ["consent_required"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]


def test_prompt_none_when_not_signed_in_is_login_required_with_state_and_iss(
    anonymous_client, make_client, settings
):
    _, registered = make_client()
    answer = anonymous_client.get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="none"))
    query = callback_query(answer)
    assert query["error"] == ["login_required"]
    assert query["state"] == ["st-1"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]


def test_prompt_none_never_redirects_to_an_unregistered_callback(anonymous_client, make_client):
    _, registered = make_client()
    params = auth_params(registered.ref.client_id, prompt="none", redirect_uri="https://evil.example/cb")
    answer = anonymous_client.get("/oauth2/authorize", params)
    assert answer.status_code == 400
    assert "evil.example" not in answer.get("Location", "")


def test_prompt_none_combined_with_another_value_is_invalid_request(owner, make_client):
    _, registered = make_client()
    answer = signed_in(owner).get(
        "/oauth2/authorize", auth_params(registered.ref.client_id, prompt="none consent")
    )
    query = callback_query(answer)
    assert query["error"] == ["invalid_request"]
    assert "prompt=none" in query["error_description"][0]


# -- prompt=login, prompt=consent, max_age, select_account ---------------------------------------


def test_prompt_login_sends_a_signed_in_user_to_sign_in_again(owner, make_client):
    _, registered = make_client()
    answer = signed_in(owner).get(
        "/oauth2/authorize", auth_params(registered.ref.client_id, prompt="login consent")
    )
    assert answer.status_code == 302
    location = urlparse(answer["Location"])
    assert location.path == "/oauth2/sign-in"
    next_url = urlparse(parse_qs(location.query)["next"][0])
    continued = parse_qs(next_url.query)
    assert next_url.path == "/oauth2/authorize"
    assert continued["prompt"] == ["consent"]  # login is satisfied by signing in; consent stays
    assert continued["state"] == ["st-1"]


def test_sign_in_page_signs_in_even_a_signed_in_user_and_continues(owner, make_client):
    _, registered = make_client()
    browser = signed_in(owner, seconds_ago=3600)
    answer = browser.get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="login"))
    page = browser.get(answer["Location"])
    assert page.status_code == 200
    assert b"Sign in" in page.content and b"Weather app" in page.content
    next_url = parse_qs(urlparse(answer["Location"]).query)["next"][0]
    signed = browser.post(
        "/oauth2/sign-in", {"username": owner.username, "password": PASSWORD, "next": next_url}
    )
    assert signed.status_code == 302 and signed["Location"] == next_url
    assert abs(browser.session[AUTH_TIME_SESSION_KEY] - time.time()) < 5
    assert browser.get(next_url).status_code == 200  # the consent page, no second sign-in


def test_a_wrong_password_on_the_sign_in_page_is_refused(owner, make_client, anonymous_client):
    _, registered = make_client()
    answer = anonymous_client.get("/oauth2/authorize", auth_params(registered.ref.client_id))
    next_url = parse_qs(urlparse(answer["Location"]).query)["next"][0]
    page = anonymous_client.post(
        "/oauth2/sign-in", {"username": owner.username, "password": "wrong", "next": next_url}
    )
    assert page.status_code == 200
    assert "_auth_user_id" not in anonymous_client.session


def test_prompt_consent_shows_the_page_to_a_user_who_approved_before(owner, make_client, client):
    _, registered = make_client()
    browser = signed_in(owner)
    code_tokens(client, browser, registered)
    remembered = browser.get("/oauth2/authorize", auth_params(registered.ref.client_id))
    assert remembered.status_code == 302  # remembered consent: straight back
    page = browser.get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="consent"))
    assert page.status_code == 200
    assert b"Authorize Weather app?" in page.content


def test_max_age_older_than_the_sign_in_asks_to_sign_in_again(owner, make_client):
    _, registered = make_client()
    browser = signed_in(owner, seconds_ago=600)
    answer = browser.get("/oauth2/authorize", auth_params(registered.ref.client_id, max_age="300"))
    assert urlparse(answer["Location"]).path == "/oauth2/sign-in"
    assert "max_age" not in parse_qs(urlparse(answer["Location"]).query)["next"][0]
    fresh = signed_in(owner, seconds_ago=10)
    assert (
        fresh.get("/oauth2/authorize", auth_params(registered.ref.client_id, max_age="300")).status_code
        == 200
    )


def test_max_age_with_prompt_none_is_login_required(owner, make_client):
    _, registered = make_client()
    browser = signed_in(owner, seconds_ago=600)
    answer = browser.get(
        "/oauth2/authorize", auth_params(registered.ref.client_id, max_age="60", prompt="none")
    )
    assert callback_query(answer)["error"] == ["login_required"]


@pytest.mark.parametrize("max_age", ["soon", "-5", "1.5", "²"])
def test_a_malformed_max_age_is_invalid_request(owner, make_client, max_age):
    _, registered = make_client()
    answer = signed_in(owner).get("/oauth2/authorize", auth_params(registered.ref.client_id, max_age=max_age))
    query = callback_query(answer)
    assert query["error"] == ["invalid_request"]
    assert "max_age" in query["error_description"][0]


@pytest.mark.parametrize("browser_kind", ["signed in", "anonymous"])
def test_prompt_select_account_is_refused_clearly(owner, make_client, settings, browser_kind):
    _, registered = make_client()
    browser = signed_in(owner) if browser_kind == "signed in" else Client()
    answer = browser.get("/oauth2/authorize", auth_params(registered.ref.client_id, prompt="select_account"))
    query = callback_query(answer)
    assert query["error"] == ["invalid_request"]
    assert "select_account is not supported" in query["error_description"][0]
    assert query["iss"] == [settings.RESIDENT_ISSUER] and query["state"] == ["st-1"]


# -- iss on error responses ----------------------------------------------------------------------


def test_cancel_is_access_denied_with_state_and_iss(owner_client, make_client, settings):
    _, registered = make_client()
    page = owner_client.get("/oauth2/authorize", auth_params(registered.ref.client_id))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    query = callback_query(owner_client.post("/oauth2/authorize", data))  # Cancel: no "allow"
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-1"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]
    assert not Grant.objects.exists()


def test_error_redirects_carry_iss(owner_client, make_client, settings):
    _, registered = make_client(grant_types=["client_credentials"], callback_url=CALLBACK)
    query = callback_query(owner_client.get("/oauth2/authorize", auth_params(registered.ref.client_id)))
    assert query["error"] == ["unauthorized_client"]
    assert query["iss"] == [settings.RESIDENT_ISSUER]


# -- the consent page ----------------------------------------------------------------------------


def test_consent_page_names_the_application_its_developer_scopes_and_callback_host(owner, make_client):
    owner.first_name, owner.last_name = "Alice", "Liddell"
    owner.save()
    _, registered = make_client(name="alice_Pizza Tracker_PRODUCTION", application_name="Pizza Tracker")
    page = signed_in(owner).get("/oauth2/authorize", auth_params(registered.ref.client_id, scope="default"))
    html = page.content.decode()
    assert "Authorize Pizza Tracker?" in html
    assert "alice_Pizza Tracker_PRODUCTION" not in html
    assert "Alice Liddell" in html
    assert '<span class="badge">default</span>' in html
    assert "client.example.com" in html
    assert html.count('class="btn"') >= 2  # Cancel and Authorize look alike


def test_consent_page_lets_its_form_reach_exactly_the_callback_origin(owner_client, make_client):
    _, registered = make_client(callback_url="https://app.example.org:8443/cb")
    page = owner_client.get(
        "/oauth2/authorize",
        auth_params(registered.ref.client_id, redirect_uri="https://app.example.org:8443/cb"),
    )
    assert page.status_code == 200
    assert form_action(page) == "form-action 'self' https://app.example.org:8443"


def test_other_pages_keep_form_action_self(owner_client):
    assert form_action(owner_client.get("/applications/")) == "form-action 'self'"


def test_sign_in_page_adds_the_callback_origin_only_for_a_valid_authorization_request(
    anonymous_client, make_client
):
    _, registered = make_client(callback_url="https://app.example.org/cb")
    client_id = registered.ref.client_id
    valid = anonymous_client.get(
        "/oauth2/authorize", auth_params(client_id, redirect_uri="https://app.example.org/cb")
    )
    page = anonymous_client.get(valid["Location"])
    assert form_action(page) == "form-action 'self' https://app.example.org"

    forged = "/oauth2/authorize?" + "&".join(
        f"{k}={v}" for k, v in {"client_id": client_id, "redirect_uri": "https://evil.example/cb"}.items()
    )
    page = anonymous_client.get("/oauth2/sign-in", {"next": forged})
    assert form_action(page) == "form-action 'self'"
    page = anonymous_client.get("/oauth2/sign-in", {"next": "https://evil.example/oauth2/authorize"})
    assert form_action(page) == "form-action 'self'"


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_lists_none_for_revocation_and_the_prompt_values(client):
    document = client.get("/.well-known/openid-configuration").json()
    assert "none" in document["revocation_endpoint_auth_methods_supported"]
    assert document["prompt_values_supported"] == ["none", "login", "consent"]


def test_consent_page_names_the_application_as_it_is_now_after_a_rename(owner, resident):
    # Keys made through the keys service; the client stores no application name (as clients made
    # before it was stored), and the developer renames the application afterwards.
    application = Application.objects.create(owner=owner, name="Pizza Tracker")
    generated = keys_generate(
        application=application,
        key_type="PRODUCTION",
        key_manager=resident,
        config={"grant_types": ["authorization_code"], "callback_url": CALLBACK},
        actor=owner,
    )
    client_id = generated.key.consumer_key
    OAuthClient.objects.filter(client_id=client_id).update(application_name="")
    application_update(
        application=application, actor=owner, name="Pizza Radar", token_type=application.token_type
    )

    page = signed_in(owner).get("/oauth2/authorize", auth_params(client_id, scope="default"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Authorize Pizza Radar?" in html
    assert "Pizza Tracker" not in html
    assert "alice_" not in html
