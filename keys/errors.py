"""Errors the keys services raise, with the HTTP status the REST API answers them with.

Key-manager failures are ``keymanagers.base.KeyManagerError`` (502) and bad input is Django's
``ValidationError`` (400); these cover the portal's own refusals.
"""

from __future__ import annotations


class KeysError(Exception):
    """A request the portal refuses: ``message`` is short (the status's title unless given),
    ``description`` says what to do. ``status`` is what the REST API answers with."""

    status = 400
    title = "Bad Request"
    code = "invalid"

    def __init__(self, description: str, *, message: str = ""):
        self.description = description
        self.message = message or self.title
        super().__init__(description)


class KeysConflict(KeysError):
    """The thing already exists (a key for this application, environment and key manager)."""

    status = 409
    title = "Conflict"


class KeysPartiallyCreated(KeysError):
    """The client was made at the key manager, a later step failed, and removing it failed too."""

    status = 502
    title = "Bad Gateway"


class KeysNotSaved(KeysError):
    """The portal could not save what the key manager made; the client was removed again."""

    status = 500
    title = "Internal Server Error"
