"""Pages of the keys area: Production / Sandbox keys of an application, one tab per key manager.

Secrets and tokens are shown once, in the response to the POST that made them (never through
the session or a redirect); everything else redirects after a successful POST. Every page here
may carry a secret (a rotated or revealable one, a token), so none may be cached (``never_cache``).
A service's refusal is answered by ``_refused``, with the status the REST API would give.
A GET on an action URL (a reload, a bookmark, a shared link) redirects to the keys page.
"""

from __future__ import annotations

import shlex
from urllib.parse import quote as urlquote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from keymanagers.base import KeyManagerError, adapter_for
from keymanagers.models import GrantType
from keys import selectors, services, tokens
from keys.forms import (
    GenerateKeysForm,
    KeyConfigForm,
    MapKeysForm,
    TokenForm,
    focus_first_error,
    put_errors,
)
from keys.models import ApplicationKey, KeyType
from keys.secrets import selectors as secret_selectors
from portal import crypto
from portal.applications.selectors import application_get
from portal.errors import PortalError, page_error

SECRETS_PANEL = "keys/secrets/_panel.html"


def _secrets_panel(key) -> dict:
    """Context for the secrets panel (multiple-secret mode), built from the key's prefetched secrets."""
    return {"secrets_panel_template": SECRETS_PANEL, "secrets_panel": secret_selectors.secrets_panel(key=key)}


def _page_url(application, env: str, km_name: str | None = None) -> str:
    url = reverse("application_keys", kwargs={"application_id": application.pk, "env": env})
    return f"{url}?km={urlquote(km_name)}" if km_name else url


#: The forms of the keys page that a POST may send back with errors.
FORM_NAMES = ("generate_form", "map_form", "update_form", "token_form")
#: Shown under the consumer secret field of Generate Access Token while the one-time box is on
#: the page: the value to paste is right there, and the page cannot show it again.
PASTE_HINT = "Paste the consumer secret shown above."


def _key_manager(name: str):
    km = selectors.key_manager_get_enabled(name=name)
    if km is None:
        raise Http404("No such key manager")
    return km


def _key(request, application_id, env, key_id):
    key = selectors.key_for_user(user=request.user, application_id=application_id, env=env, key_id=key_id)
    return key.application, key


#: Step 1 of the cURL dialog: the secret goes into a variable without being echoed or written to
#: the shell's history (``read -s``; bash and zsh), exported for the commands run after it.
CURL_SECRET_COMMAND = "read -rs CONSUMER_SECRET && export CONSUMER_SECRET"


def _double_quoted(value: str) -> str:
    # Inside "…" the shell still expands $ ` \ and ": escape them, so the key pastes as it is.
    return "".join("\\" + c if c in '\\"$`' else c for c in value)


def _curl(token_endpoint: str, consumer_key: str) -> str:
    """Step 2: runs as pasted once CONSUMER_SECRET is set (a placeholder such as <CONSUMER_SECRET>
    would be sent as the secret and get invalid_client)."""
    return (
        f"curl -X POST {shlex.quote(token_endpoint or '<TOKEN_ENDPOINT>')} \\\n"
        f'  -u "{_double_quoted(consumer_key)}:$CONSUMER_SECRET" \\\n'
        '  -d "grant_type=client_credentials"'
    )


def _scope_row(name: str, scope) -> dict:
    if scope is None:  # a scope the server granted that the portal does not define
        return {"name": name, "display_name": name, "description": ""}
    return {"name": name, "display_name": scope.display_name or name, "description": scope.description}


#: What the keys services raise for a request they do not carry out (``portal.errors``).
SERVICE_ERRORS = (ValidationError, PortalError)


def _refused(request, application, env: str, km_name: str, exc: Exception, *, form=None, **form_context):
    """The keys page answering ``exc``: a ``ValidationError`` goes onto ``form`` (its fields),
    re-rendered with ``form_context``; anything else is the page's error message."""
    if isinstance(exc, ValidationError) and form is not None:
        put_errors(form, exc)
        return _render(request, application, env, km_name=km_name, status=400, **form_context)
    message, status = page_error(exc)
    return _render(request, application, env, km_name=km_name, error=message, status=status)


