"""Django admin for users, applications, personal API tokens and the audit log.

Ids and hashes are read-only; token values are never stored, so never shown. The audit log is
read-only history: admins can search it, not rewrite it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from keymanagers.base import KeyManagerError
from portal.accounts.forms import RateLimitedAdminAuthenticationForm
from portal.admin_base import ReadOnlyAdmin
from portal.applications import services
from portal.models import ApiToken, Application, ApplicationAttribute, AuditEvent

User = get_user_model()


class ApplicationInline(admin.TabularInline):
    model = Application
    fields = ("name", "token_type", "status", "created_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


if admin.site.is_registered(User):
    admin.site.unregister(User)


def _delete_applications(modeladmin, request, applications) -> int:
    """Delete through the service, so clients at key managers go too; returns how many failed."""
    failed = 0
    for application in applications:
        try:
            services.application_delete(application=application, actor=request.user)
        except KeyManagerError as exc:
            failed += 1
            modeladmin.message_user(request, f"'{application}' was kept: {exc}", messages.ERROR)
    return failed


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "is_active",
        "is_staff",
        "application_count",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    readonly_fields = ("id", "date_joined", "last_login")
    inlines = [ApplicationInline]

    actions = ["delete_users"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(application_count=Count("applications"))

    # Django's own delete would cascade to applications and keys in the database only, leaving their
    # clients live at the key managers (still issuing tokens): deletion goes through the service.
    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Delete selected users, their applications and keys", permissions=["change"])
    def delete_users(self, request, queryset):
        if not request.user.has_perm("auth.delete_user"):
            raise PermissionDenied
        deleted = 0
        for user in queryset.prefetch_related("applications"):
            if _delete_applications(self, request, list(user.applications.all())):
                self.message_user(
                    request, f"User '{user}' was kept: not all applications could be deleted.", messages.ERROR
                )
                continue
            user.delete()
            deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} user(s) with their applications and keys.")

    @admin.display(description="applications", ordering="application_count")
    def application_count(self, obj) -> int:
        return obj.application_count


class ApplicationAdminForm(forms.ModelForm):
    """The admin form with the same name rules as the pages and the API."""

    class Meta:
        model = Application
        fields = ("owner", "name", "description", "token_type", "throttling_policy", "status")

    def clean_name(self) -> str:
        try:
            return services.clean_application_name(self.cleaned_data.get("name", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean(self):
        cleaned = super().clean()
        owner, name = cleaned.get("owner"), cleaned.get("name")
        if owner and name and services.name_taken(owner=owner, name=name, exclude_pk=self.instance.pk):
            self.add_error("name", f"{owner} already has an application named '{name}'.")
        return cleaned


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = ApplicationAdminForm
    list_display = ("name", "owner", "token_type", "status", "throttling_policy", "created_at")
    list_filter = ("token_type", "status", "throttling_policy", "created_at")
    list_select_related = ("owner",)
    search_fields = ("name", "description", "owner__username", "owner__email", "=id")
    # Attribute values are the developer's, checked against the attributes by the form and the API.
    readonly_fields = ("id", "attributes", "created_at", "updated_at", "keys_link")
    fields = (
        "id",
        "owner",
        "name",
        "description",
        "token_type",
        "throttling_policy",
        "status",
        "attributes",
        "created_at",
        "updated_at",
        "keys_link",
    )
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ["delete_applications"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # A new token type must reach the application's clients at their key managers, which
            # the developer's edit page and API do (portal.applications.services.application_update); a plain
            # admin save would not.
            fields.append("token_type")
        return fields

    # As for users: Django's delete would leave the applications' clients live at the key managers.
    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Delete selected applications and their keys at the key managers", permissions=["change"]
    )
    def delete_applications(self, request, queryset):
        if not request.user.has_perm("portal.delete_application"):
            raise PermissionDenied
        applications = list(queryset.select_related("owner"))
        failed = _delete_applications(self, request, applications)
        if len(applications) - failed:
            self.message_user(request, f"Deleted {len(applications) - failed} application(s) and their keys.")

    @admin.display(description="keys")
    def keys_link(self, obj) -> str:
        if obj.pk is None:
            return "—"
        try:
            url = reverse("admin:keys_applicationkey_changelist")
        except NoReverseMatch:  # the keys admin is not registered
            return str(obj.keys.count())
        return format_html(
            '<a href="{}?application__id__exact={}">{} key(s)</a>', url, obj.pk, obj.keys.count()
        )


@admin.register(ApplicationAttribute)
class ApplicationAttributeAdmin(admin.ModelAdmin):
    """What every application is asked for: shown on the application form, in the REST API as
    ``attributes``. A hidden attribute is not shown to developers; applications get its default."""

    list_display = ("name", "required", "hidden", "default", "order")
    list_editable = ("order",)
    search_fields = ("name", "description")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at")
    list_filter = ("created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    # The hash is useless to an admin and there is no value to show: it is never stored.
    fields = ("id", "user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    # Revoking (deleting) is the one change an admin makes; the lifetime policy stays the user's.
    readonly_fields = ("id", "user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        # A token made here would have no value anyone ever saw: users create their own.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "outcome",
        "actor",
        "application_id",
        "key_mapping_id",
        "secret_id",
    )
    list_filter = ("outcome", "action", "created_at")
    list_select_related = ("actor",)
    search_fields = ("action", "actor__username", "=application_id", "=key_mapping_id", "=secret_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


# The admin's sign-in form counts failures like the portal's own (portal.accounts.forms).
admin.site.login_form = RateLimitedAdminAuthenticationForm

admin.site.site_header = "Developer Portal administration"
admin.site.site_title = "Developer Portal admin"
admin.site.index_title = "Administration"
