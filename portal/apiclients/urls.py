"""The REST API's client registration, at the reference's path (included at /client-registration/v0.17/)."""

from django.urls import path

from portal.apiclients.views import ClientRegistrationApi

urlpatterns = [path("register", ClientRegistrationApi.as_view(), name="api_client_register")]
