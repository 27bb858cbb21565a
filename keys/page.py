"""The keys page's context, built by concept: the tabs, the key's panel at its key manager, the
Consumer Secrets panel, the token dialog and the once-only values of the POST being answered.

``render_keys_page`` is the one renderer of ``templates/keys/page.html``; the views in
``keys.views`` call it with what their POST produced (bound forms, an error, a new secret or token).
"""

from __future__ import annotations

import shlex
from urllib.parse import quote as urlquote

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from keymanagers.base import KeyManagerError, adapter_for
from keymanagers.models import GrantType
from keys import selectors, services
from keys.forms import GenerateKeysForm, KeyConfigForm, MapKeysForm, TokenForm, focus_first_error, put_errors
from keys.models import ApplicationKey, KeyType
from keys.secrets import selectors as secret_selectors
from portal import crypto
from portal.errors import page_error

TEMPLATE = "keys/page.html"
SECRETS_PANEL = "keys/secrets/_panel.html"
#: The forms of the keys page that a POST may send back with errors.
FORM_NAMES = ("generate_form", "map_form", "update_form", "token_form")
#: Shown under the consumer secret field of Generate Access Token while the one-time box is on
#: the page: the value to paste is right there, and the page cannot show it again.
PASTE_HINT = "Paste the consumer secret shown above."
#: Step 1 of the cURL dialog: the secret goes into a variable without being echoed or written to
#: the shell's history (``read -s``; bash and zsh), exported for the commands run after it.
CURL_SECRET_COMMAND = "read -rs CONSUMER_SECRET && export CONSUMER_SECRET"
#: The endpoints the key's panel lists, in order: (label, adapter's name for it).
ENDPOINTS = (
    ("Authorization endpoint", "authorize"),
    ("Token endpoint", "token"),
    ("Revoke endpoint", "revoke"),
    ("Userinfo endpoint", "userinfo"),
    ("Discovery URL", "discovery"),
)


def page_url(application, env: str, km_name: str | None = None) -> str:
    url = reverse("application_keys", kwargs={"application_id": application.pk, "env": env})
    return f"{url}?km={urlquote(km_name)}" if km_name else url


def _double_quoted(value: str) -> str:
    # Inside "…" the shell still expands $ ` \ and ": escape them, so the key pastes as it is.
    return "".join("\\" + c if c in '\\"$`' else c for c in value)


def curl_command(token_endpoint: str, consumer_key: str) -> str:
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


# -- context builders, one per concept --------------------------------------------------------------


def tabs_context(application, env: str, km_name: str | None) -> dict:
    """The environment, the key-manager tabs and the selected one (Http404 for an unknown name)."""
    key_type = selectors.key_type_for_env(env)
    key_managers = list(selectors.key_managers_enabled())
    km = None
    if key_managers:
        km = next((k for k in key_managers if k.name == km_name), None) if km_name else key_managers[0]
        if km is None:
            raise Http404("No such key manager")
    return {
        "application": application,
        "env": env,
        "key_type": key_type,
        "env_label": KeyType(key_type).label,
        "key_managers": key_managers,
        "km": km,
        "key": None,
        # The address bar shows this page's own URL after a POST (static/js/keys.js), so that
        # reloading does not send the POST again.
        "canonical_url": page_url(application, env, km.name if km else None),
    }


def no_key_context(ctx: dict, adapter) -> dict:
    """What a key manager without a key of this application offers: Generate Keys, existing keys."""
    km = ctx["km"]
    extra = {}
    if km.enable_oauth_app_creation and "generate_form" not in ctx:
        extra["generate_form"] = GenerateKeysForm(
            adapter=adapter, multiple_secrets=km.multiple_secrets_enabled
        )
    if km.enable_map_oauth_consumer_apps and "map_form" not in ctx:
        extra["map_form"] = MapKeysForm(prefix="map")
    return extra


def key_panel_context(key: ApplicationKey, adapter) -> dict:
    """The key's panel: endpoints, the stored secret (single-secret mode), cURL, its warnings."""
    endpoints = adapter.endpoints()
    stored_secret = services.stored_secret_value(key)
    return {
        "endpoints": [(label, name, endpoints.get(name, "")) for label, name in ENDPOINTS],
        "multiple_secrets": key.key_manager.multiple_secrets_enabled,
        "stored_secret": stored_secret,
        "stored_secret_masked": crypto.mask(stored_secret) if stored_secret else "",
        "curl": curl_command(endpoints.get("token", ""), key.consumer_key),
        "curl_secret_command": CURL_SECRET_COMMAND,
        "client_disabled_for_expiry": selectors.key_client_disabled_for_expiry(key),
    }


