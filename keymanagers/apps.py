from django.apps import AppConfig


class KeyManagersConfig(AppConfig):
    name = "keymanagers"
    verbose_name = "Key managers"
