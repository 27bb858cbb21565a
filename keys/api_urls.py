"""Keys endpoints of the REST API, included by ``portal/api_urls.py`` under /api/am/devportal/v3/."""

from django.urls import path

from keys import api, api_catalogue

APP = "applications/<uuid:application_id>/"
KEY = APP + "oauth-keys/<uuid:key_mapping_id>"

urlpatterns = [
    path(APP + "generate-keys", api.GenerateKeysApi.as_view(), name="api_generate_keys"),
    path(APP + "map-keys", api.MapKeysApi.as_view(), name="api_map_keys"),
    path(APP + "oauth-keys", api.KeyListApi.as_view(), name="api_oauth_keys"),
    path(KEY, api.KeyDetailApi.as_view(), name="api_oauth_key"),
    path(KEY + "/regenerate-secret", api.RegenerateSecretApi.as_view(), name="api_regenerate_secret"),
    path(KEY + "/clean-up", api.CleanUpApi.as_view(), name="api_clean_up"),
    path(KEY + "/generate-token", api.GenerateTokenApi.as_view(), name="api_generate_token"),
    path("key-managers", api_catalogue.KeyManagerListApi.as_view(), name="api_key_managers"),
    path("scopes", api_catalogue.ScopeListApi.as_view(), name="api_scopes"),
]
