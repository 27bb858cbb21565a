"""Admin for the resident server: clients (their secrets inline, never the hash), signing keys,
revoked JWTs, and DOT's access-token list (which says what it does not hold).

DOT registers its own Application admin for our swapped model; it shows and edits the
``client_secret`` column and a single grant type, so it is replaced here. Imported by
``keymanagers/admin.py``. Secrets have no list of their own here: the portal's *Consumer secrets*
(keys) is the one list, with descriptions and owners; a client's page shows its secrets inline.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from oauth2_provider.admin import AccessTokenAdmin
from oauth2_provider.models import get_access_token_model

from keymanagers import hooks
from keymanagers.models import ClientSecret, GrantType, OAuthClient, RevokedToken, SigningKey
from keymanagers.resident import signing
from portal.admin_base import ReadOnlyAdmin

if admin.site.is_registered(OAuthClient):
    admin.site.unregister(OAuthClient)
if admin.site.is_registered(get_access_token_model()):
    admin.site.unregister(get_access_token_model())
if admin.site.is_registered(ClientSecret):
    admin.site.unregister(ClientSecret)


class ClientSecretInline(admin.TabularInline):
    """The client's secrets, to look at only: they are made and deleted on the developer's keys page,
    which keeps the portal's rows in step and refuses to delete the last one."""

    model = ClientSecret
    fields = ("id", "expires_at", "created_at", "last_used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def as_list(values) -> str:
    """A list as a list (one item a line), not as JSON; "None" when empty."""
    items = [str(v) for v in values or [] if str(v)]
    if not items:
        return "None"
    return format_html(
        '<ul class="admin-list">{}</ul>', format_html_join("", "<li>{}</li>", ((i,) for i in items))
    )


def grant_type_labels(values) -> list[str]:
    labels = dict(GrantType.choices)
    return [labels.get(str(v).replace("-", "_"), str(v)) for v in values or []]


# Everything the portal's key (keys.ApplicationKey) also records, or the adapter sets from it.
PORTAL_OWNED_FIELDS = (
    "client_id",
    "portal_key",
    "api_client",
    "name",
    "application_name",
    "user",
    "client_type",
    "grant_type_list",
    "authorization_grant_type",
    "callback_urls",
    "granted_scope_list",
    "last_used_at",
    "token_format",
    "application_token_lifetime",
    "user_token_lifetime",
    "refresh_token_lifetime",
    "id_token_lifetime",
    "pkce_required",
    "pkce_plain_allowed",
    "created",
    "updated",
    "tokens_revoked_before",
)


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):
    """Clients are the portal's keys: the admin only decides which are resource servers and which
    skip the consent page; the rest is changed where the portal keeps its own record in step."""

    list_display = (
        "client_id",
        "name",
        "user",
        "client_type",
        "token_format",
        "is_resource_server",
        "api_client",
        "last_used_at",
        "created",
    )
    list_select_related = ("user",)
    list_filter = ("client_type", "token_format", "is_resource_server", "api_client", "pkce_required")
    search_fields = ("client_id", "name", "user__username", "user__email")
    readonly_fields = PORTAL_OWNED_FIELDS
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "client_id",
                    "portal_key",
                    "name",
                    "application_name",
                    "user",
                    "client_type",
                    "api_client",
                ),
                "description": "Change keys from the developer's application page or the REST API.",
            },
        ),
        ("Decided here", {"fields": ("is_resource_server", "skip_authorization")}),
        (
            "Grants",
            {
                "fields": (
                    "grant_type_list",
                    "authorization_grant_type",
                    "callback_urls",
                    "granted_scope_list",
                )
            },
        ),
        (
            "Tokens",
            {
                "fields": (
                    "token_format",
                    "application_token_lifetime",
                    "user_token_lifetime",
                    "refresh_token_lifetime",
                    "id_token_lifetime",
                    "tokens_revoked_before",
                ),
                "description": "Client_credentials JWTs are not stored: tokens issued at or before "
                "“Tokens revoked before” (set by “revoke earlier tokens”) are refused, and single "
                "revoked ones are listed under Revoked JWTs.",
            },
        ),
        ("PKCE", {"fields": ("pkce_required", "pkce_plain_allowed")}),
        ("Dates", {"fields": ("created", "updated", "last_used_at")}),
    )
    inlines = [ClientSecretInline]

    @admin.display(description="Grant types")
    def grant_type_list(self, obj: OAuthClient) -> str:
        return as_list(grant_type_labels(obj.grant_types or [obj.authorization_grant_type]))

    @admin.display(description="Callback URLs")
    def callback_urls(self, obj: OAuthClient) -> str:
        return as_list(obj.redirect_uris.split())

    @admin.display(description="Granted restricted scopes")
    def granted_scope_list(self, obj: OAuthClient) -> str:
        return as_list(obj.granted_scopes)

    @admin.display(description="Portal key")
    def portal_key(self, obj: OAuthClient) -> str:
        # keymanagers must not import keys (keys depends on keymanagers): keys answers through a hook.
        if obj.api_client:
            return "None: a REST API client its user registered (Admin → REST API clients)."
        return hooks.client_holder(obj.client_id) or "None: no application holds this client."

    def has_add_permission(self, request):
        # Clients are created with their keys, so the portal knows about them and the secret is shown once.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting here would leave the application's key pointing at nothing: delete the key instead.
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    # Read-only: deleting a key would break every live token it signed; retired keys expire from the JWKS.
    list_display = ("kid", "algorithm", "state", "created_at", "retired_at", "publish_until")
    list_filter = ("state", "algorithm")
    fields = ("kid", "algorithm", "state", "public_jwk", "created_at", "retired_at", "publish_until")
    readonly_fields = fields
    actions = ("rotate_now",)

    @admin.action(
        description="Rotate now (new active key; old keys stay published until their tokens expire)"
    )
    def rotate_now(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Rotate the signing key?",
                "opts": self.model._meta,
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "publish_seconds": signing.longest_token_lifetime(),
            }
            return TemplateResponse(request, "oauth2_provider/rotate_signing_key_confirmation.html", context)
        active = list(SigningKey.objects.filter(state=SigningKey.State.ACTIVE).values_list("pk", flat=True))
        try:
            row = signing.rotate()
        except ImproperlyConfigured as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.message_user(
            request, f"New signing key {row.kid} ({row.algorithm}) is active.", messages.SUCCESS
        )
        for retired in SigningKey.objects.filter(pk__in=active):
            self.message_user(
                request,
                f"Retired key {retired.kid} stays in the JWKS until {retired.publish_until:%Y-%m-%d %H:%M %Z}, when "
                "the last token it signed expires (a token that never expires keeps it published that long).",
                messages.INFO,
            )
        return None


ACCESS_TOKENS_NOTE = (
    "Client_credentials JWTs of applications are not stored, so they are not listed here: they are "
    "checked by signature and expiry, and refused once revoked (see Revoked JWTs, and a client's "
    "“tokens revoked before”). Users' tokens, opaque tokens and tokens generated in the portal are listed."
)


class ResidentAccessTokenAdmin(AccessTokenAdmin):
    """DOT's access-token admin, saying what it does not list."""

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": ACCESS_TOKENS_NOTE})


admin.site.register(get_access_token_model(), ResidentAccessTokenAdmin)


@admin.register(RevokedToken)
class RevokedTokenAdmin(ReadOnlyAdmin):
    """Unstored JWTs revoked one by one (RFC 7009), kept until they expire; to look at only.

    Deleting a record would bring its revoked token back; clear_resident_tokens purges them once the
    token has expired."""

    list_display = ("jti", "client", "expires_at", "revoked_at")
    list_select_related = ("client",)
    search_fields = ("jti", "client__client_id", "client__name")
    date_hierarchy = "revoked_at"
    fields = list_display
    readonly_fields = list_display
