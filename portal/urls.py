"""Top-level URLs: each area owns its own URL module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("portal.web_urls")),
    path("accounts/", include("portal.accounts.urls")),
    path("api/am/devportal/v3/", include("portal.api_urls")),
    path("", include("keys.urls")),
    path("", include("keymanagers.resident.urls")),
]
