from django.apps import AppConfig


class KeyManagersConfig(AppConfig):
    name = "keymanagers"
    verbose_name = "Key managers"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from keymanagers.resident.signin import record_auth_time

        # OpenID Connect max_age needs to know when a session signed in.
        user_logged_in.connect(record_auth_time, dispatch_uid="resident-auth-time")
