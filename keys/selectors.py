"""Reads on keys: key managers offered to developers, an application's keys, scopes.

Every key lookup goes through an application the caller already got from
``portal.applications.selectors.application_get`` (owner-scoped), so someone else's key is a 404 here too.
"""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from keymanagers.hooks import ScopeRow
from keymanagers.models import KeyManager
from keys.models import ApplicationKey, ConsumerSecret, KeyType, Scope
from portal.applications.selectors import application_get

ENVIRONMENTS = {"production": KeyType.PRODUCTION, "sandbox": KeyType.SANDBOX}
#: Set in a key's adapter state while ``keys.secrets.services`` keeps its client disabled at the key
#: manager because every secret expired (Okta would not delete the last one).
CLIENT_DISABLED_FOR_EXPIRY = "deactivated_for_expiry"


def key_type_for_env(env: str) -> str:
    """``production`` / ``sandbox`` (the URL's spelling) → the ``KeyType`` value, or Http404."""
    try:
        return ENVIRONMENTS[env]
    except KeyError:
        raise Http404("No such environment") from None


def key_managers_enabled() -> QuerySet[KeyManager]:
    """The key managers developers may use, in tab order (Resident first: its ``order`` is 0)."""
    return KeyManager.objects.filter(enabled=True).order_by("order", "id")


def key_manager_get_enabled(*, name: str) -> KeyManager | None:
    return key_managers_enabled().filter(name=name).first()


def _with_details(qs: QuerySet[ApplicationKey]) -> QuerySet[ApplicationKey]:
    return qs.select_related("key_manager", "application").prefetch_related(
        Prefetch("secrets", queryset=ConsumerSecret.objects.order_by("-created_at"))
    )


def keys_for_application(*, application, key_type: str | None = None) -> QuerySet[ApplicationKey]:
    qs = ApplicationKey.objects.filter(application=application)
    if key_type:
        qs = qs.filter(key_type=key_type)
    return _with_details(qs).order_by("key_type", "key_manager__order", "created_at")


def key_get(*, application, key_id) -> ApplicationKey:
    """The application's key with this id (``keyMappingId``), or Http404."""
    try:
        key_id = uuid.UUID(str(key_id))
    except ValueError:
        raise Http404("No such key") from None
    key = _with_details(ApplicationKey.objects.filter(application=application, pk=key_id)).first()
    if key is None:
        raise Http404("No such key")
    return key


def key_for_user(*, user, application_id, key_id, env: str | None = None) -> ApplicationKey:
    """The user's key of this application (and of this environment, where the URL names one), or
    Http404: the one owner-scoped key lookup of the pages and the REST API."""
    application = application_get(user=user, application_id=application_id)
    key_type = key_type_for_env(env) if env is not None else None
    key = key_get(application=application, key_id=key_id)
    if key_type is not None and key.key_type != key_type:
        raise Http404("No such key")
    key.application = application  # already loaded (with its owner): saves a query later
    return key


def key_find(*, application, key_type: str, key_manager) -> ApplicationKey | None:
    """The key for this application, environment and key manager, if there is one (the keys
    page's). Its secrets are not prefetched: the page reads the first page of them and their
    counts (``keys.secrets.selectors.secrets_panel``), never all of a key's secrets.

    The application and key manager the caller holds become the key's own (no join): at most one
    key matches (a unique constraint), so no ordering either.
    """
    try:
        key = ApplicationKey.objects.get(application=application, key_type=key_type, key_manager=key_manager)
    except ApplicationKey.DoesNotExist:
        return None
    key.application = application
    key.key_manager = key_manager
    return key


def scopes_list(*, application=None) -> QuerySet[Scope]:
    """The scopes a key of ``application`` may get: every unrestricted one and those granted to it.

    Without an application, only the unrestricted ones: another application's restricted scopes
    are never shown.
    """
    allowed = Q(restricted=False)
    if application is not None:
        allowed |= Q(
            pk__in=Scope.applications.through.objects.filter(application=application).values("scope")
        )
    return Scope.objects.filter(allowed).order_by("name")


def scopes_for_user(*, user) -> QuerySet[Scope]:
    """The scopes ``user`` may use: unrestricted ones, and those granted to any of their applications."""
    granted = Scope.applications.through.objects.filter(application__owner=user).values("scope")
    return Scope.objects.filter(Q(restricted=False) | Q(pk__in=granted)).order_by("name")


def key_client_disabled_for_expiry(key: ApplicationKey) -> bool:
    """Whether the key's client is disabled at its key manager because all its secrets expired.
    Read from the key's own row (its adapter state): no query."""
    return bool(key.get_remote_state().get(CLIENT_DISABLED_FOR_EXPIRY))


def scope_rows(names: set[str] | None) -> list[ScopeRow]:
    """The scope catalogue as the resident server reads it (``keymanagers.hooks.scope_catalogue``):
    the defined scopes among ``names``, or every one for None, in one query."""
    rows = Scope.objects.all() if names is None else Scope.objects.filter(name__in=names)
    return [ScopeRow(*row) for row in rows.values_list("name", "display_name", "description", "restricted")]


def resident_client_application(client_id: str) -> str | None:
    """The name of the application holding this resident client (``keymanagers.hooks``), or None."""
    return (
        ApplicationKey.objects.filter(consumer_key=client_id, key_manager__type=KeyManager.Type.RESIDENT)
        .values_list("application__name", flat=True)
        .first()
    )


def resident_client_holder(client_id: str) -> str | None:
    """Which key holds this resident client (``keymanagers.hooks.client_holder``), or None."""
    key = (
        ApplicationKey.objects.filter(consumer_key=client_id, key_manager__type=KeyManager.Type.RESIDENT)
        .select_related("application")
        .first()
    )
    if key is None:
        return None
    return f"{key.get_key_type_display()} key of the application “{key.application}”"
