from django.apps import AppConfig

from keymanagers import hooks


class KeysConfig(AppConfig):
    name = "keys"
    verbose_name = "Application keys"

    def ready(self):
        # keys owns the scope catalogue and the keys that hold clients; keymanagers reads them
        # through these hooks because it must not import keys (keymanagers/hooks.py).
        from keys.admin_actions import mask_existing_secrets
        from keys.secrets.services import on_multiple_secrets_enabled
        from keys.selectors import resident_client_application, resident_client_holder, scope_rows

        hooks.register(
            scopes=scope_rows,
            holder=resident_client_holder,
            application=resident_client_application,
            admin_actions=[mask_existing_secrets],
            on_multiple_secrets=[on_multiple_secrets_enabled],
        )
