"""Reads of the applications domain. Every lookup of an application is scoped to its owner here."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from portal.models import ApiToken, Application

SORT_FIELDS = {"name": "name", "createdTime": "created_at"}


def application_get(*, user, application_id) -> Application:
    """The user's application with this id, or Http404 (someone else's application is a 404 too)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such application")
    try:
        application_id = uuid.UUID(str(application_id))
    except ValueError:
        raise Http404("No such application") from None
    try:
        return Application.objects.select_related("owner").get(pk=application_id, owner=user)
    except Application.DoesNotExist:
        raise Http404("No such application") from None


def application_list(
    *, user, query: str = "", sort_by: str = "name", sort_order: str = "asc", with_keys: bool = False
) -> QuerySet[Application]:
    """The user's applications, optionally filtered by a name search, in a stable order."""
    qs = Application.objects.filter(owner=user).select_related("owner")
    query = (query or "").strip()
    if query:
        qs = qs.filter(name__icontains=query)
    field = SORT_FIELDS.get(sort_by, "name")
    prefix = "-" if sort_order == "desc" else ""
    # The id breaks ties so that offset pagination never repeats or skips a row.
    qs = qs.order_by(f"{prefix}{field}", f"{prefix}id")
    if with_keys:
        from keys.models import ApplicationKey

        qs = qs.prefetch_related(
            Prefetch(
                "keys", queryset=ApplicationKey.objects.select_related("key_manager").order_by("created_at")
            )
        )
    return qs


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
