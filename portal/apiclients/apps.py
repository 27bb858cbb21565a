from django.apps import AppConfig


class ApiClientsConfig(AppConfig):
    name = "portal.apiclients"
    label = "apiclients"
    verbose_name = "REST API clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from portal.apiclients import signals  # noqa: F401  (connects the password-change receiver)
