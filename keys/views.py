"""Pages of the keys area: Production / Sandbox keys of an application, one tab per key manager.

Secrets and tokens are shown once, in the response to the POST that made them (never through
the session or a redirect); everything else redirects after a successful POST. Every page here
may carry a secret (a rotated or revealable one, a token), so none may be cached (``never_cache``).
A service's refusal is answered by ``keys.page.refused``, with the status the REST API would give
(``portal.errors.page_error``). A GET on an action URL (a reload, a bookmark, a shared link)
redirects to the keys page. The page's context is built in ``keys.page``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from keymanagers.base import adapter_for
from keys import selectors, services, tokens
from keys.forms import GenerateKeysForm, KeyConfigForm, MapKeysForm, TokenForm
from keys.models import KeyType
from keys.page import page_url, refused, render_keys_page
from portal.applications.selectors import application_get
from portal.errors import PortalError, page_error

#: What the keys services raise for a request they do not carry out (``portal.errors``); a key
#: manager that cannot be reached (``KeyManagerError``) is one of them.
SERVICE_ERRORS = (ValidationError, PortalError)


def _key_manager(name: str):
    km = selectors.key_manager_get_enabled(name=name)
    if km is None:
        raise Http404("No such key manager")
    return km


def _key(request, application_id, env, key_id):
    key = selectors.key_for_user(user=request.user, application_id=application_id, env=env, key_id=key_id)
    return key.application, key


def secret_created(request, key, env: str, created):
    """The keys page answering + New Secret's dialog: the new value (``CreatedSecret``) shown once
    at the top, as the first secret is after Generate Keys (one pattern for one-time values).
    Called by ``keys.secrets.views.secret_create`` for a POST that came from this page."""
    return render_keys_page(request, key.application, env, km_name=key.key_manager.name, created=created)


@login_required
@never_cache
def keys_page(request, application_id, env):
    application = application_get(user=request.user, application_id=application_id)
    return render_keys_page(request, application, env, km_name=request.GET.get("km"))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_generate(request, application_id, env, km):
    application = application_get(user=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect(page_url(application, env, km))
    key_type = selectors.key_type_for_env(env)
    key_manager = _key_manager(km)
    form = None
    try:
        form = GenerateKeysForm(
            request.POST,
            adapter=adapter_for(key_manager),
            multiple_secrets=key_manager.multiple_secrets_enabled,
        )
        if not form.is_valid():
            return render_keys_page(request, application, env, km_name=km, generate_form=form, status=400)
        generated = services.keys_generate(
            application=application,
            key_type=key_type,
            key_manager=key_manager,
            config=form.config_data(),
            actor=request.user,
            secret_description=form.cleaned_data.get("secret_description", ""),
            secret_expires_at=form.secret_expires_at(),
        )
    except SERVICE_ERRORS as exc:
        return refused(request, application, env, km, exc, form=form, generate_form=form)
    return render_keys_page(request, application, env, km_name=km, generated=generated)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_map(request, application_id, env, km):
    application = application_get(user=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect(page_url(application, env, km))
    key_type = selectors.key_type_for_env(env)
    key_manager = _key_manager(km)
    form = MapKeysForm(request.POST, prefix="map")
    if not form.is_valid():
        return render_keys_page(request, application, env, km_name=km, map_form=form, status=400)
    try:
        services.keys_map(
            application=application,
            key_type=key_type,
            key_manager=key_manager,
            consumer_key=form.cleaned_data["consumer_key"],
            consumer_secret=form.cleaned_data["consumer_secret"],
            actor=request.user,
        )
    except SERVICE_ERRORS as exc:
        return refused(request, application, env, km, exc, form=form, map_form=form)
    messages.success(request, f"The existing OAuth keys are now used for {KeyType(key_type).label}.")
    return redirect(page_url(application, env, km))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_update(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(page_url(application, env, km))
    form = None
    try:
        form = KeyConfigForm(request.POST, adapter=adapter_for(key.key_manager), key=key, prefix="update")
        if not form.is_valid():
            return render_keys_page(request, application, env, km_name=km, update_form=form, status=400)
        updated = services.keys_update(key=key, config=form.config_data(), actor=request.user)
    except SERVICE_ERRORS as exc:
        return refused(request, application, env, km, exc, form=form, update_form=form)
    if updated.consumer_secret:
        # The key manager rotated the secret with the update: show the new one, once.
        return render_keys_page(request, application, env, km_name=km, new_secret=updated.consumer_secret)
    messages.success(request, "Keys updated.")
    return redirect(page_url(application, env, km))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_remove(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    ctx = {"application": application, "env": env, "key": key, "env_label": key.get_key_type_display()}
    if request.method == "POST":
        try:
            services.keys_delete(key=key, actor=request.user)
        except SERVICE_ERRORS as exc:
            message, status = page_error(exc)
            return render(request, "keys/confirm_remove.html", {**ctx, "error": message}, status=status)
        messages.success(request, f"{key.get_key_type_display()} keys at {key.key_manager} removed.")
        return redirect(page_url(application, env, key.key_manager.name))
    return render(request, "keys/confirm_remove.html", ctx)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def secret_regenerate(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "POST":
        try:
            value = services.secret_regenerate(key=key, actor=request.user)
        except SERVICE_ERRORS as exc:
            return refused(request, application, env, km, exc)
        return render_keys_page(request, application, env, km_name=km, new_secret=value)
    ctx = {"application": application, "env": env, "key": key, "env_label": key.get_key_type_display()}
    return render(request, "keys/confirm_regenerate.html", ctx)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_generate(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(page_url(application, env, km))
    stored = services.stored_secret_value(key)
    form = TokenForm(
        request.POST,
        prefix="token",
        scopes=selectors.scopes_list(application=application),
        needs_secret=not stored,
        validity_default=key.application_access_token_expiry_time,
    )
    if not form.is_valid():
        return render_keys_page(
            request, application, env, km_name=km, token_form=form, token_dialog_open=True, status=400
        )
    try:
        result = tokens.token_generate(
            key=key,
            consumer_secret=form.cleaned_data.get("consumer_secret", ""),
            scopes=form.cleaned_data["scopes"],
            validity_period=form.cleaned_data["validity_period"],
            revoke_previous=form.cleaned_data["revoke_previous"],
            actor=request.user,
        )
    except SERVICE_ERRORS as exc:
        return refused(request, application, env, km, exc, form=form, token_form=form, token_dialog_open=True)
    return render_keys_page(request, application, env, km_name=km, new_token=result)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_clean_up(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(page_url(application, env, km))
    try:
        services.keys_clean_up(key=key, actor=request.user)
    except SERVICE_ERRORS as exc:
        return refused(request, application, env, km, exc)
    messages.success(request, "The partially created keys were cleaned up. You can generate keys again.")
    return redirect(page_url(application, env, km))
