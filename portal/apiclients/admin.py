"""REST API clients in the admin: who registered what, and a way to end one (with its tokens)."""

from __future__ import annotations

from django.contrib import admin

from portal.apiclients.models import ApiClient
from portal.audit import audit


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("client_name", "owner", "client_id", "grant_types", "created_at")
    list_select_related = ("owner", "oauth_client")
    search_fields = ("client_name", "owner__username", "owner__email", "oauth_client__client_id")
    fields = ("client_name", "owner", "client_id", "callback_url", "saas_app", "grant_types", "created_at")
    readonly_fields = fields

    @admin.display(description="Client id")
    def client_id(self, obj: ApiClient) -> str:
        return obj.oauth_client.client_id

    def has_add_permission(self, request):
        return False  # registered by the user, with their own credentials (the secret is shown once)

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, ApiClient.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # The resident client goes too: its secrets and tokens stop working at once.
        for api_client in queryset.select_related("oauth_client"):
            audit(actor=request.user, action="api_client.delete", client_id=api_client.oauth_client.client_id)
            api_client.oauth_client.delete()