def _render(request, application, env: str, *, km_name: str | None = None, status: int = 200, **extra):
    """The keys page for one environment and key manager; ``extra`` carries bound forms, an
    error message, or the once-only values of the POST being answered."""
    key_type = selectors.key_type_for_env(env)
    key_managers = list(selectors.key_managers_enabled())
    km = None
    if key_managers:
        km = next((k for k in key_managers if k.name == km_name), None) if km_name else key_managers[0]
        if km is None:
            raise Http404("No such key manager")
    ctx = {
        "application": application,
        "env": env,
        "key_type": key_type,
        "env_label": KeyType(key_type).label,
        "key_managers": key_managers,
        "km": km,
        "key": None,
        # The address bar shows this page's own URL after a POST (static/js/keys.js), so that
        # reloading does not send the POST again.
        "canonical_url": _page_url(application, env, km.name if km else None),
        **extra,
    }
    for name in FORM_NAMES:
        if name in ctx:
            focus_first_error(ctx[name])
    if km is None:
        return render(request, "keys/page.html", ctx, status=status)

    try:
        adapter = adapter_for(km)
    except KeyManagerError as exc:
        ctx["km_error"] = str(exc)
        return render(request, "keys/page.html", ctx, status=status)

    key = selectors.key_find(application=application, key_type=key_type, key_manager=km)
    ctx["key"] = key
    multiple = km.multiple_secrets_enabled
    if key is None:
        if km.enable_oauth_app_creation and "generate_form" not in ctx:
            ctx["generate_form"] = GenerateKeysForm(adapter=adapter, multiple_secrets=multiple)
        if km.enable_map_oauth_consumer_apps and "map_form" not in ctx:
            ctx["map_form"] = MapKeysForm(prefix="map")
        return render(request, "keys/page.html", ctx, status=status)

    key.application = application
    if key.key_state == ApplicationKey.State.PARTIALLY_CREATED:
        return render(request, "keys/page.html", ctx, status=status)

    endpoints = adapter.endpoints()
    stored_secret = services.stored_secret_value(key)
    ctx.update(
        endpoints=[
            ("Authorization endpoint", "authorize", endpoints.get("authorize", "")),
            ("Token endpoint", "token", endpoints.get("token", "")),
            ("Revoke endpoint", "revoke", endpoints.get("revoke", "")),
            ("Userinfo endpoint", "userinfo", endpoints.get("userinfo", "")),
            ("Discovery URL", "discovery", endpoints.get("discovery", "")),
        ],
        multiple_secrets=multiple,
        stored_secret=stored_secret,
        stored_secret_masked=crypto.mask(stored_secret) if stored_secret else "",
        curl=_curl(endpoints.get("token", ""), key.consumer_key),
        curl_secret_command=CURL_SECRET_COMMAND,
        client_disabled_for_expiry=selectors.key_client_disabled_for_expiry(key),
    )
    if multiple:
        ctx.update(_secrets_panel(key))
    # When the key last authenticated (the panel asked already in multiple-secret mode).
    ctx["key_last_use"] = ctx["secrets_panel"].last_use if multiple else secret_selectors.last_use_of(key)
    ctx.setdefault("update_form", KeyConfigForm(adapter=adapter, key=key, prefix="update"))
    can_issue = km.enable_token_generation and GrantType.CLIENT_CREDENTIALS in (
        key.supported_grant_types or []
    )
    ctx["can_issue_token"] = can_issue
    if can_issue and "token_form" not in ctx:
        ctx["token_form"] = TokenForm(
            prefix="token",
            scopes=selectors.scopes_list(application=application),
            needs_secret=not stored_secret,
            validity_default=key.application_access_token_expiry_time,
        )
    token = ctx.get("new_token") or getattr(ctx.get("generated"), "token", None)
    if token is not None:
        # The result names each scope as the picker did: display name, key and description.
        known = {s.name: s for s in selectors.scopes_list(application=application)}
        ctx["token_scopes"] = [_scope_row(name, known.get(name)) for name in token.scopes]
    token_form = ctx.get("token_form")
    once_secret = (
        ctx.get("new_secret")
        or ctx.get("created_value")
        or getattr(ctx.get("generated"), "consumer_secret", "")
    )
    if token_form is not None and once_secret and "consumer_secret" in token_form.fields:
        token_form.fields["consumer_secret"].help_text = PASTE_HINT
    return render(request, "keys/page.html", ctx, status=status)