def secrets_context(key: ApplicationKey) -> dict:
    """The Consumer Secrets panel (multiple-secret mode) and the key's "last used", which the
    panel asks the key manager for (once); in single-secret mode only the latter."""
    if not key.key_manager.multiple_secrets_enabled:
        return {"key_last_use": secret_selectors.last_use_of(key)}
    panel = secret_selectors.secrets_panel(key=key)
    return {"secrets_panel_template": SECRETS_PANEL, "secrets_panel": panel, "key_last_use": panel.last_use}


def token_context(ctx: dict, key: ApplicationKey) -> dict:
    """Generate Access Token: whether the key may, its form, and the scopes of a token just made."""
    km = key.key_manager
    can_issue = km.enable_token_generation and GrantType.CLIENT_CREDENTIALS in (
        key.supported_grant_types or []
    )
    extra: dict = {"can_issue_token": can_issue}
    scopes = None
    if can_issue and "token_form" not in ctx:
        scopes = list(selectors.scopes_list(application=key.application))
        extra["token_form"] = TokenForm(
            prefix="token",
            scopes=scopes,
            needs_secret=not ctx["stored_secret"],
            validity_default=key.application_access_token_expiry_time,
        )
    token = ctx.get("new_token") or getattr(ctx.get("generated"), "token", None)
    if token is not None:
        # The result names each scope as the picker did: display name, key and description.
        if scopes is None:
            scopes = list(selectors.scopes_list(application=key.application))
        known = {s.name: s for s in scopes}
        extra["token_scopes"] = [_scope_row(name, known.get(name)) for name in token.scopes]
    return extra


def once_value(ctx: dict) -> str:
    """The secret shown once at the top of the page, if the POST being answered made one."""
    return (
        ctx.get("new_secret")
        or getattr(ctx.get("created"), "value", "")
        or getattr(ctx.get("generated"), "consumer_secret", "")
    )


# -- the page ----------------------------------------------------------------------------------------


def render_keys_page(
    request, application, env: str, *, km_name: str | None = None, status: int = 200, **extra
):
    """The keys page for one environment and key manager; ``extra`` carries bound forms, an
    error message, or the once-only values of the POST being answered."""
    ctx = {**tabs_context(application, env, km_name), **extra}
    for name in FORM_NAMES:
        if name in ctx:
            focus_first_error(ctx[name])
    km = ctx["km"]
    if km is None:
        return render(request, TEMPLATE, ctx, status=status)
    try:
        adapter = adapter_for(km)
    except KeyManagerError as exc:
        ctx["km_error"] = str(exc)
        return render(request, TEMPLATE, ctx, status=status)

    key = selectors.key_find(application=application, key_type=ctx["key_type"], key_manager=km)
    ctx["key"] = key
    if key is None:
        ctx.update(no_key_context(ctx, adapter))
        return render(request, TEMPLATE, ctx, status=status)
    if key.key_state == ApplicationKey.State.PARTIALLY_CREATED:
        return render(request, TEMPLATE, ctx, status=status)

    ctx.update(key_panel_context(key, adapter))
    ctx.update(secrets_context(key))
    ctx.setdefault("update_form", KeyConfigForm(adapter=adapter, key=key, prefix="update"))
    ctx.update(token_context(ctx, key))
    token_form = ctx.get("token_form")
    if token_form is not None and once_value(ctx) and "consumer_secret" in token_form.fields:
        token_form.fields["consumer_secret"].help_text = PASTE_HINT
    return render(request, TEMPLATE, ctx, status=status)


def refused(request, application, env: str, km_name: str, exc: Exception, *, form=None, **form_context):
    """The keys page answering a service's refusal ``exc``: a ``ValidationError`` goes onto
    ``form`` (its fields), re-rendered with ``form_context``; anything else is the page's error
    message, with the status the REST API would give (``portal.errors.page_error``)."""
    if isinstance(exc, ValidationError) and form is not None:
        put_errors(form, exc)
        return render_keys_page(request, application, env, km_name=km_name, status=400, **form_context)
    message, status = page_error(exc)
    return render_keys_page(request, application, env, km_name=km_name, error=message, status=status)
