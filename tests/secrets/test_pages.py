"""The secrets pages: list with search/expired/paging, + New Secret, delete with confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keymanagers.models import ClientSecret
from keys.models import ApplicationKey, ConsumerSecret
from keys.secrets import services
from keys.secrets.selectors import secrets_panel
from portal import crypto
from tests.secrets.conftest import generate, url


def add_secrets(key, owner, n, **kwargs):
    return [services.secret_create(key=key, actor=owner, **kwargs).secret for _ in range(n)]


# -- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "new/", "{secret}/delete/"])
def test_another_developer_gets_404_on_every_secrets_page(key, other_client, suffix):
    secret = key.secrets.get()
    target = url(key, suffix.format(secret=secret.pk))
    assert other_client.get(target).status_code == 404
    if suffix:  # the list is GET only
        assert other_client.post(target, {"secret-expiry": "90"}).status_code == 404
    assert key.secrets.count() == 1


@pytest.mark.parametrize("suffix", ["", "new/", "{secret}/delete/"])
def test_anonymous_visitors_are_sent_to_sign_in(key, anonymous_client, suffix):
    target = url(key, suffix.format(secret=key.secrets.get().pk))
    response = anonymous_client.get(target)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_wrong_environment_or_unknown_ids_are_404(key, owner_client):
    assert owner_client.get(url(key).replace("/production/", "/sandbox/")).status_code == 404
    assert owner_client.get(url(key).replace("/production/", "/staging/")).status_code == 404
    assert owner_client.get(url(key, f"{key.application_id}/delete/")).status_code == 404


# -- list ------------------------------------------------------------------------------------


def rows_of(page: str) -> list[list[str]]:
    """The secrets table's rows as lists of cell texts."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_secrets_table_masks_values_and_says_when_they_expire(key, owner, owner_client):
    services.secret_create(key=key, description="", expires_at=None, actor=owner)
    services.secret_create(
        key=key, description="CI", expires_at=timezone.now() + timedelta(days=30), actor=owner
    )

    response = owner_client.get(url(key))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Consumer Secrets" in page
    assert '<th scope="col">Description</th><th scope="col">Value</th><th scope="col">Expires In</th>' in page
    # issue 13 added the Last Used column (the fixture's first secret got a token when it was made).
    assert [row[:3] + row[4:] for row in rows_of(page)] == [
        ["CI", "••••••••", "30 days", "Delete"],
        ["No description", "••••••••", "Never expires", "Delete"],
        ["first", "••••••••", "Never expires", "Delete"],
    ]
    assert [row[3] for row in rows_of(page)][:2] == ["Never used", "Never used"]
    assert "+ New Secret" in page


def test_expired_secrets_are_hidden_until_show_expired(key, owner, owner_client):
    services.secret_create(
        key=key, description="old one", expires_at=timezone.now() + timedelta(days=1), actor=owner
    )
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        hidden = owner_client.get(url(key)).content.decode()
        shown = owner_client.get(url(key) + "?expired=1").content.decode()
    assert [row[0] for row in rows_of(hidden)] == ["first"]
    assert ["old one", "••••••••", "Expired", "Never used", "Delete"] in rows_of(shown)


def test_search_by_description(key, owner, owner_client):
    services.secret_create(key=key, description="GitHub Actions", actor=owner)
    services.secret_create(key=key, description="laptop", actor=owner)

    page = owner_client.get(url(key) + "?q=github").content.decode()

    assert "GitHub Actions" in page and "laptop" not in page
    assert "No secrets match “nothing”." in owner_client.get(url(key) + "?q=nothing").content.decode()


def test_pagination_ten_per_page(key, owner, owner_client):
    add_secrets(key, owner, 11)  # 12 in all
    first = owner_client.get(url(key))
    second = owner_client.get(url(key) + "?page=2")
    assert first.content.decode().count("••••••••") == 10
    assert "Page 1 of 2" in first.content.decode()
    assert second.content.decode().count("••••••••") == 2


def test_the_fragment_is_the_table_alone(key, owner_client):
    response = owner_client.get(url(key) + "?fragment=1&q=fir")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and "secrets-table" in page and "first" in page


def test_the_page_runs_the_same_queries_for_1_and_25_secrets(key, owner, owner_client):
    owner_client.get(url(key))  # warm the session
    with CaptureQueriesContext(connection) as one:
        owner_client.get(url(key))
    add_secrets(key, owner, 24)
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(url(key) + "?expired=1&q=&page=2")
    assert response.status_code == 200
    assert len(one) == len(many)


