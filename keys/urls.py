"""Pages of the keys area: an application's Production and Sandbox keys, per key manager."""

from django.urls import path, register_converter

from keys import views


class EnvironmentConverter:
    """``production`` or ``sandbox``: any other environment in the URL is a 404."""

    regex = "production|sandbox"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EnvironmentConverter, "keyenv")

ENV = "applications/<uuid:application_id>/keys/<keyenv:env>/"
KEY = ENV + "<uuid:key_id>/"

urlpatterns = [
    path(ENV, views.keys_page, name="application_keys"),
    path(ENV + "<slug:km>/generate/", views.keys_generate, name="keys_generate"),
    path(ENV + "<slug:km>/map/", views.keys_map, name="keys_map"),
    path(KEY + "update/", views.keys_update, name="keys_update"),
    path(KEY + "remove/", views.keys_remove, name="keys_remove"),
    path(KEY + "regenerate-secret/", views.secret_regenerate, name="keys_regenerate_secret"),
    path(KEY + "token/", views.token_generate, name="keys_token"),
    path(KEY + "clean-up/", views.keys_clean_up, name="keys_clean_up"),
]
