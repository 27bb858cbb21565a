"""Restricted scopes reaching the clients of the applications an admin granted them to."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from keymanagers.base import KeyManagerError, adapter_for
from keys.config import config_from_key
from keys.errors import KeysError
from keys.models import ApplicationKey
from keys.rules import km_label
from keys.services import keys_update

logger = logging.getLogger(__name__)


@dataclass
class ScopesSynced:
    """What ``scopes_sync`` did: how many keys took the new grants, and what failed (for the admin)."""

    updated: int
    failures: list[str]


def scopes_sync(*, applications: Iterable, actor=None) -> ScopesSynced:
    """Give the clients of ``applications`` their current restricted-scope grants.

    Called after an admin changed a scope's ``restricted`` flag, name or applications. Only key
    managers that enforce the grants themselves (``honours_scope_grants``) are updated; each key
    gets its own stored configuration again (``keys_update``), which now carries the grants. A key
    that fails does not stop the others: its failure is returned, and its client keeps its old
    grants until the next sync.
    """
    ids = {getattr(app, "pk", app) for app in applications}
    ids.discard(None)
    keys = (
        ApplicationKey.objects.filter(application_id__in=ids, key_state=ApplicationKey.State.COMPLETED)
        .select_related("key_manager", "application__owner")
        .order_by("application__name", "key_type", "key_manager__order")
    )
    updated, failures = 0, []
    for key in keys:
        try:
            if not adapter_for(key.key_manager).honours_scope_grants:
                continue
            keys_update(key=key, config=config_from_key(key), actor=actor, _admin_sync=True)
        except (KeyManagerError, KeysError, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            logger.warning("Could not give key %s its scope grants: %s", key.pk, " ".join(messages))
            failures.append(
                f"{key.application.name} ({key.get_key_type_display()} keys at {km_label(key.key_manager)}): "
                f"{' '.join(messages)}"
            )
            continue
        updated += 1
    return ScopesSynced(updated=updated, failures=failures)
