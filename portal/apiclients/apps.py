from django.apps import AppConfig


class ApiClientsConfig(AppConfig):
    name = "portal.apiclients"
    label = "apiclients"
    verbose_name = "REST API clients"
    default_auto_field = "django.db.models.BigAutoField"
