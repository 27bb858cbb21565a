"""Personal API tokens: the page that makes and revokes them, and Bearer authentication with them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import crypto
from portal.applications import services
from portal.models import ApiToken, AuditEvent
from tests.portal.conftest import API

pytestmark = pytest.mark.django_db

APPS = f"{API}/applications"


def bearer(value: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {value}")


# -- the page -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(anonymous_client):
    response = anonymous_client.get("/api-tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_offers_lifetimes_up_to_the_maximum_and_never_never(owner_client, settings):
    settings.PORTAL_API_TOKEN_MAX_DAYS = 90
    response = owner_client.get("/api-tokens/")
    assert response.status_code == 200
    options = re.findall(r'<option value="(\d+)"', response.text)
    assert options == ["7", "30", "90"]
    assert "Never" not in re.search(r'<select name="days".*?</select>', response.text, re.S).group(0)


def test_creating_a_token_shows_it_once_with_a_copy_button(owner_client, owner):
    response = owner_client.post("/api-tokens/", {"name": "CI deploy", "days": "30"})
    assert response.status_code == 200
    value = re.search(
        r'<pre class="code" id="new-api-token">(dpt_[A-Za-z0-9_-]+)</pre>', response.text
    ).group(1)
    assert "Copy it now, it will not be shown again." in response.text
    assert 'data-copy-target="#new-api-token"' in response.text
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=owner)
    assert token.name == "CI deploy"
    assert token.prefix == value[:12]
    assert token.token_hash == crypto.keyed_hash(value)
    assert value not in (token.token_hash, token.prefix)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    # Shown once: the next visit lists the token by its prefix only.
    again = owner_client.get("/api-tokens/")
    assert value not in again.text
    assert f"{token.prefix}…" in again.text


def test_the_token_value_is_never_stored_or_audited(owner_client, owner):
    response = owner_client.post("/api-tokens/", {"name": "CI", "days": "7"})
    value = re.search(r"(dpt_[A-Za-z0-9_-]{20,})", response.text).group(1)
    row = ApiToken.objects.values().get(user=owner)
    assert all(value not in str(field) for field in row.values())
    event = AuditEvent.objects.get(action="api_token.create")
    assert value not in str(event.detail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "days": "30"}, "This field is required."),
        ({"name": "CI", "days": "3650"}, "Select a valid choice."),
        ({"name": "CI", "days": ""}, "This field is required."),
        ({"name": "x" * 101, "days": "30"}, "Ensure this value has at most 100 characters"),
    ],
)
def test_bad_input_is_a_form_error_and_creates_nothing(owner_client, data, message):
    response = owner_client.post("/api-tokens/", data)
    assert response.status_code == 200
    assert message in response.text
    assert "dpt_" not in response.text
    assert not ApiToken.objects.exists()


def test_a_lifetime_above_the_maximum_is_refused(owner_client, settings):
    settings.PORTAL_API_TOKEN_MAX_DAYS = 30
    response = owner_client.post("/api-tokens/", {"name": "CI", "days": "90"})
    assert "Select a valid choice." in response.text
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_my_tokens(owner_client, owner, other_developer):
    services.api_token_create(user=owner, name="mine", days=30)
    services.api_token_create(user=other_developer, name="theirs", days=30)
    response = owner_client.get("/api-tokens/")
    assert "mine" in response.text
    assert "theirs" not in response.text


def test_revoking_a_token_deletes_it_and_the_api_refuses_it(owner_client, owner_token):
    token, value = owner_token
    response = owner_client.post(f"/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/api-tokens/"
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert AuditEvent.objects.filter(action="api_token.revoke").exists()
    assert bearer(value).get(APPS).status_code == 401


def test_revoking_is_post_only(owner_client, owner_token):
    token, _ = owner_token
    assert owner_client.get(f"/api-tokens/{token.pk}/revoke/").status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_revoking_needs_the_csrf_token(csrf_owner_client, owner_token):
    token, _ = owner_token
    assert csrf_owner_client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_another_developer_cannot_revoke_my_token(other_client, owner_token):
    token, _ = owner_token
    assert other_client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_creating_a_token_needs_the_csrf_token(csrf_owner_client):
    assert csrf_owner_client.post("/api-tokens/", {"name": "CI", "days": "30"}).status_code == 403
    assert not ApiToken.objects.exists()


# -- authentication -------------------------------------------------------------------------------


def test_a_token_authenticates_api_calls_as_its_user(token_client, application):
    response = token_client.get(APPS)
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["list"]] == ["Weather App"]


def test_token_writes_need_no_csrf_token(token_client, owner):
    # enforce_csrf_checks is on in token_client: CSRF protects cookies, not bearer tokens.
    response = token_client.post(APPS, '{"name": "From CI"}', content_type="application/json")
    assert response.status_code == 201
    assert response.json()["owner"] == owner.username


def test_a_token_sees_only_its_users_applications(other_developer, application):
    _, value = services.api_token_create(user=other_developer, name="theirs", days=30)
    assert bearer(value).get(f"{APPS}/{application.pk}").status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        "Bearer dpt_wrongwrongwrongwrongwrongwrongwrong",
        "Bearer dpt_short",
        "Bearer dpt_",
    ],
)
def test_an_unknown_token_is_a_401(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get(APPS)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Unauthorized", "description": "Invalid API token."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_token_with_a_changed_tail_is_a_401(owner_token):
    token, value = owner_token
    forged = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert forged[:12] == token.prefix
    assert bearer(forged).get(APPS).status_code == 401


def test_an_expired_token_is_a_401_that_says_so(owner_token):
    _, value = owner_token
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = bearer(value).get(APPS)
    assert response.status_code == 401
    assert "expired" in response.json()["description"]


def test_a_token_of_an_inactive_user_is_a_401(owner, owner_token):
    owner.is_active = False
    owner.save()
    assert bearer(owner_token[1]).get(APPS).status_code == 401


def test_other_bearer_tokens_are_left_to_other_schemes(db):
    # Not ours (no dpt_ prefix): this class abstains, and the API clients' OAuth scheme (issue 12)
    # finds no such token.
    response = Client(HTTP_AUTHORIZATION="Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig").get(APPS)
    assert response.status_code == 401
    assert response.json()["description"] == "Invalid access token: unknown or revoked."


def test_a_bearer_header_with_spaces_in_the_token_is_a_401(owner_token):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {owner_token[1]} extra").get(APPS)
    assert response.status_code == 401
    assert "must not contain spaces" in response.json()["description"]


def test_last_used_is_recorded_at_most_once_a_minute(owner_token):
    token, value = owner_token
    client = bearer(value)
    client.get(APPS)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    with time_machine.travel(first_use + timedelta(seconds=30)):
        client.get(APPS)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    with time_machine.travel(first_use + timedelta(seconds=90)):
        client.get(APPS)
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_a_recently_used_token_costs_no_write(owner_token, application):
    token, value = owner_token
    client = bearer(value)
    client.get(APPS)  # records last use
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(APPS).status_code == 200
    assert not [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_the_list_page_shows_when_a_token_was_last_used(owner_client, owner_token):
    token, value = owner_token
    bearer(value).get(APPS)
    response = owner_client.get("/api-tokens/")
    assert "ago" in response.text


def test_the_page_runs_the_same_number_of_queries_for_one_and_twenty_tokens(owner_client, owner):
    services.api_token_create(user=owner, name="first", days=30)
    with CaptureQueriesContext(connection) as one:
        owner_client.get("/api-tokens/")
    for i in range(19):
        services.api_token_create(user=owner, name=f"token {i}", days=30)
    with CaptureQueriesContext(connection) as twenty:
        response = owner_client.get("/api-tokens/")
    assert response.text.count("<tr>") == 21  # header + 20 rows
    assert len(twenty.captured_queries) == len(one.captured_queries)


def test_the_page_links_to_the_api_documentation(owner_client):
    response = owner_client.get("/api-tokens/")
    assert f'href="{API}/docs/"' in response.text
    assert f'href="{API}/openapi.json"' in response.text


def test_the_revoke_dialog_puts_a_focused_cancel_before_revoke(owner_client, owner_token):
    text = owner_client.get("/api-tokens/").text
    dialog = text[text.index(f'<dialog id="revoke-{owner_token[0].pk}">') :]
    dialog = dialog[: dialog.index("</dialog>")]
    assert '<button type="button" class="btn" data-dialog-close autofocus>Cancel</button>' in dialog
    assert dialog.index(">Cancel<") < dialog.index(">Revoke<")


def test_the_tokens_table_scrolls_inside_its_card_and_labels_have_no_colon(owner_client, owner_token):
    text = owner_client.get("/api-tokens/").text
    assert re.search(r'<div class="table-wrap">\s*<table class="table">', text)
    assert '<label for="id_name">Name</label>' in text
    assert '<label for="id_days">Expires in</label>' in text
