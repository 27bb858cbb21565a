"""Registering a REST API client (the reference's ``/client-registration/v0.17/register``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from keymanagers.models import ClientSecret, GrantType, OAuthClient
from portal import crypto
from portal.apiclients.models import ApiClient
from portal.apiclients.scopes import API_SCOPES
from portal.audit import audit

# The grant types an API client may be registered for. The password grant is also gated by the
# Resident key manager (RFC 9700 forbids it; off unless an admin offers it there), and
# refresh_token only matters with it: client_credentials tokens come without a refresh token.
SUPPORTED_GRANT_TYPES = (GrantType.CLIENT_CREDENTIALS, GrantType.PASSWORD, GrantType.REFRESH_TOKEN)
DEFAULT_GRANT_TYPES = [GrantType.CLIENT_CREDENTIALS.value]
# The reference answers a second registration of the same name with the same client. We keep only
# keyed hashes of secrets, so it gets a new secret; the latest few stay valid, so scripts that
# register on every run (as the reference's samples do) do not break one another.
KEPT_SECRETS = 5
CLIENT_ID_BYTES = 24  # 32 URL-safe characters, like the resident server's other clients
SECRET_PREFIX = "dps_"
MAX_NAME_LENGTH = 255
MAX_CALLBACK_LENGTH = 2000


@dataclass
class Registration:
    api_client: ApiClient
    client_secret: str  # shown once, in the registration's answer

    def as_reference_json(self) -> dict:
        """The reference's answer, field for field."""
        client = self.api_client
        return {
            "clientId": client.oauth_client.client_id,
            "clientName": client.client_name,
            "callBackURL": client.callback_url or None,
            "clientSecret": self.client_secret,
            "isSaasApplication": client.saas_app,
            "appOwner": client.owner.get_username(),
            "jsonString": json.dumps(
                {
                    "grant_types": " ".join(client.grant_types),
                    "redirect_uris": client.callback_url,
                    "client_name": client.client_name,
                }
            ),
            "jsonAppAttribute": "{}",
            "tokenType": None,
        }


def _new_secret(oauth_client: OAuthClient) -> str:
    value = crypto.generate_secret(SECRET_PREFIX)
    ClientSecret.objects.create(client=oauth_client, secret_hash=crypto.keyed_hash(value))
    stale = ClientSecret.objects.filter(client=oauth_client).order_by("-created_at", "-id")[KEPT_SECRETS:]
    ClientSecret.objects.filter(pk__in=[row.pk for row in stale]).delete()
    return value


def api_client_register(
    *, owner, client_name: str, callback_url: str, grant_types: list[str], saas_app: bool
) -> Registration:
    """Register (or register again) ``owner``'s client ``client_name``; the answer holds a new secret."""
    arguments = dict(
        owner=owner,
        client_name=client_name,
        callback_url=callback_url,
        grant_types=grant_types,
        saas_app=saas_app,
    )
    try:
        return _register(**arguments)
    except IntegrityError:
        # The same name registered by a parallel request a moment ago: this one registers again.
        return _register(**arguments)


@transaction.atomic
def _register(
    *, owner, client_name: str, callback_url: str, grant_types: list[str], saas_app: bool
) -> Registration:
    existing = (
        ApiClient.objects.select_for_update()
        .select_related("oauth_client", "owner")
        .filter(owner=owner, client_name=client_name)
        .first()
    )
    if existing is None:
        oauth_client = OAuthClient(client_id=secrets.token_urlsafe(CLIENT_ID_BYTES))
        api_client = ApiClient(owner=owner, client_name=client_name)
    else:
        api_client, oauth_client = existing, existing.oauth_client
    oauth_client.name = f"REST API client {client_name}"[:255]
    oauth_client.application_name = client_name
    oauth_client.user = owner
    oauth_client.api_client = True
    oauth_client.client_type = OAuthClient.CLIENT_CONFIDENTIAL
    oauth_client.authorization_grant_type = OAuthClient.GRANT_CLIENT_CREDENTIALS
    oauth_client.grant_types = list(grant_types)
    # No redirect grant: the callback is recorded for the answer, never redirected to.
    oauth_client.redirect_uris = ""
    oauth_client.token_format = "OAUTH"  # opaque, like the reference's API tokens
    oauth_client.granted_scopes = sorted(API_SCOPES)
    # DOT must never check this column (resident secrets are ClientSecret rows).
    oauth_client.client_secret = ""
    oauth_client.hash_client_secret = False
    oauth_client.save()
    api_client.oauth_client = oauth_client
    api_client.callback_url = callback_url
    api_client.saas_app = saas_app
    api_client.grant_types = list(grant_types)
    api_client.save()
    audit(
        actor=owner,
        action="api_client.register" if existing is None else "api_client.register_again",
        client_id=oauth_client.client_id,
        client_name=client_name,
    )
    return Registration(api_client=api_client, client_secret=_new_secret(oauth_client))


def api_clients_delete_all(user, *, reason: str) -> int:
    """Delete every REST API client of ``user`` (their secrets and tokens go with them)."""
    clients = list(OAuthClient.objects.filter(user=user, api_client=True))
    for client in clients:
        audit(actor=None, action="api_client.delete", client_id=client.client_id, reason=reason)
    OAuthClient.objects.filter(pk__in=[c.pk for c in clients]).delete()
    return len(clients)
