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
