"""Pages of the multiple-consumer-secrets area, below a key of an application's environment."""

from django.urls import path

from keys import secret_views

KEY = "applications/<uuid:application_id>/keys/<str:env>/<uuid:key_id>/secrets/"

urlpatterns = [
    path(KEY, secret_views.secrets_page, name="key_secrets"),
    path(KEY + "new/", secret_views.secret_create, name="key_secret_create"),
    path(KEY + "<uuid:secret_id>/delete/", secret_views.secret_delete, name="key_secret_delete"),
]
