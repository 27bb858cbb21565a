"""The applications pages: list, create, overview, edit, delete — for the owner, another developer and anonymous."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys.models import ApplicationKey, KeyType
from portal.models import Application, AuditEvent
from tests.portal.conftest import RecordingAdapter

pytestmark = pytest.mark.django_db


def detail_url(application) -> str:
    return f"/applications/{application.pk}/"


# -- home and access ----------------------------------------------------------------------------


def test_home_sends_a_signed_in_developer_to_their_applications(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/applications/"


def test_home_sends_anonymous_visitors_to_sign_in(anonymous_client):
    response = anonymous_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("suffix", ["", "edit/", "delete/"])
def test_anonymous_visitors_are_sent_to_sign_in_from_every_application_page(
    anonymous_client, application, suffix
):
    response = anonymous_client.get(detail_url(application) + suffix)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", ["/applications/", "/applications/new/"])
def test_anonymous_visitors_are_sent_to_sign_in_from_the_list_and_the_form(anonymous_client, path):
    response = anonymous_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("suffix", ["", "edit/", "delete/"])
def test_another_developers_application_is_a_404_on_every_page(other_client, application, suffix):
    assert other_client.get(detail_url(application) + suffix).status_code == 404


def test_another_developer_cannot_edit_or_delete_by_post(other_client, application):
    response = other_client.post(detail_url(application) + "edit/", {"name": "Hijacked", "token_type": "JWT"})
    assert response.status_code == 404
    response = other_client.post(detail_url(application) + "delete/")
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.name == "Weather App"


def test_an_unknown_application_id_is_a_404(owner_client):
    assert owner_client.get(f"/applications/{uuid.uuid4()}/").status_code == 404


# -- list -----------------------------------------------------------------------------------------


def test_the_list_shows_only_my_applications(owner_client, owner, other_developer, make_application):
    make_application(owner, "Weather App")
    make_application(other_developer, "Secret Project")
    response = owner_client.get("/applications/")
    assert response.status_code == 200
    assert "Weather App" in response.text
    assert "Secret Project" not in response.text


def test_an_empty_list_invites_to_create_the_first_application(owner_client):
    response = owner_client.get("/applications/")
    assert "You have no applications yet" in response.text
    assert 'href="/applications/new/"' in response.text


def test_searching_by_name_filters_the_list_without_case(owner_client, owner, make_application):
    make_application(owner, "Weather App")
    make_application(owner, "Payments")
    response = owner_client.get("/applications/", {"q": "weather"})
    assert "Weather App" in response.text
    assert "Payments" not in response.text
    assert 'value="weather"' in response.text


def test_a_search_without_results_says_so(owner_client, application):
    response = owner_client.get("/applications/", {"q": "zzz"})
    assert "No application matches" in response.text


def test_the_list_is_paginated_by_twenty(owner_client, owner, make_application):
    for i in range(25):
        make_application(owner, f"App {i:02d}")
    first = owner_client.get("/applications/")
    assert "App 00" in first.text and "App 19" in first.text and "App 20" not in first.text
    assert "Page 1 of 2" in first.text
    second = owner_client.get("/applications/", {"page": 2})
    assert "App 20" in second.text and "App 24" in second.text and "App 19" not in second.text


def test_a_row_links_to_the_overview_and_shows_description_token_type_keys_and_creation_time(
    owner_client, owner, make_application, make_key
):
    description = "<b>Forecasts</b> & " + "x" * 100
    application = make_application(owner, "Weather", description=description, token_type="OAUTH")
    Application.objects.filter(pk=application.pk).update(
        created_at=datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    )
    make_key(application)
    make_key(application, key_type=KeyType.SANDBOX)

    page = owner_client.get("/applications/").text

    assert f'<a href="/applications/{application.pk}/">Weather</a>' in page
    shown = "&lt;b&gt;Forecasts&lt;/b&gt; &amp; " + "x" * 70 + "…"  # 90 characters in all
    assert f'<div class="muted">{shown}</div>' in page
    assert '<span class="badge">OAuth (opaque)</span>' in page
    assert "<td>2</td>" in page
    assert '<time datetime="2026-03-04T05:06:07.000890+00:00">2026-03-04 05:06</time>' in page


def test_pagination_links_keep_the_search(owner_client, owner, make_application):
    for i in range(25):
        make_application(owner, f"Weather {i:02d}")
    response = owner_client.get("/applications/", {"q": "weather"})
    assert 'href="?q=weather&amp;page=2"' in response.text


def _count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/applications/").status_code == 200
    return len(ctx.captured_queries)


def test_the_list_runs_the_same_number_of_queries_for_one_and_fifty_applications(
    owner_client, owner, make_application, make_key
):
    first = make_application(owner, "App 000")
    make_key(first)
    one = _count_list_queries(owner_client)
    for i in range(1, 50):
        make_key(make_application(owner, f"App {i:03d}"))
    assert _count_list_queries(owner_client) == one


# -- create ---------------------------------------------------------------------------------------


def test_the_create_form_offers_jwt_by_default(owner_client):
    response = owner_client.get("/applications/new/")
    assert response.status_code == 200
    assert 'name="name"' in response.text
    assert 'name="description"' in response.text
    assert re.search(r'<input type="radio" name="token_type" value="JWT"[^>]* checked>', response.text)
    assert not re.search(r'<input type="radio" name="token_type" value="OAUTH"[^>]* checked>', response.text)


def test_creating_an_application_trims_the_name_and_opens_its_overview(owner_client, owner):
    response = owner_client.post(
        "/applications/new/", {"name": "  Weather App  ", "description": "Forecasts", "token_type": "OAUTH"}
    )
    application = Application.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == detail_url(application)
    assert application.name == "Weather App"
    assert application.description == "Forecasts"
    assert application.token_type == "OAUTH"
    assert AuditEvent.objects.filter(action="application.create", application_id=application.pk).exists()


def test_a_duplicate_name_is_a_form_error_even_in_another_case(owner_client, application):
    response = owner_client.post("/applications/new/", {"name": "weather app", "token_type": "JWT"})
    assert response.status_code == 200
    assert "You already have an application named" in response.text
    assert Application.objects.count() == 1


def test_another_developer_may_use_the_same_name(other_client, other_developer, application):
    response = other_client.post("/applications/new/", {"name": "Weather App", "token_type": "JWT"})
    assert response.status_code == 302
    assert Application.objects.filter(owner=other_developer, name="Weather App").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "token_type": "JWT"}, "This field is required."),
        ({"name": "   ", "token_type": "JWT"}, "This field is required."),
        ({"name": "x" * 71, "token_type": "JWT"}, "at most 70 characters"),
        ({"name": "ok", "description": "d" * 1025, "token_type": "JWT"}, "at most 1024 characters"),
        ({"name": "ok", "token_type": "SAML"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_created(owner_client, data, message):
    response = owner_client.post("/applications/new/", data)
    assert response.status_code == 200
    assert message in response.text
    assert Application.objects.count() == 0


def test_a_seventy_character_name_is_accepted(owner_client, owner):
    response = owner_client.post("/applications/new/", {"name": "x" * 70, "token_type": "JWT"})
    assert response.status_code == 302
    assert Application.objects.get(owner=owner).name == "x" * 70


def test_creating_needs_a_csrf_token(csrf_owner_client):
    response = csrf_owner_client.post("/applications/new/", {"name": "Weather App", "token_type": "JWT"})
    assert response.status_code == 403
    assert Application.objects.count() == 0


# -- overview -------------------------------------------------------------------------------------


def test_the_overview_shows_the_application_its_keys_and_the_sub_navigation(
    owner_client, application, make_key
):
    make_key(application, consumer_key="ck-visible")
    response = owner_client.get(detail_url(application))
    assert response.status_code == 200
    text = response.text
    assert "Weather App" in text and "Forecasts for the demo" in text
    assert str(application.pk) in text
    assert "ck-visible" in text
    assert f'href="/applications/{application.pk}/keys/production/"' in text
    assert f'href="/applications/{application.pk}/keys/sandbox/"' in text
    assert 'class="tab active"' in text and ">Overview<" in text


def test_the_overview_runs_a_constant_number_of_queries(owner_client, application, make_key):
    make_key(application)
    with CaptureQueriesContext(connection) as one_key:
        owner_client.get(detail_url(application))
    make_key(application, key_type=KeyType.SANDBOX)
    with CaptureQueriesContext(connection) as two_keys:
        owner_client.get(detail_url(application))
    assert len(two_keys.captured_queries) == len(one_key.captured_queries)


# -- edit -----------------------------------------------------------------------------------------


def test_the_edit_form_is_filled_with_the_current_values(owner_client, application):
    response = owner_client.get(detail_url(application) + "edit/")
    assert response.status_code == 200
    assert 'value="Weather App"' in response.text
    assert "Forecasts for the demo" in response.text
    # A new token type reaches the existing keys at once, so the page no longer says otherwise.
    assert "applies to keys generated or updated after the change" not in response.text


def test_editing_saves_the_changes(owner_client, application):
    response = owner_client.post(
        detail_url(application) + "edit/", {"name": "Weather 2", "description": "", "token_type": "OAUTH"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.name, application.description, application.token_type) == ("Weather 2", "", "OAUTH")
    event = AuditEvent.objects.get(action="application.update")
    assert event.detail["changed"] == ["description", "name", "token_type"]


def test_renaming_to_the_same_name_in_another_case_is_allowed(owner_client, application):
    response = owner_client.post(
        detail_url(application) + "edit/", {"name": "WEATHER APP", "token_type": "JWT"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.name == "WEATHER APP"


def test_renaming_onto_another_of_my_applications_is_a_form_error(
    owner_client, owner, application, make_application
):
    make_application(owner, "Payments")
    response = owner_client.post(detail_url(application) + "edit/", {"name": "payments", "token_type": "JWT"})
    assert response.status_code == 200
    assert "You already have an application named" in response.text
    application.refresh_from_db()
    assert application.name == "Weather App"


# -- delete ---------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(owner_client, application):
    response = owner_client.get(detail_url(application) + "delete/")
    assert response.status_code == 200
    assert "Are you sure you want to delete this application?" in response.text
    assert Application.objects.filter(pk=application.pk).exists()


def test_deleting_removes_the_application_and_its_clients_at_the_key_managers(
    owner_client, application, make_key
):
    key = make_key(application, consumer_key="ck-to-delete")
    response = owner_client.post(detail_url(application) + "delete/")
    assert response.status_code == 302
    assert response["Location"] == "/applications/"
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not ApplicationKey.objects.filter(pk=key.pk).exists()
    assert RecordingAdapter.deleted == ["ck-to-delete"]
    assert AuditEvent.objects.filter(action="application.delete", outcome="success").exists()


def test_a_failing_key_manager_keeps_the_application_and_says_why(owner_client, application, make_key):
    RecordingAdapter.fail = True
    key = make_key(application)
    response = owner_client.post(detail_url(application) + "delete/", follow=True)
    assert response.status_code == 200
    assert "The application was not deleted" in response.text
    assert "Remote IdP" in response.text
    assert Application.objects.filter(pk=application.pk).exists()
    assert ApplicationKey.objects.filter(pk=key.pk).exists()
    assert AuditEvent.objects.filter(action="application.delete", outcome="failure").exists()


def test_deleting_needs_a_post_with_csrf(csrf_owner_client, application):
    assert csrf_owner_client.post(detail_url(application) + "delete/").status_code == 403
    assert Application.objects.filter(pk=application.pk).exists()


# -- navigation and layout ------------------------------------------------------------------------


def breadcrumbs(html: str) -> str:
    match = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S)
    assert match, "the page has no breadcrumbs"
    return re.sub(r"\s+", " ", match.group(0))


def test_the_overview_has_breadcrumbs_back_to_the_list(owner_client, application):
    crumbs = breadcrumbs(owner_client.get(detail_url(application)).text)
    assert '<a href="/applications/">Applications</a>' in crumbs
    assert '<span aria-current="page">Weather App</span>' in crumbs


def test_the_edit_form_has_breadcrumbs_to_the_application_and_cancel_before_save(owner_client, application):
    text = owner_client.get(detail_url(application) + "edit/").text
    crumbs = breadcrumbs(text)
    assert f'<a href="{detail_url(application)}">Weather App</a>' in crumbs
    assert '<span aria-current="page">Edit</span>' in crumbs
    actions = text[text.index('class="form-actions"') :]
    assert actions.index(">Cancel<") < actions.index(">Save<")


def test_the_create_form_puts_cancel_before_create_and_labels_have_no_colon(owner_client):
    text = owner_client.get("/applications/new/").text
    actions = text[text.index('class="form-actions"') :]
    assert actions.index(">Cancel<") < actions.index(">Create<")
    assert '<label for="id_name">Name</label>' in text
    assert "Name:" not in text
    assert '<span aria-current="page">New application</span>' in breadcrumbs(text)


def test_the_delete_confirmation_has_breadcrumbs_and_cancel_before_delete(owner_client, application):
    text = owner_client.get(detail_url(application) + "delete/").text
    crumbs = breadcrumbs(text)
    assert f'<a href="{detail_url(application)}">Weather App</a>' in crumbs
    assert '<span aria-current="page">Delete</span>' in crumbs
    actions = text[text.index('class="form-actions"') :]
    assert actions.index(">Cancel<") < actions.index(">Delete application<")


def test_tables_sit_in_a_scrolling_wrapper_on_the_list_and_the_overview(owner_client, application, make_key):
    make_key(application)
    for url in ("/applications/", detail_url(application)):
        text = owner_client.get(url).text
        assert re.search(r'<div class="table-wrap">\s*<table class="table">', text), url
