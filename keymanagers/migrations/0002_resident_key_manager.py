from django.db import migrations


def create_resident(apps, schema_editor):
    KeyManager = apps.get_model("keymanagers", "KeyManager")
    KeyManager.objects.get_or_create(
        name="Resident",
        defaults={
            "display_name": "Resident Key Manager",
            "type": "resident",
            "description": "The portal's built-in OAuth 2.0 authorization server.",
            "order": 0,
            "available_grant_types": ["client_credentials", "refresh_token", "authorization_code"],
            "token_format": "DIRECT",
            "enable_oauth_app_creation": True,
            "enable_token_generation": True,
            "enable_map_oauth_consumer_apps": False,
            "multiple_secrets_enabled": True,
            "secret_count": None,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("keymanagers", "0001_initial")]
    operations = [migrations.RunPython(create_resident, migrations.RunPython.noop)]
