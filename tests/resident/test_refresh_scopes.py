"""A refresh keeps only the scopes the client may still have (restricted-scope grants)."""

from __future__ import annotations

import pytest

from keys.models import Scope
from tests.resident.conftest import CALLBACK, authorize, pkce_pair, token_request

pytestmark = pytest.mark.django_db


def test_a_refresh_after_a_grant_is_withdrawn_drops_the_restricted_scope(client, owner_client, make_client):
    Scope.objects.create(name="billing:admin", restricted=True)
    oauth_client, registered = make_client(granted_scopes=["billing:admin"])
    verifier, challenge = pkce_pair()
    query, _ = authorize(
        owner_client, registered.ref.client_id, challenge=challenge, scope="default billing:admin"
    )
    first = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    ).json()
    assert set(first["scope"].split()) == {"default", "billing:admin"}

    # The admin withdraws the grant (what keys.scopes.scopes_sync does to the client).
    oauth_client.granted_scopes = []
    oauth_client.save(update_fields=["granted_scopes"])
    refreshed = token_request(
        client,
        registered.ref.client_id,
        registered.secret.value,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    )

    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["scope"] == "default"
