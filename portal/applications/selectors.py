"""Reads of the applications domain. Every lookup of an application is scoped to its owner here."""

from __future__ import annotations

import uuid

from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce, Lower
from django.http import Http404

from keys.models import ApplicationKey
from portal.models import ApiToken, Application


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


# The REST API's ``sortBy`` values (the reference's three, and our createdTime) → the ordering.
SORT_FIELDS = {
    "name": Lower("name"),
    "throttlingPolicy": Lower("throttling_policy"),
    "status": F("status"),
    "createdTime": F("created_at"),
}


def application_list(
    *, user, query: str = "", sort_by: str = "name", sort_order: str = "asc", with_keys: bool = False
) -> QuerySet[Application]:
    """The user's applications, optionally filtered by a name search, in a stable order.

    ``sort_by`` is ``name`` (without case), ``throttlingPolicy``, ``status`` or ``createdTime``
    (``SORT_FIELDS``, the REST API's names); ``with_keys`` loads every
    application's keys and their key managers in one more query, whatever the number of rows.
    """
    qs = Application.objects.filter(owner=user).select_related("owner")
    query = (query or "").strip()
    if query:
        qs = qs.filter(name__icontains=query)
    field = SORT_FIELDS[sort_by]
    descending = sort_order == "desc"
    # The id breaks ties so that offset pagination never repeats or skips a row.
    qs = qs.order_by(field.desc() if descending else field.asc(), "-id" if descending else "id")
    if with_keys:
        qs = qs.prefetch_related(_keys_prefetch())
    return qs


#: The columns the applications page shows (``attributes`` and the owner are not read there).
LIST_PAGE_FIELDS = ("id", "name", "description", "token_type", "created_at")


def application_list_page(*, user, query: str = "") -> QuerySet[Application]:
    """``application_list`` as the applications page shows it: its columns only, and each row's
    ``key_count`` from a correlated subquery. PostgreSQL computes that subquery for the rows of
    the page only, and ``count()`` (the paginator's) leaves it out: neither query joins or groups
    all of a developer's keys, however many applications they have (issue 14)."""
    key_count = (
        ApplicationKey.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        application_list(user=user, query=query)
        .select_related(None)
        .only(*LIST_PAGE_FIELDS)
        .annotate(key_count=Coalesce(Subquery(key_count), 0))
    )


def _keys_prefetch() -> Prefetch:
    return Prefetch(
        "keys", queryset=ApplicationKey.objects.select_related("key_manager").order_by("created_at")
    )


def application_with_keys(application: Application) -> Application:
    """Load ``application.keys`` with their key managers in one query (the API shows them)."""
    prefetch_related_objects([application], _keys_prefetch())
    return application


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get(*, user, token_id) -> ApiToken:
    """The user's API token with this id, or Http404."""
    try:
        return ApiToken.objects.get(pk=token_id, user=user)
    except (ApiToken.DoesNotExist, ValueError):
        raise Http404("No such API token") from None
