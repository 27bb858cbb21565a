"""Top-level URLs: each area owns its own URL module."""

from django.contrib import admin
from django.urls import include, path

from portal.health import healthz

API = "api/am/devportal/v3/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # First: Django tries the patterns in order, and the OAuth endpoints are the busiest paths
    # (their literal paths overlap nothing below).
    path("", include("keymanagers.resident.urls")),
    path("admin/", admin.site.urls),
    path("", include("portal.web_urls")),
    path("accounts/", include("portal.accounts.urls")),
    # The reference portal's login for its REST API: register a client with your own credentials.
    path("client-registration/v0.17/", include("portal.apiclients.urls")),
    # Secrets (multiple consumer secrets) before the general API, whose last route is a JSON 404.
    path(API, include("keys.secrets.api_urls")),
    path(API, include("portal.api_urls")),
    path("", include("keys.urls")),
    path("", include("keys.secrets.urls")),
]
