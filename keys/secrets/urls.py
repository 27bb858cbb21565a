"""Pages of the multiple-consumer-secrets area, below a key of an application's environment."""

from django.urls import path

from keys.secrets import views as secret_views

# keys.urls registers the ``keyenv`` converter (production|sandbox) that this prefix uses.
from keys.urls import KEY as KEY_URL

KEY = KEY_URL + "secrets/"

urlpatterns = [
    path(KEY, secret_views.secrets_page, name="key_secrets"),
    path(KEY + "new/", secret_views.secret_create, name="key_secret_create"),
    path(KEY + "<uuid:secret_id>/delete/", secret_views.secret_delete, name="key_secret_delete"),
]