def test_with_multiple_secrets_disabled_the_page_says_so(key, owner_client, resident):
    resident.multiple_secrets_enabled = False
    resident.save()
    page = owner_client.get(url(key)).content.decode()
    assert "Multiple consumer secrets are not enabled" in page
    assert "+ New Secret" not in page


def test_at_the_limit_the_new_secret_button_is_disabled(key, owner_client, resident):
    resident.secret_count = 1
    resident.save()
    page = owner_client.get(url(key)).content.decode()
    assert "Maximum number of consumer secrets reached" in page
    assert '<button type="button" class="btn btn-primary" disabled' in page
    assert "data-secret-new" not in page


# -- + New Secret ------------------------------------------------------------------------------


def test_new_secret_is_shown_once_then_masked(key, owner_client):
    response = owner_client.post(
        url(key, "new/"), {"secret-description": "CI pipeline", "secret-expiry": "60", "next": url(key)}
    )

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Secret Generated Successfully" in page
    assert "Copy it now, it will not be shown again" in page
    secret = key.secrets.get(description="CI pipeline")
    value = response.context["created"].value
    assert f'<code id="new-secret-value" class="secret-value">{value}</code>' in page
    assert 'data-copy-target="#new-secret-value"' in page
    assert secret.secret_hash == crypto.keyed_hash(value) and secret.value_encrypted == ""
    assert timedelta(days=59, hours=23) < secret.expires_at - timezone.now() <= timedelta(days=60)
    assert ClientSecret.objects.filter(pk=secret.remote_id).exists()
    assert value not in owner_client.get(url(key)).content.decode()


