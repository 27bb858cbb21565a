"""Pages of the multiple-consumer-secrets area: the secrets list, + New Secret, delete.

The keys page (``keys.views``) includes ``templates/keys/secrets/_panel.html``; everything the
panel does also works here without JavaScript. ``?fragment=1`` returns only the panel's body
(toolbar, table, pagination) for the panel's fetch-based search, switch and paging.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from keys import views as keys_views
from keys.secrets import rules, selectors, services
from keys.secrets.forms import SecretCreateForm
from keys.selectors import key_for_user
from portal.errors import PortalError, page_error

FORM_PREFIX = "secret"


def _form_error(exc: PortalError) -> tuple[str, int]:
    """``page_error``'s message and status for the + New Secret form: a secrets rule's short
    message leads ("Maximum number of consumer secrets reached. The limit is …")."""
    message, status = page_error(exc)
    if isinstance(exc, rules.SecretError) and exc.message != message:
        message = f"{exc.message}. {message}"
    return message, status


def _safe_next(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _from_keys_page(next_url: str, key, env: str) -> bool:
    keys_page = reverse("application_keys", kwargs={"application_id": key.application_id, "env": env})
    return urlsplit(next_url).path == keys_page


def _secrets_url(key, env: str) -> str:
    return reverse("key_secrets", args=[key.application_id, env, key.pk])


@login_required
@require_http_methods(["GET"])
def secrets_page(request, application_id, env, key_id):
    key = key_for_user(user=request.user, application_id=application_id, env=env, key_id=key_id)
    now = timezone.now()
    query = request.GET.get("q", "").strip()[:200]
    include_expired = request.GET.get("expired") == "1"
    context = {
        "application": key.application,
        "key": key,
        "env": env,
        "q": query,
        "include_expired": include_expired,
        "next": _safe_next(request, _secrets_url(key, env)),
        "enabled": key.key_manager.multiple_secrets_enabled,
    }
    if context["enabled"]:
        paginator = Paginator(
            selectors.secrets_for_key(key=key, include_expired=include_expired, query=query, now=now),
            selectors.PAGE_SIZE,
        )
        page = paginator.get_page(request.GET.get("page"))
        last_use = selectors.last_use_of(key)
        context.update(
            page_obj=page,
            rows=selectors.table_rows(
                page.object_list,
                now=now,
                unexpired_count=selectors.unexpired_count(key=key, now=now),
                last_use=last_use,
            ),
            last_use=last_use,
            usage=selectors.secret_usage(key=key, now=now),
            form=SecretCreateForm(prefix=FORM_PREFIX),
        )
    if request.GET.get("fragment") == "1":
        return render(request, "keys/secrets/_body.html", context)
    return render(request, "keys/secrets/list.html", context)


@login_required
@never_cache  # the answer to a successful POST carries the secret's value
@require_http_methods(["GET", "POST"])
def secret_create(request, application_id, env, key_id):
    key = key_for_user(user=request.user, application_id=application_id, env=env, key_id=key_id)
    next_url = _safe_next(request, _secrets_url(key, env))
    form = SecretCreateForm(request.POST or None, prefix=FORM_PREFIX)
    context = {"application": key.application, "key": key, "env": env, "form": form, "next": next_url}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            created = services.secret_create(
                key=key,
                description=form.cleaned_data["description"],
                expires_at=form.expires_at(timezone.now()),
                actor=request.user,
            )
        except PortalError as exc:  # a secrets rule (SecretError) or the key manager failing
            message, status = _form_error(exc)
            form.add_error(None, message)
        else:
            # Rendered in the POST's own response: the value never goes to the session or a URL.
            if _from_keys_page(next_url, key, env):
                # From the keys page's dialog: shown there, like the first secret (issue 13).
                return keys_views.secret_created(request, key, env, created)
            context.update(created=created, expires_in=selectors.expires_in(created.secret, timezone.now()))
            return render(request, "keys/secrets/created.html", context)
    elif request.method == "GET":
        usage = selectors.secret_usage(key=key)
        if not key.key_manager.multiple_secrets_enabled:
            form.add_error(None, "Multiple consumer secrets are not enabled for this key manager.")
        elif usage.limit_reached:
            form.add_error(None, rules.LIMIT_MESSAGE)
    return render(request, "keys/secrets/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def secret_delete(request, application_id, env, key_id, secret_id):
    key = key_for_user(user=request.user, application_id=application_id, env=env, key_id=key_id)
    secret = selectors.secret_get(key=key, secret_id=secret_id)
    now = timezone.now()
    row = selectors.secret_row(
        secret,
        now=now,
        unexpired_count=selectors.unexpired_count(key=key, now=now),
        last_use=selectors.last_use_of(key),
    )
    next_url = _safe_next(request, _secrets_url(key, env))
    context = {
        "application": key.application,
        "key": key,
        "env": env,
        "secret": secret,
        "row": row,
        "next": next_url,
        # A refusal offers the way forward (+ New Secret), never only Back.
        "usage": selectors.secret_usage(key=key, now=now),
        "error": row.delete_refusal,
    }
    if request.method == "POST":
        try:
            services.secret_delete(key=key, secret=secret, actor=request.user)
        except PortalError as exc:  # a secrets rule (SecretError) or the key manager failing
            context["error"], status = page_error(exc)
            if isinstance(exc, rules.LastSecret):  # it became the last one since the page was shown
                context["row"] = replace(row, delete_refusal=selectors.LAST_SECRET_REASON)
            return render(request, "keys/secrets/delete.html", context, status=status)
        messages.success(request, "Secret deleted. Tokens issued with it stay valid until they expire.")
        return redirect(next_url)
    return render(request, "keys/secrets/delete.html", context)
