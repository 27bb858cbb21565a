"""The audit log: one call records who did what to which application, key or secret.

Never pass a secret, token or password in ``detail``: the audit log is readable by admins and
outlives what it describes.
"""

from __future__ import annotations

from typing import Any

from portal.models import AuditEvent

# Keys that must never land in ``detail``; a typo elsewhere should not leak a credential.
_FORBIDDEN_DETAIL_KEYS = {
    "secret",
    "client_secret",
    "consumer_secret",
    "token",
    "access_token",
    "password",
    "value",
}


def audit(
    *,
    actor,
    action: str,
    application=None,
    key=None,
    secret_id=None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    **detail: Any,
) -> AuditEvent:
    """Record an audit event. ``application``/``key`` may be objects or ids; ``actor`` a user or None."""
    leaked = _FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in detail)
    if leaked:
        raise ValueError(f"audit detail must not carry secret values: {sorted(leaked)}")
    application_id = getattr(application, "pk", application)
    key_mapping_id = getattr(key, "pk", key)
    if application_id is None and key is not None and hasattr(key, "application_id"):
        application_id = key.application_id
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        application_id=application_id,
        key_mapping_id=key_mapping_id,
        secret_id=getattr(secret_id, "pk", secret_id),
        outcome=outcome,
        detail=detail,
    )
