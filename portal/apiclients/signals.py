"""A new password ends the user's REST API clients, as it ends their personal API tokens.

Whoever knew the old password could have registered a client; its secret does not depend on the
password, so the clients (with their secrets and tokens) are deleted. Connected in
``ApiClientsConfig.ready``; ``portal.accounts.signals`` explains the ``_password`` marker.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.apiclients.services import api_clients_delete_all


# A signal, like the API tokens' (portal.accounts.signals): only the user's save sees every new password.
@receiver(post_save, sender=get_user_model())
def end_api_clients_on_password_change(sender, instance, created, **kwargs):
    if created or getattr(instance, "_password", None) is None:
        return
    api_clients_delete_all(instance, reason="password changed")
