"""Keys endpoints of the REST API, included by ``portal/api_urls.py`` under /api/am/devportal/v3/."""

from django.urls import path

from keys import api, api_catalogue

APP = "applications/<uuid:application_id>/"
KEY = APP + "oauth-keys/<uuid:key_mapping_id>"
# The reference's deprecated operations name a key by its type (PRODUCTION/SANDBOX).
BY_TYPE = APP + "keys/<str:key_type>"

urlpatterns = [
    path(APP + "generate-keys", api.GenerateKeysApi.as_view(), name="api_generate_keys"),
    path(APP + "map-keys", api.MapKeysApi.as_view(), name="api_map_keys"),
    path(APP + "oauth-keys", api.KeyListApi.as_view(), name="api_oauth_keys"),
    path(KEY, api.KeyDetailApi.as_view(), name="api_oauth_key"),
    path(KEY + "/regenerate-secret", api.RegenerateSecretApi.as_view(), name="api_regenerate_secret"),
    path(KEY + "/clean-up", api.CleanUpApi.as_view(), name="api_clean_up"),
    path(KEY + "/generate-token", api.GenerateTokenApi.as_view(), name="api_generate_token"),
    path(APP + "keys", api.DeprecatedKeyListApi.as_view(), name="api_keys_deprecated"),
    path(BY_TYPE, api.DeprecatedKeyDetailApi.as_view(), name="api_key_by_type"),
    path(
        BY_TYPE + "/regenerate-secret",
        api.DeprecatedRegenerateSecretApi.as_view(),
        name="api_regenerate_by_type",
    ),
    path(BY_TYPE + "/clean-up", api.DeprecatedCleanUpApi.as_view(), name="api_clean_up_by_type"),
    path(
        BY_TYPE + "/generate-token",
        api.DeprecatedGenerateTokenApi.as_view(),
        name="api_generate_token_by_type",
    ),
    path("key-managers", api_catalogue.KeyManagerListApi.as_view(), name="api_key_managers"),
    path("scopes", api_catalogue.ScopeListApi.as_view(), name="api_scopes"),
]
