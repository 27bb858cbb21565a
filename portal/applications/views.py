"""Pages of the applications domain: the applications list, create, overview, edit, delete, and API tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from keymanagers.base import KeyManagerError
from portal.applications import selectors, services
from portal.applications.forms import ApiTokenForm, ApplicationForm
from portal.errors import page_error
from portal.models import Application

APPLICATIONS_PER_PAGE = 20
#: Reversed once per request; each row's overview URL swaps in its own id (reverse() per row was
#: a fifth of the applications page's work: issue 14).
_URL_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class ApplicationRow:
    """One row of the applications page, formatted in Python rather than by template filters."""

    application: Application
    url: str
    description: str  # at most 90 characters (``truncatechars:90``)
    created_iso: str  # ``date:'c'``
    created_text: str  # ``date:"Y-m-d H:i"``

    @classmethod
    def rows(cls, applications) -> list[ApplicationRow]:
        url = reverse("application_detail", kwargs={"application_id": _URL_ID})
        return [
            cls.of(application, url, timezone.localtime(application.created_at))
            for application in applications
        ]

    @classmethod
    def of(cls, application: Application, url: str, created: datetime) -> ApplicationRow:
        return cls(
            application=application,
            url=url.replace(str(_URL_ID), str(application.pk)),
            description=Truncator(application.description).chars(90) if application.description else "",
            created_iso=created.isoformat(),
            created_text=f"{created.year:04d}-{created:%m-%d %H:%M}",
        )


def home(request):
    return redirect("applications" if request.user.is_authenticated else "login")


@login_required
def applications(request):
    query = request.GET.get("q", "").strip()
    qs = selectors.application_list_page(user=request.user, query=query)
    page = Paginator(qs, APPLICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "applications/list.html", {"page": page, "rows": ApplicationRow.rows(page), "q": query}
    )


@login_required
def application_create(request):
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        application = form.save(user=request.user)
        if application is not None:
            messages.success(request, f"Application “{application.name}” created. Generate its keys next.")
            return redirect("application_detail", application_id=application.pk)
    return render(request, "applications/form.html", {"form": form, "application": None})


@login_required
def application_detail(request, application_id):
    application = selectors.application_get(user=request.user, application_id=application_id)
    keys = application.keys.select_related("key_manager").order_by("key_type", "key_manager__order")
    context = {
        "application": application,
        "keys": keys,
        "attributes": services.visible_attributes(application),
        "active": "overview",
    }
    return render(request, "applications/detail.html", context)


@login_required
def application_edit(request, application_id):
    application = selectors.application_get(user=request.user, application_id=application_id)
    initial = {
        "name": application.name,
        "description": application.description,
        "token_type": application.token_type,
    }
    # A new token type reaches the existing keys at once: the service updates their clients.
    form = ApplicationForm(request.POST or None, initial=initial, application=application)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = form.save(user=request.user, application=application)
        except KeyManagerError as exc:
            saved = None
            form.add_error(
                None,
                f"The application was not changed: {exc}. Its keys keep the token type "
                f"{application.get_token_type_display()}; try again later.",
            )
            _message, status = page_error(exc)
        if saved is not None:
            messages.success(request, "Application updated.")
            return redirect("application_detail", application_id=application.pk)
        # A failed save may have changed the instance in memory: show the stored values again.
        application.refresh_from_db()
    return render(
        request, "applications/form.html", {"form": form, "application": application}, status=status
    )


@login_required
def application_delete(request, application_id):
    application = selectors.application_get(user=request.user, application_id=application_id)
    if request.method == "POST":
        try:
            services.application_delete(application=application, actor=request.user)
        except KeyManagerError as exc:
            messages.error(request, f"The application was not deleted: {exc}. Try again later.")
            return redirect("application_detail", application_id=application.pk)
        messages.success(request, f"Application “{application.name}” deleted.")
        return redirect("applications")
    key_count = application.keys.count()
    return render(
        request, "applications/confirm_delete.html", {"application": application, "key_count": key_count}
    )


@login_required
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        token, value = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        # Shown in this response only: the value is not stored and a reload will not bring it back.
        new_token = {"name": token.name, "value": value, "expires_at": token.expires_at}
        form = ApiTokenForm()
    tokens = selectors.api_token_list(user=request.user)
    response = render(
        request, "api_tokens/list.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = selectors.api_token_get(user=request.user, token_id=token_id)
    services.api_token_revoke(api_token=token, actor=request.user)
    messages.success(request, f"API token “{token.name}” revoked. Requests that use it are now refused.")
    return redirect("api_tokens")
