"""Admin for keys, consumer secrets (never their values or hashes) and the scope catalogue.

Keys and secrets mirror clients at key managers, so the admin cannot edit them in place (a local
change would not reach the key manager). Keys are removed with an action that goes through
``keys.services`` and so deletes the client at its key manager too. *Consumer secrets* is the one
list of secrets (the resident server's own rows appear only inline on its clients), each with when
it was last used, as its key manager reports it. Lists show as lists, never as JSON.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from keymanagers.base import KeyManagerError
from keymanagers.models import GrantType
from keys import services
from keys.models import ApplicationKey, ConsumerSecret, Scope
from keys.scopes import scopes_sync
from keys.secrets.selectors import last_use_of, last_used_text, secret_last_used
from portal.admin_base import ReadOnlyAdmin


def as_list(items) -> str:
    """Items one a line (not JSON); "None" when there are none."""
    items = [str(i) for i in items if str(i)]
    if not items:
        return "None"
    return format_html(
        '<ul class="admin-list">{}</ul>', format_html_join("", "<li>{}</li>", ((i,) for i in items))
    )


def last_used_display(when, last_use) -> str:
    if not last_use.reported:
        return last_use.note
    text = last_used_text(when, timezone.now())
    return format_html('<time datetime="{}">{}</time>', when.isoformat(), text) if when else text


def secret_last_used_display(secret: ConsumerSecret) -> str:
    # One read at the key manager per secret shown (the resident server: one indexed query).
    last_use = last_use_of(secret.key)
    return last_used_display(secret_last_used(secret, last_use), last_use)


class ConsumerSecretInline(admin.TabularInline):
    model = ConsumerSecret
    fields = ("id", "description", "expires_at", "created_at", "created_by", "last_used")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Last used")
    def last_used(self, obj: ConsumerSecret) -> str:
        return secret_last_used_display(obj)


@admin.register(ApplicationKey)
class ApplicationKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        "owner",
        "key_type",
        "key_manager",
        "consumer_key",
        "key_state",
        "mode",
        "created_at",
    )
    list_filter = ("key_type", "key_manager", "key_state", "mode")
    list_select_related = ("application__owner", "key_manager")
    search_fields = (
        "consumer_key",
        "application__name",
        "application__owner__username",
        "application__owner__email",
    )
    date_hierarchy = "created_at"
    # Everything but the adapter's encrypted state, which may hold credentials.
    fields = (
        "id",
        "application",
        "key_type",
        "key_manager",
        "consumer_key",
        "key_state",
        "failure_reason",
        "mode",
        "grant_types",
        "callback_urls",
        "application_access_token_expiry_time",
        "user_access_token_expiry_time",
        "refresh_token_expiry_time",
        "id_token_expiry_time",
        "pkce_mandatory",
        "pkce_support_plain",
        "bypass_client_credentials",
        "properties",
        "last_used",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [ConsumerSecretInline]
    actions = ["remove_keys"]

    @admin.display(ordering="application__owner__username")
    def owner(self, obj):
        return obj.application.owner

    @admin.display(description="Grant types")
    def grant_types(self, obj: ApplicationKey) -> str:
        labels = dict(GrantType.choices)
        return as_list(labels.get(g, g) for g in obj.supported_grant_types or [])

    @admin.display(description="Callback URLs")
    def callback_urls(self, obj: ApplicationKey) -> str:
        url = obj.callback_url.strip()
        return as_list([url] if url.startswith("regexp=") else url.replace(",", " ").split())

    @admin.display(description="Additional properties")
    def properties(self, obj: ApplicationKey) -> str:
        return as_list(
            f"{name}: {value}" for name, value in sorted((obj.additional_properties or {}).items())
        )

    @admin.display(description="Last used")
    def last_used(self, obj: ApplicationKey) -> str:
        last_use = last_use_of(obj)
        return last_used_display(last_use.key, last_use)

    @admin.action(description="Remove selected keys (deletes the clients at their key managers too)")
    def remove_keys(self, request, queryset):
        removed = 0
        for key in queryset.select_related("key_manager", "application"):
            try:
                services.keys_delete(key=key, actor=request.user)
            except KeyManagerError as exc:
                self.message_user(request, f"Stopped: {exc}", messages.ERROR)
                break
            removed += 1
        if removed:
            self.message_user(request, f"Removed {removed} key(s).", messages.SUCCESS)

    def get_actions(self, request):
        # Shown although keys are otherwise read-only: the action goes through the services.
        actions = super().get_actions(request)
        if not request.user.has_perm("keys.delete_applicationkey"):
            actions.pop("remove_keys", None)
        return actions


class ExpiredFilter(admin.SimpleListFilter):
    title = "expired"
    parameter_name = "expired"

    def lookups(self, request, model_admin):
        return (("yes", "Expired"), ("no", "Valid"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "no":
            return queryset.exclude(expires_at__lte=now)
        return queryset


@admin.register(ConsumerSecret)
class ConsumerSecretAdmin(ReadOnlyAdmin):
    # Short enough to fit beside the filters at 1280 px (the id and creator are on the secret's page).
    list_display = ("secret", "key", "expires_at", "last_used", "created_at")
    list_filter = (ExpiredFilter, "key__key_manager", "key__key_type")
    list_select_related = ("key__application", "key__key_manager", "created_by")
    search_fields = ("description", "key__consumer_key", "key__application__name")
    # Never the value (encrypted) nor its hash.
    fields = (
        "id",
        "key",
        "remote_id",
        "description",
        "expires_at",
        "created_at",
        "created_by",
        "reminder_sent_at",
        "last_used",
    )
    readonly_fields = fields

    @admin.display(description="Last used")
    def last_used(self, obj: ConsumerSecret) -> str:
        return secret_last_used_display(obj)

    @admin.display(description="Secret", ordering="description")
    def secret(self, obj: ConsumerSecret) -> str:
        return obj.description or "No description"


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    """Scopes; a restricted one only for the applications listed.

    The Resident server keeps each client's grants itself, so every change to who may get a
    restricted scope (the flag, the name, the applications, a delete) updates the affected clients
    at once through ``scopes_sync``; failures are shown as messages.
    """

    list_display = ("name", "display_name", "restricted", "description", "created_at")
    list_filter = ("restricted",)
    search_fields = ("name", "display_name", "description")
    fields = ("name", "display_name", "description", "restricted", "applications", "created_at")
    readonly_fields = ("created_at",)
    filter_horizontal = ("applications",)

    @staticmethod
    def _grant_holders(scope: Scope) -> set:
        """Applications whose clients may carry ``scope`` as a grant (none while it is unrestricted)."""
        if scope.pk is None or not scope.restricted:
            return set()
        return set(scope.applications.values_list("pk", flat=True))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The form's initial data is the scope as it was before this change.
        before = (
            {app.pk for app in form.initial.get("applications") or []}
            if change and form.initial.get("restricted")
            else set()
        )
        after = self._grant_holders(form.instance)
        # A restricted scope renamed keeps its holders but changes the name they carry.
        renamed = change and "name" in form.changed_data
        affected = (before | after) if renamed else (before ^ after)
        self._sync(request, affected)

    def delete_model(self, request, obj):
        holders = self._grant_holders(obj)
        super().delete_model(request, obj)
        self._sync(request, holders)

    def delete_queryset(self, request, queryset):
        holders = set()
        for scope in queryset.filter(restricted=True).prefetch_related("applications"):
            holders.update(app.pk for app in scope.applications.all())
        super().delete_queryset(request, queryset)
        self._sync(request, holders)

    def _sync(self, request, applications: set) -> None:
        if not applications:
            return
        result = scopes_sync(applications=applications, actor=request.user)
        for failure in result.failures:
            self.message_user(request, f"Scope grants not updated for {failure}", messages.ERROR)
        if result.updated:
            self.message_user(
                request, f"Updated the scope grants of {result.updated} key(s).", messages.SUCCESS
            )
