"""The reference portal's formats for the REST API: times, and bodies that name what they do not know.

- ``createdTime``/``updatedTime`` are epoch milliseconds in a string (``"1651555310208"``), a
  secret's ``expiresAt`` integer epoch seconds, as the reference's Devportal API v3 answers them.
- ``StrictSerializer``: a field the body sends that the operation does not define is a 400 naming
  it and what is supported (nothing in a request is silently ignored). Fields the reference defines
  for features the portal does not have are listed in ``ignored_fields``: accepted, documented as
  ignored, never stored.
"""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def epoch_millis(value: datetime | None) -> str | None:
    return None if value is None else str(int(value.timestamp() * 1000))


def epoch_seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


@extend_schema_field({"type": "string", "example": "1651555310208"})
class EpochMillisField(serializers.Field):
    """A time as the reference answers it: epoch milliseconds, as a string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", 'Epoch milliseconds, as a string (e.g. "1651555310208").')
        super().__init__(**kwargs)

    def to_representation(self, value):
        return epoch_millis(value)


@extend_schema_field({"type": "integer", "format": "int64", "nullable": True, "example": 1761568483})
class EpochSecondsField(serializers.Field):
    """A time as integer epoch seconds (null: never)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return epoch_seconds(value)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not define, except the reference's ``ignored_fields``."""

    ignored_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - set(self.ignored_fields))
            if unknown:
                supported = ", ".join(sorted(set(self.fields) | set(self.ignored_fields)))
                raise serializers.ValidationError(
                    {name: [f"Unknown field. Supported fields: {supported}."] for name in unknown}
                )
        return super().to_internal_value(data)


class NoStoreMixin:
    """For views whose responses may carry a secret or a token: no cache may keep them
    (``Cache-Control: no-store``, as RFC 6749 asks of token responses)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response
