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


@register(Tags.security, deploy=True)
def check_keys_do_not_fall_back_to_secret_key(app_configs, **kwargs):
    # One leaked or rotated SECRET_KEY would otherwise expose or invalidate every stored secret.
    return [
        Error(
            f"{name} is not set: it falls back to SECRET_KEY.",
            hint=f"Set {name} (or {name}_FILE) to its own random value, the same on every instance. "
            "Changing it later invalidates what it protects (README, Configuration).",
            id="portal.E002",
        )
        for name in settings.PORTAL_KEYS_FROM_SECRET_KEY
    ]


@register(Tags.security, deploy=True)
def check_email_is_not_the_console(app_configs, **kwargs):
    # The console backend writes every mail to the log: password-reset and verification links
    # there let whoever reads the log take over accounts.
    if not settings.DEBUG and settings.EMAIL_BACKEND in (
        "django.core.mail.backends.console.EmailBackend",
        "portal.mail.UnconfiguredEmailBackend",
    ):
        return [
            Error(
                "EMAIL_HOST is not set: no email (password reset, sign-up verification) can be sent, "
                "and the console backend would put reset links in the server log.",
                hint="Set EMAIL_HOST (and EMAIL_HOST_USER / EMAIL_HOST_PASSWORD) to an SMTP server.",
                id="portal.E003",
            )
        ]
    return []
