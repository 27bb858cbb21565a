"""What a developer sees on the keys and secrets pages: where a reload or an error leaves them,
which button a dialog offers first, the labels, the breadcrumbs, and the one-time values."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.urls import reverse

from keys.models import ApplicationKey
from keys.secrets import services as secret_services
from tests.keys.helpers import key_url, keys_url
from tests.keys.test_pages import FORM, generate_url, make_key, text, update_form


def map_url(application, km="Resident"):
    return reverse("keys_map", kwargs={"application_id": application.pk, "env": "production", "km": km})


def secrets_url(key, suffix=""):
    return f"/applications/{key.application_id}/keys/production/{key.pk}/secrets/{suffix}"


def before(page: str, first: str, then: str) -> bool:
    """Whether ``first`` appears in ``page`` before ``then`` (both must appear)."""
    assert first in page and then in page, (first, then)
    return page.index(first) < page.index(then)


def token_dialog(page: str) -> str:
    return re.search(r'<dialog id="token-dialog".*?</dialog>', page, re.S).group(0)


# -- 1. the token dialog keeps the one-time values ------------------------------------------------


def test_the_token_dialog_lets_the_browser_stop_an_empty_secret(owner_client, application, resident, owner):
    make_key(application, resident, owner)
    dialog = token_dialog(text(owner_client.get(keys_url(application))))

    assert "novalidate" not in dialog
    assert re.search(r'<input type="password" name="token-consumer_secret"[^>]*required', dialog)
    assert "Paste the consumer secret shown above" not in dialog  # no one-time box on this page


def test_right_after_generate_the_dialog_says_to_paste_the_secret_shown_above(
    owner_client, application, resident
):
    response = owner_client.post(generate_url(application), FORM)

    assert response.status_code == 200
    page = text(response)
    assert 'id="generated-secret"' in page
    dialog = token_dialog(page)
    assert "Paste the consumer secret shown above." in dialog
    assert 'aria-describedby="id_token-consumer_secret_helptext"' in dialog


def test_a_token_form_error_focuses_the_field_to_fix(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key

    response = owner_client.post(key_url("keys_token", key), {"token-validity_period": "600"})

    assert response.status_code == 400
    dialog = token_dialog(text(response))
    assert "data-dialog-autoopen" in dialog
    assert re.search(r'<input type="password" name="token-consumer_secret"[^>]*autofocus', dialog)
    assert not re.search(r'<select name="token-scopes"[^>]*autofocus', dialog)


# -- 2. the address bar and GET on an action URL -------------------------------------------------


def test_the_page_names_its_own_url_for_the_address_bar_after_a_post(owner_client, application, resident):
    response = owner_client.post(generate_url(application), FORM)

    assert response.status_code == 200
    assert f'data-canonical-url="{keys_url(application, km="Resident")}"' in text(response)
    assert "js/keys.js" in text(response)


def test_get_on_an_action_url_goes_to_the_keys_page(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    page = keys_url(application, km="Resident")
    for url in (
        generate_url(application),
        map_url(application),
        key_url("keys_update", key),
        key_url("keys_token", key),
        key_url("keys_clean_up", key),
    ):
        response = owner_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == page, url
    key.refresh_from_db()
    assert key.key_state == ApplicationKey.State.COMPLETED
    assert ApplicationKey.objects.count() == 1


def test_get_on_another_developers_action_url_is_a_404(other_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    for url in (key_url("keys_update", key), key_url("keys_token", key), key_url("keys_clean_up", key)):
        assert other_client.get(url).status_code == 404, url
    assert other_client.get(generate_url(application)).status_code == 404


def test_the_secret_generated_page_names_the_keys_page_for_the_address_bar(
    owner_client, application, resident
):
    key = make_key(application, resident, application.owner).key
    back = f"{keys_url(application, km='Resident')}#secrets-title-{key.pk}"

    # From the keys page's dialog, the answer is the keys page itself (issue 13: one pattern for
    # one-time values), whose address bar shows the keys page, not the POST's URL.
    response = owner_client.post(secrets_url(key, "new/"), {"secret-expiry": "30", "next": back})

    assert response.status_code == 200
    page = text(response)
    assert f'data-canonical-url="{keys_url(application, km="Resident")}"' in page
    assert '<code id="new-secret-value">' in page
    assert "js/keys.js" in page

    # From the secrets list, its result page names the list for the address bar, and Done goes back.
    listed_back = secrets_url(key)
    response = owner_client.post(secrets_url(key, "new/"), {"secret-expiry": "30", "next": listed_back})
    page = text(response)
    listed = f"{secrets_url(key)}?next={quote(listed_back, safe='/')}"
    assert f'data-canonical-url="{listed}"' in page
    assert f'<a class="btn btn-primary" href="{listed_back}">Done</a>' in page
    assert "js/keys.js" in page


# -- 3. Update with an error ------------------------------------------------------------------------


def test_an_update_with_errors_says_so_at_the_top_and_lands_on_the_form(
    owner_client, application, resident, owner
):
    key = make_key(application, resident, owner).key
    page = text(owner_client.get(keys_url(application)))
    assert "Key Configurations not saved" not in page
    assert f'action="{key_url("keys_update", key)}#key-configuration"' in page
    assert '<section class="card" id="key-configuration">' in page

    response = owner_client.post(key_url("keys_update", key), update_form(grant_types=["authorization_code"]))

    assert response.status_code == 400
    page = text(response)
    assert (
        '<div class="callout callout-danger" role="alert" id="update-errors">'
        "Key Configurations not saved: see the errors below.</div>"
    ) in page
    assert before(page, 'id="update-errors"', "A callback URL is required")
    assert re.search(r'<input type="text" name="update-callback_url"[^>]*autofocus', page)
    key.refresh_from_db()
    assert key.supported_grant_types == ["client_credentials"]


# -- 4, 6. dialog and confirmation buttons: Cancel first, and focused where destructive -------------


def test_the_delete_secret_dialog_offers_and_focuses_cancel_first(owner_client, application, resident, owner):
    make_key(application, resident, owner)
    page = text(owner_client.get(keys_url(application)))
    dialog = re.search(r'<dialog id="delete-secret-.*?</dialog>', page, re.S).group(0)

    assert '<button type="button" class="btn" data-dialog-close autofocus>Cancel</button>' in dialog
    assert before(dialog, ">Cancel<", ">Delete<")


def test_every_keys_dialog_and_confirmation_puts_cancel_before_the_action(
    owner_client, application, resident, owner
):
    key = make_key(application, resident, owner).key
    keys_page = text(owner_client.get(keys_url(application)))
    assert before(token_dialog(keys_page), ">Cancel<", ">Generate<")
    new_dialog = re.search(r'<dialog id="new-secret-.*?</dialog>', keys_page, re.S).group(0)
    assert before(new_dialog, ">Cancel<", ">Generate secret<")

    assert before(text(owner_client.get(key_url("keys_remove", key))), ">Cancel<", ">Remove Keys<")
    assert before(text(owner_client.get(secrets_url(key, "new/"))), ">Cancel<", ">Generate secret<")
    secret = secret_services.secret_create(key=key, actor=owner).secret
    assert before(text(owner_client.get(secrets_url(key, f"{secret.pk}/delete/"))), ">Cancel<", ">Delete<")

    resident.multiple_secrets_enabled = False  # Regenerate Consumer Secret is for single-secret mode
    resident.save()
    single = make_key(application, resident, owner, key_type="SANDBOX").key
    confirm = text(owner_client.get(key_url("keys_regenerate_secret", single)))
    assert before(confirm, ">Cancel<", ">Regenerate Consumer Secret<")


# -- 5. cURL ------------------------------------------------------------------------------------------


def test_the_curl_command_quotes_the_credentials(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    page = text(owner_client.get(keys_url(application)))
    curl = re.search(r'<pre id="curl-command">([^<]+)</pre>', page).group(1)
    assert f"  -u &quot;{key.consumer_key}:$CONSUMER_SECRET&quot; \\" in curl


# -- 7. breadcrumbs ------------------------------------------------------------------------------------


def crumbs(page: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumbs">(.*?)</nav>', page, re.S).group(1)
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<(?:a|span)[^>]*>([^<›]+)</", nav)]


def test_every_keys_page_has_the_breadcrumb_trail(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    secret = secret_services.secret_create(key=key, actor=owner).secret
    trail = ["Applications", application.name, "Production Keys"]

    assert crumbs(text(owner_client.get(keys_url(application)))) == trail
    assert 'aria-current="page">Production Keys<' in text(owner_client.get(keys_url(application)))
    for url, current in (
        (key_url("keys_remove", key), "Remove keys"),
        (secrets_url(key), "Consumer Secrets"),
        (secrets_url(key, "new/"), "New consumer secret"),
        (secrets_url(key, f"{secret.pk}/delete/"), "Delete secret"),
    ):
        page = text(owner_client.get(url))
        assert crumbs(page) == [*trail, current], url
        assert f'href="{keys_url(application, km="Resident")}">Production Keys</a>' in page, url

    resident.multiple_secrets_enabled = False  # Regenerate Consumer Secret is for single-secret mode
    resident.save()
    single = make_key(application, resident, owner, key_type="SANDBOX").key
    page = text(owner_client.get(key_url("keys_regenerate_secret", single)))
    assert crumbs(page) == ["Applications", application.name, "Sandbox Keys", "Regenerate consumer secret"]


# -- 8, 9. labels -----------------------------------------------------------------------------------


def test_expiry_fields_have_short_labels_under_a_legend_with_the_unit(owner_client, application, resident):
    page = text(owner_client.get(keys_url(application)))

    assert "<legend>Token expiry times (seconds)</legend>" in page
    for label in ("Application token", "User token", "Refresh token", "ID token"):
        assert re.search(rf'<label for="id_\w+_expiry_time">{label}</label>', page), label
    assert "Application access token expiry time" not in page


def test_no_label_on_the_keys_and_secrets_forms_ends_with_a_colon(owner_client, application, resident, owner):
    empty = text(owner_client.get(keys_url(application)))
    key = make_key(application, resident, owner).key
    with_key = text(owner_client.get(keys_url(application)))
    new_secret = text(owner_client.get(secrets_url(key, "new/")))

    for page in (empty, with_key, new_secret):
        labels = re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)
        assert labels
        assert not [label for label in labels if re.sub(r"<[^>]+>", "", label).strip().endswith(":")]
    assert '<label for="id_token-validity_period">Validity period</label>' in with_key


# -- 10. back to the secrets panel ---------------------------------------------------------------


def test_deleting_a_secret_from_the_panel_lands_on_the_panel(owner_client, application, resident, owner):
    key = make_key(application, resident, owner).key
    secret = secret_services.secret_create(key=key, actor=owner).secret
    page = text(owner_client.get(keys_url(application)))
    back = f"{keys_url(application, km='Resident')}#secrets-title-{key.pk}"
    assert f'<h3 id="secrets-title-{key.pk}">Consumer Secrets</h3>' in page
    assert f'name="next" value="{back}"' in page

    response = owner_client.post(secrets_url(key, f"{secret.pk}/delete/"), {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert not key.secrets.filter(pk=secret.pk).exists()


# -- 11. the one-time panel ------------------------------------------------------------------------


def test_a_new_access_token_is_labelled_once(owner_client, application, single_secret_resident, owner):
    key = make_key(application, single_secret_resident, owner).key

    response = owner_client.post(key_url("keys_token", key), {"token-validity_period": "600"})

    assert response.status_code == 200
    once = re.search(r'<section class="secret-once".*?</section>', text(response), re.S).group(0)
    assert once.count("Access token") == 1
    assert re.search(r'<code id="new-token">[^<]+</code>', once)


def test_generated_keys_label_the_token_below_the_secret(owner_client, application, resident):
    once = re.search(
        r'<section class="secret-once".*?</section>',
        text(owner_client.post(generate_url(application), FORM)),
        re.S,
    ).group(0)
    assert '<p class="muted">Access token</p>' in once
    assert before(once, 'id="generated-secret"', 'id="generated-token"')


def test_the_pkce_checkboxes_are_there_for_keys_js(owner_client, application, resident):
    # static/js/keys.js finds them by these names (…pkce_mandatory / …pkce_support_plain).
    page = text(owner_client.get(keys_url(application)))
    assert 'type="checkbox" name="pkce_mandatory"' in page
    assert 'type="checkbox" name="pkce_support_plain"' in page
