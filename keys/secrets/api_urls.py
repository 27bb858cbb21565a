"""REST endpoints for multiple consumer secrets, mounted at /api/am/devportal/v3/ (portal/urls.py)."""

from django.urls import path

from keys.secrets import api as secret_api

KEY = "applications/<uuid:application_id>/oauth-keys/<uuid:key_mapping_id>/"

urlpatterns = [
    path(KEY + "generate-secret", secret_api.GenerateSecretApi.as_view(), name="api_secret_generate"),
    path(KEY + "secrets", secret_api.SecretListApi.as_view(), name="api_secrets"),
    path(KEY + "revoke-secret", secret_api.RevokeSecretApi.as_view(), name="api_secret_revoke"),
]
