"""The portal's one error family, and the one mapping from an error to what a request gets.

Services raise Django's ``ValidationError`` for bad input (400, field by field) and a
``PortalError`` for everything else they refuse or cannot do. Each ``PortalError`` carries what
both the pages and the REST API answer with: ``status`` (HTTP), a stable ``code``, a short
``message`` (the status's ``title`` unless given) and a ``description`` saying what to do. The family:

- ``keys.errors.KeysError`` and its subclasses (conflicts, partial creation, the secrets rules);
- ``keymanagers.base.KeyManagerError`` (502: the key manager failed) and ``NotSupported`` (400: it
  cannot do this at all). Their ``status`` and ``message`` are the remote server's side (its HTTP
  status and words), so their ``answer()`` says what the portal answers instead;
- ``portal.applications.services.DuplicateApplicationName`` (409).

``answer(exc)`` is the one mapper: ``portal.api_errors.exception_handler`` (the only DRF exception
handler) and the pages (``page_error``) both read it, so a refusal has the same status everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import ValidationError


class PortalError(Exception):
    """A request the portal refuses or cannot carry out (not bad input: that is ``ValidationError``)."""

    status: int = 400
    title: str = "Bad Request"
    code: str = "invalid"

    def __init__(self, description: str, *, message: str = ""):
        self.description = description
        self.message = message or self.title
        super().__init__(description)

    def answer(self) -> Answer:
        return Answer(self.status, self.message, self.description)


class Answer(NamedTuple):
    status: int
    message: str  # short: the status's title unless the error gives its own
    description: str  # what happened and what to do


def answer(exc: PortalError | ValidationError) -> Answer:
    """What a page or the REST API answers ``exc`` with."""
    if isinstance(exc, ValidationError):
        return Answer(400, "Bad Request", " ".join(exc.messages))
    if isinstance(exc, PortalError):
        return exc.answer()
    raise TypeError(f"not a portal error: {exc!r}")


def page_error(exc: PortalError | ValidationError) -> tuple[str, int]:
    """The message a page shows for ``exc``, and its HTTP status."""
    status, _message, description = answer(exc)
    return description, status
