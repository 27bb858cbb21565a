"""A private admin site with the mask action on KeyManager, to test the action end to end
whatever the project's own KeyManager admin looks like."""

from django.contrib import admin
from django.urls import path

from keymanagers.models import KeyManager
from keys.admin_actions import mask_existing_secrets

site = admin.AdminSite(name="secrets_test_admin")


@admin.register(KeyManager, site=site)
class KeyManagerAdmin(admin.ModelAdmin):
    actions = [mask_existing_secrets]


urlpatterns = [path("admin/", site.urls)]
