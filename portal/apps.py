from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Developer portal"

    def ready(self):
        from portal import checks  # noqa: F401  (registers the system checks)
        from portal.accounts import signals  # noqa: F401  (connects the account receivers)
