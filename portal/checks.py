"""System checks for configuration mistakes that settings alone cannot refuse."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is not set: the development key is in use.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE.",
                id="portal.E001",
            )
        ]
    return []
