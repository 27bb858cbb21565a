"""Writes on keys: generation, configuration, secrets, tokens. Views and API call these."""

from __future__ import annotations

from django.db import transaction

from keymanagers.base import ClientRef, adapter_for


def keys_delete_all(*, application, actor=None) -> None:
    """Delete every key of ``application`` at its key manager, then locally (application delete)."""
    for key in application.keys.select_related("key_manager"):
        if key.consumer_key:
            adapter_for(key.key_manager).delete_client(ClientRef(key.consumer_key, key.get_remote_state()))
        with transaction.atomic():
            key.delete()
