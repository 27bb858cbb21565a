"""What ``keymanagers`` asks of the apps built on it, without importing them.

``keys`` depends on ``keymanagers``; the reverse edge would be a cycle, so the few things a key
manager needs from above are hooks that ``keys`` registers at start-up (``keys/apps.py``), in the
open and in one place. A hook nobody registered answers as if the portal held nothing.

- ``scope_catalogue``: the scopes admins define (``keys.Scope``), for the resident server's
  discovery, consent page and token requests. The catalogue has one owner, ``keys``; the
  resident server only reads it.
- ``client_holder``: which application key holds a resident OAuth client (its admin page says).
- ``key_manager_admin_actions`` and ``multiple_secrets_switched_on``: what the key-manager admin
  offers and does for the secrets that ``keys`` stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple


class ScopeRow(NamedTuple):
    name: str
    display_name: str
    description: str
    restricted: bool


#: ``(names or None) -> rows``: the defined scopes among ``names``, or all of them for None.
scope_catalogue: Callable[[set[str] | None], Iterable[ScopeRow]] = lambda names: ()  # noqa: E731
#: ``(client_id) -> description or None``: the key holding this resident client.
client_holder: Callable[[str], str | None] = lambda client_id: None  # noqa: E731
#: ``(client_id) -> application name or None``: the application holding this resident client.
client_application: Callable[[str], str | None] = lambda client_id: None  # noqa: E731
#: Admin actions on key managers, in the order offered.
key_manager_admin_actions: list[Callable[..., Any]] = []
#: ``(key_manager, actor) -> how many secrets were masked``, run when an admin switches multiple secrets on.
multiple_secrets_switched_on: list[Callable[..., int]] = []


def register(
    *,
    scopes: Callable[[set[str] | None], Iterable[ScopeRow]],
    holder: Callable[[str], str | None],
    application: Callable[[str], str | None] = lambda client_id: None,
    admin_actions: Iterable[Callable[..., Any]] = (),
    on_multiple_secrets: Iterable[Callable[..., int]] = (),
) -> None:
    """Called once by the app that owns scopes and keys (``keys.apps.KeysConfig.ready``)."""
    global scope_catalogue, client_holder, client_application
    scope_catalogue = scopes
    client_holder = holder
    client_application = application
    key_manager_admin_actions[:] = list(admin_actions)
    multiple_secrets_switched_on[:] = list(on_multiple_secrets)