def secret_created(request, key, env: str, secret, value: str):
    """The keys page answering + New Secret's dialog: the new value shown once at the top, as the
    first secret is after Generate Keys (one pattern for one-time values). Called by
    ``keys.secrets.views.secret_create`` for a POST that came from this page."""
    return _render(
        request,
        key.application,
        env,
        km_name=key.key_manager.name,
        created_secret=secret,
        created_value=value,
    )


@login_required
@never_cache
def keys_page(request, application_id, env):
    application = application_get(user=request.user, application_id=application_id)
    return _render(request, application, env, km_name=request.GET.get("km"))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_generate(request, application_id, env, km):
    application = application_get(user=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect(_page_url(application, env, km))
    key_type = selectors.key_type_for_env(env)
    key_manager = _key_manager(km)
    try:
        adapter = adapter_for(key_manager)
    except KeyManagerError as exc:
        return _refused(request, application, env, km, exc)
    form = GenerateKeysForm(
        request.POST, adapter=adapter, multiple_secrets=key_manager.multiple_secrets_enabled
    )
    if not form.is_valid():
        return _render(request, application, env, km_name=km, generate_form=form, status=400)
    try:
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
        return _refused(request, application, env, km, exc, form=form, generate_form=form)
    return _render(request, application, env, km_name=km, generated=generated)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_map(request, application_id, env, km):
    application = application_get(user=request.user, application_id=application_id)
    if request.method == "GET":
        return redirect(_page_url(application, env, km))
    key_type = selectors.key_type_for_env(env)
    key_manager = _key_manager(km)
    form = MapKeysForm(request.POST, prefix="map")
    if not form.is_valid():
        return _render(request, application, env, km_name=km, map_form=form, status=400)
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
        return _refused(request, application, env, km, exc, form=form, map_form=form)
    messages.success(request, f"The existing OAuth keys are now used for {KeyType(key_type).label}.")
    return redirect(_page_url(application, env, km))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_update(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(_page_url(application, env, km))
    try:
        adapter = adapter_for(key.key_manager)
    except KeyManagerError as exc:
        return _refused(request, application, env, km, exc)
    form = KeyConfigForm(request.POST, adapter=adapter, key=key, prefix="update")
    if not form.is_valid():
        return _render(request, application, env, km_name=km, update_form=form, status=400)
    try:
        updated = services.keys_update(key=key, config=form.config_data(), actor=request.user)
    except SERVICE_ERRORS as exc:
        return _refused(request, application, env, km, exc, form=form, update_form=form)
    if updated.consumer_secret:
        # The key manager rotated the secret with the update: show the new one, once.
        return _render(request, application, env, km_name=km, new_secret=updated.consumer_secret)
    messages.success(request, "Keys updated.")
    return redirect(_page_url(application, env, km))


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
        return redirect(_page_url(application, env, key.key_manager.name))
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
            return _refused(request, application, env, km, exc)
        return _render(request, application, env, km_name=km, new_secret=value)
    ctx = {"application": application, "env": env, "key": key, "env_label": key.get_key_type_display()}
    return render(request, "keys/confirm_regenerate.html", ctx)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_generate(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(_page_url(application, env, km))
    stored = services.stored_secret_value(key)
    form = TokenForm(
        request.POST,
        prefix="token",
        scopes=selectors.scopes_list(application=application),
        needs_secret=not stored,
        validity_default=key.application_access_token_expiry_time,
    )
    if not form.is_valid():
        return _render(
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
        return _refused(
            request, application, env, km, exc, form=form, token_form=form, token_dialog_open=True
        )
    return _render(request, application, env, km_name=km, new_token=result)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def keys_clean_up(request, application_id, env, key_id):
    application, key = _key(request, application_id, env, key_id)
    km = key.key_manager.name
    if request.method == "GET":
        return redirect(_page_url(application, env, km))
    try:
        services.keys_clean_up(key=key, actor=request.user)
    except SERVICE_ERRORS as exc:
        return _refused(request, application, env, km, exc)
    messages.success(request, "The partially created keys were cleaned up. You can generate keys again.")
    return redirect(_page_url(application, env, km))
