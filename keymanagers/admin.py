"""Admin for key managers: create one per type, credentials write-only (the form:
``keymanagers/admin_forms.py``), discovery import, Test connection.

The Resident key manager exists from the first migrate: it cannot be deleted and no key manager's type
changes after creation (its keys' remote state belongs to the adapter that made them).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from keymanagers import hooks
from keymanagers.admin_forms import (
    DISCOVERED_FIELDS,
    KeyManagerForm,
    credential_fieldset,
    discovery_transport,
)
from keymanagers.base import KeyManagerError, NotSupported, adapter_for
from keymanagers.http import apply_discovery, fetch_well_known
from keymanagers.models import KeyManager
from keymanagers.resident import admin as _resident_admin  # noqa: F401


@admin.register(KeyManager)
class KeyManagerAdmin(admin.ModelAdmin):
    form = KeyManagerForm
    change_form_template = "admin/keymanagers/keymanager/change_form.html"
    list_display = (
        "name",
        "display_name",
        "type",
        "enabled",
        "order",
        "multiple_secrets_enabled",
        "secret_count",
    )
    list_filter = ("type", "enabled")
    search_fields = ("name", "display_name", "description")
    ordering = ("order", "id")
    readonly_fields = ("created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @property
    def actions(self):
        # keys adds the secrets masking action (keymanagers/hooks.py): this app must not import keys.
        return ("test_connection", "import_well_known", "enable", "disable", *hooks.key_manager_admin_actions)

    def get_fieldsets(self, request, obj=None):
        stored = set()
        if obj is not None and obj.credentials_encrypted:
            try:
                stored = set(obj.get_credentials())
            except ValueError:
                stored = set()
        credentials = tuple(f for f in credential_fieldset() if not f.startswith("clear_") or f[6:] in stored)
        fieldsets = [
            (None, {"fields": ("name", "display_name", "type", "enabled", "order", "description")}),
            (
                "Endpoints",
                {
                    # What discovery fills, but the grant types (they have their own fieldset).
                    "fields": ("well_known_url", "import_well_known", *DISCOVERED_FIELDS[:-1])
                },
            ),
            (
                "Grant types and tokens",
                {
                    "fields": (
                        "available_grant_types",
                        "token_format",
                        "enable_oauth_app_creation",
                        "enable_token_generation",
                        "enable_map_oauth_consumer_apps",
                    )
                },
            ),
            (
                "Consumer secrets",
                {
                    "fields": ("multiple_secrets_enabled", "secret_count"),
                    "description": "Several secrets per key (rotation without downtime). Secret "
                    "count empty = unlimited; Okta allows at most 2.",
                },
            ),
            (
                "Connection",
                {
                    "fields": ("config", "timeout"),
                    "description": 'Adapter settings (not secret), JSON. Keycloak: {"base_url": '
                    '"https://sso.example.com", "realm": "demo"}. Okta: {"base_url": '
                    '"https://example.okta.com", "authorization_server_id": "default"}. '
                    'Any type: "resource" (RFC 8707 indicator sent with token requests).',
                },
            ),
            ("Credentials (write-only, stored encrypted)", {"fields": credentials}),
        ]
        if obj is not None and obj.is_resident:
            # The built-in server's endpoints are the portal's own (derived from SITE_URL), it is
            # reached in-process and holds no admin credentials: those fieldsets would only mislead.
            fieldsets = [
                fs
                for fs in fieldsets
                if fs[0] not in ("Endpoints", "Connection") and fs[1]["fields"] is not credentials
            ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("type")
        return fields

    def save_model(self, request, obj, form, change):
        switched_on = (
            change and obj.multiple_secrets_enabled and "multiple_secrets_enabled" in form.changed_data
        )
        super().save_model(request, obj, form, change)
        if switched_on:
            # Multiple-secret mode shows values only once: retrievable copies must not survive it.
            masked = sum(mask(obj, actor=request.user) for mask in hooks.multiple_secrets_switched_on)
            if masked:
                self.message_user(
                    request,
                    f"Multiple secrets are on: {masked} existing secret(s) were masked for good.",
                    messages.WARNING,
                )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_resident:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The bulk delete would not ask has_delete_permission per row (and so could take Resident).
        actions.pop("delete_selected", None)
        return actions

    # -- extra views (POST buttons on the change form) ---------------------------------------
    def get_urls(self):
        own = [
            path(
                "<int:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="keymanagers_keymanager_test_connection",
            ),
            path(
                "<int:object_id>/import-well-known/",
                self.admin_site.admin_view(self.import_well_known_view),
                name="keymanagers_keymanager_import_well_known",
            ),
        ]
        return own + super().get_urls()

    def _object_for_post(self, request, object_id):
        if request.method != "POST":
            return None
        km = get_object_or_404(KeyManager, pk=object_id)
        if not self.has_change_permission(request, km):
            raise PermissionDenied
        return km

    def test_connection_view(self, request, object_id):
        km = self._object_for_post(request, object_id)
        if km is None:
            return HttpResponseNotAllowed(["POST"])
        return self._connection_report(request, [km])

    def import_well_known_view(self, request, object_id):
        km = self._object_for_post(request, object_id)
        if km is None:
            return HttpResponseNotAllowed(["POST"])
        self._import(request, km)
        return HttpResponseRedirect(reverse("admin:keymanagers_keymanager_change", args=[km.pk]))

    # -- actions -----------------------------------------------------------------------------
    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request, queryset):
        return self._connection_report(request, list(queryset))

    @admin.action(description="Import endpoints from well-known URL", permissions=["change"])
    def import_well_known(self, request, queryset):
        for km in queryset:
            self._import(request, km)

    @admin.action(description="Enable selected key managers", permissions=["change"])
    def enable(self, request, queryset):
        count = queryset.update(enabled=True)
        self.message_user(request, f"Enabled {count} key manager(s).", messages.SUCCESS)

    @admin.action(description="Disable selected key managers", permissions=["change"])
    def disable(self, request, queryset):
        count = queryset.update(enabled=False)
        self.message_user(
            request,
            f"Disabled {count} key manager(s): developers no longer see their tabs.",
            messages.SUCCESS,
        )

    def _import(self, request, km: KeyManager) -> None:
        if not km.well_known_url:
            self.message_user(request, f"{km}: no well-known URL is set.", messages.ERROR)
            return
        try:
            doc = fetch_well_known(km.well_known_url, key_manager=km, transport=discovery_transport(km))
        except KeyManagerError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        changed = apply_discovery(km, doc)
        if changed:
            km.save(update_fields=[*changed, "updated_at"])
            self.message_user(
                request, f"{km}: imported {', '.join(changed)} from {km.well_known_url}.", messages.SUCCESS
            )
        else:
            self.message_user(request, f"{km}: already matches {km.well_known_url}.", messages.INFO)

    def _connection_report(self, request, key_managers: list[KeyManager]):
        results = []
        for km in key_managers:
            try:
                checks = adapter_for(km).check_connection()
                error = ""
            except NotSupported as exc:
                checks, error = [], exc.message
            except KeyManagerError as exc:
                checks, error = [], str(exc)
            ok = bool(checks) and all(c.ok for c in checks) and not error
            results.append({"key_manager": km, "checks": checks, "error": error, "ok": ok})
        context = {
            **self.admin_site.each_context(request),
            "title": "Test connection",
            "opts": self.model._meta,
            "results": results,
        }
        return TemplateResponse(request, "admin/keymanagers/keymanager/test_connection.html", context)
