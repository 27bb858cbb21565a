"""Every keys URL names its environment with the ``keyenv`` converter: production or sandbox."""

from __future__ import annotations

import uuid

import pytest
from django.urls import NoReverseMatch, reverse

SECRETS_URLS = [
    ("key_secrets", {}),
    ("key_secret_create", {}),
    ("key_secret_delete", {"secret_id": uuid.uuid4()}),
]


@pytest.mark.parametrize(("name", "extra"), SECRETS_URLS)
def test_secrets_urls_exist_for_production_and_sandbox_only(name, extra):
    ids = {"application_id": uuid.uuid4(), "key_id": uuid.uuid4(), **extra}
    for env in ("production", "sandbox"):
        assert f"/keys/{env}/" in reverse(name, kwargs={"env": env, **ids})
    with pytest.raises(NoReverseMatch):
        reverse(name, kwargs={"env": "staging", **ids})


def test_an_unknown_environment_in_a_secrets_url_is_a_404(owner_client):
    response = owner_client.get(f"/applications/{uuid.uuid4()}/keys/staging/{uuid.uuid4()}/secrets/")
    assert response.status_code == 404


def test_the_application_pages_link_to_the_keys_pages_by_name(owner_client, owner):
    from portal.models import Application

    application = Application.objects.create(owner=owner, name="Links")
    page = owner_client.get(reverse("application_detail", kwargs={"application_id": application.pk})).text
    for env in ("production", "sandbox"):
        assert (
            f'href="{reverse("application_keys", kwargs={"application_id": application.pk, "env": env})}"'
            in page
        )