@pytest.mark.parametrize(
    ("data", "expected_days"),
    [
        ({"secret-expiry": "30"}, 30),
        ({"secret-expiry": "90"}, 90),
        ({"secret-expiry": "180"}, 180),
        ({"secret-expiry": "custom", "secret-custom_days": "7"}, 7),
        ({"secret-expiry": "never"}, None),
    ],
)
def test_expiry_choices(key, owner_client, data, expected_days):
    response = owner_client.post(url(key, "new/"), data)
    assert response.status_code == 200
    secret = key.secrets.order_by("-created_at").first()
    if expected_days is None:
        assert secret.expires_at is None
    else:
        assert (secret.expires_at - timezone.now()).days == expected_days - 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"secret-expiry": "custom"}, "Enter a number of days from 1 to 3650 for a custom expiry."),
        ({"secret-expiry": "custom", "secret-custom_days": "0"}, "greater than or equal to 1"),
        ({"secret-expiry": "custom", "secret-custom_days": "3651"}, "less than or equal to 3650"),
        ({"secret-expiry": "365"}, "Select a valid choice."),
        ({"secret-expiry": "90", "secret-description": "x" * 1025}, "at most 1024 characters"),
    ],
)
def test_bad_input_shows_form_errors_and_creates_nothing(key, owner_client, data, error):
    response = owner_client.post(url(key, "new/"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert key.secrets.count() == 1


def test_at_the_limit_creating_is_refused_with_the_message(key, owner_client, resident):
    resident.secret_count = 1
    resident.save()
    response = owner_client.post(url(key, "new/"), {"secret-expiry": "90"})
    assert response.status_code == 409
    assert "Maximum number of consumer secrets reached" in response.content.decode()
    assert key.secrets.count() == 1


def test_creating_with_the_feature_disabled_is_refused(key, owner_client, resident):
    resident.multiple_secrets_enabled = False
    resident.save()
    response = owner_client.post(url(key, "new/"), {"secret-expiry": "90"})
    assert response.status_code == 400
    assert "Multiple consumer secrets are not enabled" in response.content.decode()
    assert key.secrets.count() == 1


def test_the_new_secret_page_works_without_javascript(key, owner_client):
    page = owner_client.get(url(key, "new/")).content.decode()
    assert 'name="secret-description"' in page and 'name="secret-expiry"' in page
    assert '<option value="90" selected>90 days</option>' in page


def test_creating_needs_csrf(key, csrf_owner_client):
    response = csrf_owner_client.post(url(key, "new/"), {"secret-expiry": "90"})
    assert response.status_code == 403
    assert key.secrets.count() == 1


def test_next_only_leads_back_into_the_portal(key, owner_client):
    response = owner_client.post(url(key, "new/"), {"secret-expiry": "90", "next": "https://evil.example/"})
    assert "https://evil.example/" not in response.content.decode()


# -- delete ------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation(key, owner, owner_client):
    secret = add_secrets(key, owner, 1, description="old laptop")[0]
    page = owner_client.get(url(key, f"{secret.pk}/delete/")).content.decode()
    assert "Are you sure you want to delete this secret? This action cannot be undone." in page
    assert "Tokens issued with this secret stay valid until they expire." in page
    assert "old laptop" in page and 'method="post"' in page
    assert ConsumerSecret.objects.filter(pk=secret.pk).exists()


def test_deleting_goes_back_with_a_message(key, owner, owner_client):
    secret = add_secrets(key, owner, 1)[0]
    keys_page = f"/applications/{key.application_id}/keys/production/?km=Resident"

    response = owner_client.post(url(key, f"{secret.pk}/delete/"), {"next": keys_page})

    assert response.status_code == 302 and response["Location"] == keys_page
    assert not ConsumerSecret.objects.filter(pk=secret.pk).exists()
    assert not ClientSecret.objects.filter(pk=secret.remote_id).exists()
    page = owner_client.get(url(key)).content.decode()
    assert "Secret deleted. Tokens issued with it stay valid until they expire." in page


def test_deleting_the_last_valid_secret_is_refused_on_the_page(key, owner_client):
    only = key.secrets.get()
    response = owner_client.post(url(key, f"{only.pk}/delete/"))
    assert response.status_code == 409
    assert "A key must keep at least one valid secret. Create a new secret before deleting this one." in (
        response.content.decode()
    )
    assert ConsumerSecret.objects.filter(pk=only.pk).exists()


def test_deleting_needs_csrf_and_post(key, owner, csrf_owner_client, owner_client):
    secret = add_secrets(key, owner, 1)[0]
    assert csrf_owner_client.post(url(key, f"{secret.pk}/delete/")).status_code == 403
    assert owner_client.put(url(key, f"{secret.pk}/delete/")).status_code == 405
    assert ConsumerSecret.objects.filter(pk=secret.pk).exists()


# -- the panel the keys page includes ---------------------------------------------------------


def render_panel(key, application, path="/applications/x/keys/production/generate/"):
    request = RequestFactory().get(path)
    request.user = application.owner
    return render_to_string(
        "keys/secrets/_panel.html",
        {
            "application": application,
            "key": key,
            "env": "production",
            "secrets_panel": secrets_panel(key=key),
        },
        request=request,
    )


def test_the_panel_runs_three_queries_however_many_secrets_the_key_has(
    key, owner, application, django_assert_num_queries
):
    add_secrets(key, owner, 12, description="rotation")
    key = ApplicationKey.objects.select_related("key_manager").get(pk=key.pk)

    # The counts, the first page's rows (never every secret: issue 14) and "last used", read from
    # the resident server (issue 13).
    with django_assert_num_queries(3):
        page = render_panel(key, application)

    assert "Consumer Secrets" in page
    assert page.count("••••••••") == 10
    assert "Showing 10 of 13 valid secrets." in page
    assert 'id="new-secret-' in page and 'id="delete-secret-' in page
    # Back to the keys page's tab and this panel, not to whatever URL rendered the panel.
    keys_page = f"/applications/{application.pk}/keys/production/?km=Resident#secrets-title-{key.pk}"
    assert f'name="next" value="{keys_page}"' in page
    assert f'id="secrets-title-{key.pk}"' in page


def test_the_panel_disables_new_secret_at_the_limit(application, resident, owner):
    resident.secret_count = 1
    resident.save()
    key, _ = generate(application, resident)
    page = render_panel(key, application)
    assert "Maximum number of consumer secrets reached" in page


def test_the_keys_page_shows_the_panel_in_multiple_secret_mode(key, owner, owner_client):
    services.secret_create(key=key, description="GitHub Actions", actor=owner)
    keys_page = f"/applications/{key.application_id}/keys/production/?km=Resident"

    page = owner_client.get(keys_page).content.decode()

    assert "Consumer Secrets" in page and "GitHub Actions" in page
    assert "+ New Secret" in page and "js/secrets.js" in page
    assert f'href="{url(key, "new/")}?next=' in page
    assert 'name="next" value="/applications/' in page
