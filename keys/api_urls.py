"""Keys endpoints of the REST API, included by ``portal/api_urls.py`` under /api/am/devportal/v3/."""

from django.urls import path

from keys.api import catalogue, deprecated, views

APP = "applications/<uuid:application_id>/"
KEY = APP + "oauth-keys/<uuid:key_mapping_id>"
# The reference's deprecated operations name a key by its type (PRODUCTION/SANDBOX).
BY_TYPE = APP + "keys/<str:key_type>"

urlpatterns = [
    path(APP + "generate-keys", views.GenerateKeysApi.as_view(), name="api_generate_keys"),
    path(APP + "map-keys", views.MapKeysApi.as_view(), name="api_map_keys"),
    path(APP + "oauth-keys", views.KeyListApi.as_view(), name="api_oauth_keys"),
    path(KEY, views.KeyDetailApi.as_view(), name="api_oauth_key"),
    path(KEY + "/regenerate-secret", views.RegenerateSecretApi.as_view(), name="api_regenerate_secret"),
    path(KEY + "/clean-up", views.CleanUpApi.as_view(), name="api_clean_up"),
    path(KEY + "/generate-token", views.GenerateTokenApi.as_view(), name="api_generate_token"),
    path(APP + "keys", deprecated.DeprecatedKeyListApi.as_view(), name="api_keys_deprecated"),
    path(BY_TYPE, deprecated.DeprecatedKeyDetailApi.as_view(), name="api_key_by_type"),
    path(
        BY_TYPE + "/regenerate-secret",
        deprecated.DeprecatedRegenerateSecretApi.as_view(),
        name="api_regenerate_by_type",
    ),
    path(BY_TYPE + "/clean-up", deprecated.DeprecatedCleanUpApi.as_view(), name="api_clean_up_by_type"),
    path(
        BY_TYPE + "/generate-token",
        deprecated.DeprecatedGenerateTokenApi.as_view(),
        name="api_generate_token_by_type",
    ),
    path("key-managers", catalogue.KeyManagerListApi.as_view(), name="api_key_managers"),
    path("scopes", catalogue.ScopeListApi.as_view(), name="api_scopes"),
]
