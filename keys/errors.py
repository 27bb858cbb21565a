"""Errors the keys services raise: the keys branch of the portal's error family (``portal.errors``).

Key-manager failures are ``keymanagers.base.KeyManagerError`` (502) and bad input is Django's
``ValidationError`` (400); these cover the portal's own refusals.
"""

from __future__ import annotations

from portal.errors import PortalError


class KeysError(PortalError):
    """A request the portal refuses: ``message`` is short (the status's title unless given),
    ``description`` says what to do. ``status`` is what pages and the REST API answer with."""


class KeysConflict(KeysError):
    """The thing already exists (a key for this application, environment and key manager)."""

    status = 409
    title = "Conflict"
    code = "conflict"


class KeysPartiallyCreated(KeysError):
    """The client was made at the key manager, a later step failed, and removing it failed too."""

    status = 502
    title = "Bad Gateway"
    code = "partially_created"


class KeysNotSaved(KeysError):
    """The portal could not save what the key manager made; the client was removed again."""

    status = 500
    title = "Internal Server Error"
    code = "not_saved"
