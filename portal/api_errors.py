"""JSON errors for the REST API, in the reference portal's shape.

Every error the API returns is ``{"code": <number>, "message": <short>, "description": <detail>}``,
``code`` being the reference's own number where it documents one (``REFERENCE_CODES``) and the
HTTP status otherwise;
validation errors add ``"error": [{"code": <reason>, "message": "<field>: <text>"}]``. This is the
only DRF exception handler: the services' ``PortalError`` family and ``ValidationError`` reach it
as they are and are answered by ``portal.errors.answer``, the mapping the pages use too.
``ApiError`` remains for the API's own answers that no service raises (a bad query parameter).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from portal.errors import PortalError, answer

logger = logging.getLogger(__name__)


# The reference implementation's own error codes (its ExceptionCodes) for the refusals it documents
# with one, by our error's ``code``; every other error's ``code`` is its HTTP status, as the
# reference answers its generic bad-request / not-found / conflict errors.
REFERENCE_CODES = {
    "conflict": 901409,  # KEY_MAPPING_ALREADY_EXIST: keys already exist (409)
    "insufficient_scope": 900910,  # INVALID_SCOPE: the token lacks the operation's scope (403)
}


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def error_body(
    code: int, description: str, *, message: str | None = None, errors: list | None = None
) -> dict:
    body: dict[str, Any] = {"code": code, "message": message or _phrase(code), "description": description}
    if errors is not None:
        body["error"] = errors
    return body


class ApiError(exceptions.APIException):
    """An API error with an explicit status, short message and description.

    ``raise ApiError(409, "Conflict", "An application named 'x' already exists")``; ``message``
    defaults to the status phrase. ``errors`` is the optional list of per-field items.
    """

    def __init__(
        self,
        status_code: int,
        message: str | None = None,
        description: str = "",
        *,
        errors=None,
        reference_code: int | None = None,
    ):
        self.status_code = status_code
        self.reference_code = reference_code
        self.message = message or _phrase(status_code)
        self.description = description or self.message
        self.errors = errors
        super().__init__(detail=self.description)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.IntegerField()
    message = serializers.CharField()
    description = serializers.CharField()
    error = inline_serializer(
        "ErrorListItem",
        fields={"code": serializers.CharField(), "message": serializers.CharField()},
        many=True,
        required=False,
    )


def documented_errors(descriptions: dict[int, str], *codes: int) -> dict:
    """OpenAPI responses for ``codes``: the error body, with this API's description of each."""
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes}


def _flatten(detail: Any, field: str = "") -> list[dict]:
    """DRF's nested validation detail → ``[{"code", "message": "field: text"}]``."""
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = field if key == "non_field_errors" else (f"{field}.{key}" if field else str(key))
            items.extend(_flatten(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            # A list of errors for one field, or a list of nested objects (one per list item).
            name = f"{field}[{index}]" if isinstance(value, dict | list) else field
            items.extend(_flatten(value, name))
    else:
        code = getattr(detail, "code", "invalid")
        items.append({"code": code, "message": f"{field}: {detail}" if field else str(detail)})
    return items


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every error becomes the JSON body above."""
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if isinstance(exc, ApiError):
        body = error_body(
            exc.reference_code or exc.status_code, exc.description, message=exc.message, errors=exc.errors
        )  # ``message`` is the status phrase unless the error gives its own
        code = exc.status_code
    elif isinstance(exc, exceptions.ValidationError):
        items = _flatten(exc.detail)
        code = status.HTTP_400_BAD_REQUEST
        description = "; ".join(item["message"] for item in items) or "Invalid input."
        body = error_body(code, description, errors=items)
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = (
            exc.detail
            if isinstance(exc.detail, str)
            else "; ".join(i["message"] for i in _flatten(exc.detail))
        )
        # A DRF permission class sets its refusal's code (``code = "insufficient_scope"``): the
        # reference's number for it, where it has one.
        number = getattr(exc, "reference_code", None) or REFERENCE_CODES.get(
            getattr(exc.detail, "code", ""), code
        )
        body = error_body(number, str(detail), message=_phrase(code))
    elif isinstance(exc, PortalError | DjangoValidationError):
        # The services' refusals (a failed key manager is a 502 naming it), as the pages answer them.
        code, message, description = answer(exc)
        body = error_body(REFERENCE_CODES.get(getattr(exc, "code", ""), code), description, message=message)
    else:
        # Unexpected: log it with its traceback, answer JSON without internals.
        logger.exception("Unhandled API error in %s", context.get("view").__class__.__name__)
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = error_body(code, "The server could not complete the request.")

    set_rollback()
    return Response(body, status=code, headers=headers)


@csrf_exempt  # a POST to a URL that does not exist is a 404, not a CSRF failure page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown URLs under the API prefix answer JSON, not the HTML 404 page, for every method."""
    return JsonResponse(error_body(404, f"No API resource at {request.path}"), status=404)
