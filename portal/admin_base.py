"""What the admin pages of every app share (infrastructure: imports no domain)."""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the admin may read but never add, change or delete by hand: the audit log, and rows
    whose truth lives elsewhere (a key's client at its key manager), changed only by their services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
