from django.db import migrations


def create_default_scope(apps, schema_editor):
    Scope = apps.get_model("keys", "Scope")
    Scope.objects.get_or_create(
        name="default", defaults={"display_name": "Default", "description": "Always allowed."}
    )


class Migration(migrations.Migration):
    dependencies = [("keys", "0001_initial")]
    operations = [migrations.RunPython(create_default_scope, migrations.RunPython.noop)]
