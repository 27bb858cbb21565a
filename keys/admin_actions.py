"""Admin action for the KeyManager admin: mask every existing secret, behind a confirmation page.

Offered by ``keymanagers/admin.py`` through the hook ``keys`` registers (``keys/apps.py``,
``keymanagers/hooks.py``), beside ``keys.secrets.services.on_multiple_secrets_enabled``, which its
``save_model`` runs when an admin switches multiple secrets on: that switch must mask the existing
secrets too.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from keys.secrets.selectors import secrets_mask_preview
from keys.secrets.services import secrets_mask_all


@admin.action(description="Mask existing consumer secrets (cannot be undone)", permissions=["change"])
def mask_existing_secrets(modeladmin, request, queryset):
    """First call: a confirmation page with what will be lost. Confirmed (``post=yes``): mask."""
    enabled = [km for km in queryset if km.multiple_secrets_enabled]
    skipped = [km for km in queryset if not km.multiple_secrets_enabled]
    secrets, keys = secrets_mask_preview(key_managers=enabled)

    if request.POST.get("post") == "yes":
        masked = sum(secrets_mask_all(key_manager=km, actor=request.user) for km in enabled)
        modeladmin.message_user(
            request,
            f"Masked {masked} secrets of {keys} keys. Developers can no longer see them.",
            messages.SUCCESS,
        )
        if skipped:
            modeladmin.message_user(
                request,
                "Skipped (multiple secrets are off, so developers may still reveal their one secret): "
                + ", ".join(str(km) for km in skipped),
                messages.WARNING,
            )
        return None

    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Mask existing consumer secrets?",
        "opts": opts,
        "app_label": opts.app_label,
        "queryset": queryset,
        "enabled": enabled,
        "skipped": skipped,
        "secret_count": secrets,
        "key_count": keys,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "mask_existing_secrets",
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/keys/mask_secrets_confirm.html", context)
