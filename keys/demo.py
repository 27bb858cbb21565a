"""Demo data for keys: Production keys at the Resident key manager for the demo application."""

from __future__ import annotations

from keymanagers.models import GrantType, KeyManager
from keys import services
from keys.models import ApplicationKey, KeyType

DEMO_SECRET_DESCRIPTION = "Demo secret"


def load_keys_demo(application) -> services.GeneratedKeys | None:
    """Generate Production keys for ``application`` at the Resident key manager, once.

    Idempotent: returns None when the keys already exist (or the Resident key manager is
    disabled). The returned consumer secret is shown once by the caller; it is not stored in clear.
    """
    resident = (
        KeyManager.objects.filter(type=KeyManager.Type.RESIDENT, enabled=True).order_by("order").first()
    )
    if resident is None:
        return None
    if ApplicationKey.objects.filter(
        application=application, key_type=KeyType.PRODUCTION, key_manager=resident
    ).exists():
        return None
    return services.keys_generate(
        application=application,
        key_type=KeyType.PRODUCTION,
        key_manager=resident,
        config={"grant_types": [GrantType.CLIENT_CREDENTIALS, GrantType.REFRESH_TOKEN]},
        actor=application.owner,
        secret_description=DEMO_SECRET_DESCRIPTION,
    )


#: The second key manager of the demo: the oidc-provider peer .ci/demo starts when Node.js is there.
DEMO_PEER_KEY_MANAGER = "demo-oidc"


def load_peer_key_manager(*, url: str, initial_access_token: str) -> KeyManager:
    """Add (or point again) the demo's OpenID Connect DCR key manager at the oidc-provider peer
    running at ``url``, so the keys pages show one tab per key manager.

    The peer keeps its clients in memory: after a restart the clients of keys made in an earlier
    demo run no longer exist there, so those keys are forgotten here too (they could only fail).
    """
    url = url.rstrip("/")
    km, created = KeyManager.objects.get_or_create(
        name=DEMO_PEER_KEY_MANAGER,
        defaults={"display_name": "Demo OIDC provider", "type": KeyManager.Type.OIDC_DCR},
    )
    # The endpoints oidc-provider serves (tests/peers/oidc-provider/start.mjs), as discovery gives them.
    km.type = KeyManager.Type.OIDC_DCR
    km.enabled = True
    km.order = 200  # after the Resident key manager's tab
    km.description = "A local oidc-provider (Node.js) started by .ci/demo; its clients live in memory."
    km.well_known_url = f"{url}/.well-known/openid-configuration"
    km.issuer = url
    km.authorize_endpoint = f"{url}/auth"
    km.token_endpoint = f"{url}/token"
    km.revoke_endpoint = f"{url}/token/revocation"
    km.introspection_endpoint = f"{url}/token/introspection"
    km.userinfo_endpoint = f"{url}/me"
    km.jwks_endpoint = f"{url}/jwks"
    km.registration_endpoint = f"{url}/reg"
    km.available_grant_types = [
        GrantType.CLIENT_CREDENTIALS,
        GrantType.REFRESH_TOKEN,
        GrantType.AUTHORIZATION_CODE,
    ]
    km.multiple_secrets_enabled = False
    km.set_credentials({"initial_access_token": initial_access_token})
    km.save()
    if not created:
        ApplicationKey.objects.filter(key_manager=km).delete()
    return km
