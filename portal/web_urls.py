"""Pages of the applications domain and the API tokens page."""

from django.urls import path

from portal.applications import views

urlpatterns = [
    path("", views.home, name="home"),
    path("applications/", views.applications, name="applications"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/<uuid:application_id>/", views.application_detail, name="application_detail"),
    path("applications/<uuid:application_id>/edit/", views.application_edit, name="application_edit"),
    path("applications/<uuid:application_id>/delete/", views.application_delete, name="application_delete"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<uuid:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
