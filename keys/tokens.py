"""Generate Access Token from the portal: a client_credentials token for a key, shown once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from keymanagers.base import TokenResult, adapter_for
from keymanagers.models import GrantType
from keys.errors import KeysError
from keys.models import ApplicationKey
from keys.remote import remote_call, save_state
from keys.rules import clean_scopes, clean_validity, km_label, require_complete, require_enabled
from keys.services import stored_secret_value
from portal import crypto
from portal.audit import audit


def secret_matches(key: ApplicationKey, value: str) -> bool | None:
    """Whether ``value`` is a live secret of ``key``; None when the portal knows no secret to check."""
    now = timezone.now()
    # A row with an empty hash is a secret being created right now (a reservation): not a candidate.
    known = [s for s in key.secrets.all() if s.secret_hash]
    if not known:
        return None
    return crypto.matches_any(value, [s.secret_hash for s in known if not s.is_expired(now)])


def token_generate(
    *,
    key: ApplicationKey,
    consumer_secret: str = "",
    scopes: Iterable[str] = (),
    validity_period: Any = None,
    revoke_previous: bool | str = False,
    actor,
    grant_type: str = GrantType.CLIENT_CREDENTIALS,
) -> TokenResult:
    """Generate Access Token: a client_credentials token for the key, shown once.

    ``revoke_previous`` is True to revoke the client's earlier tokens first, or one token to revoke.
    """
    key_manager = key.key_manager
    require_enabled(key_manager)
    if not key_manager.enable_token_generation:
        raise KeysError(f"{km_label(key_manager)} does not allow generating access tokens from the portal.")
    require_complete(key)
    grant_type = grant_type or GrantType.CLIENT_CREDENTIALS
    if grant_type != GrantType.CLIENT_CREDENTIALS:
        raise ValidationError({"grant_type": ["Only client_credentials tokens can be generated here."]})
    if grant_type not in (key.supported_grant_types or []):
        raise KeysError(
            "The Client Credentials grant type is not enabled for these keys: tick it under "
            "Key Configurations and update the keys first."
        )
    scopes = clean_scopes(scopes)
    validity = clean_validity(validity_period)
    secret = (consumer_secret or "").strip() or stored_secret_value(key)
    if not secret:
        raise ValidationError({"consumer_secret": ["Enter one of this key's consumer secrets."]})
    if secret_matches(key, secret) is False:
        raise ValidationError(
            {
                "consumer_secret": [
                    "This is not a valid consumer secret of these keys (wrong, expired or deleted)."
                ]
            }
        )

    adapter = adapter_for(key_manager)
    with remote_call(key, actor=actor, action="keys.token_generate", application=key.application_id) as ref:
        if revoke_previous is True:
            adapter.revoke_client_tokens(ref)
        elif isinstance(revoke_previous, str) and revoke_previous:
            adapter.revoke_token(ref, revoke_previous, client_secret=secret)
        result = adapter.issue_token(
            ref, client_secret=secret, scopes=scopes, validity_period=validity, grant_type=grant_type
        )
    save_state(key, ref)
    audit(
        actor=actor,
        action="keys.token_generate",
        application=key.application_id,
        key=key,
        scopes=result.scopes,
        validity_period=result.expires_in,
        revoked_previous=bool(revoke_previous),
    )
    return result
