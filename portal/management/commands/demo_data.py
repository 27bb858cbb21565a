"""``manage.py demo_data``: load the demo developer, admin and application (safe to run again)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.demo import load_demo_data


class Command(BaseCommand):
    help = "Create or refresh the demo data: developer 'demo', admin 'admin', application 'Weather App'."

    def handle(self, *args, **options):
        data = load_demo_data()

        def state(created: bool) -> str:
            return "created" if created else "already there"

        application = data["application"]
        self.stdout.write(
            f"Developer: {data['developer'].username} / {data['developer_password']} ({state(data['developer_created'])})"
        )
        self.stdout.write(
            f"Admin:     {data['admin'].username} / {data['admin_password']} ({state(data['admin_created'])})"
        )
        self.stdout.write(
            f"Application: {application.name} ({application.pk}, {state(data['application_created'])})"
        )
        key = data["key"]
        if key is not None:
            self.stdout.write(
                f"Production keys at {key.key_manager.display_name}: consumer key {key.consumer_key}"
                f" ({state(data['key_created'])})"
            )
        if data["consumer_secret"]:
            # Printed once, like the portal shows it once; only its keyed hash is stored.
            self.stdout.write(f"Consumer secret (shown once): {data['consumer_secret']}")
            credentials = f"{key.consumer_key}:{data['consumer_secret']}"
            token_url = f"{settings.SITE_URL}/oauth2/token"
            self.stdout.write(
                f"Get a token: curl -u '{credentials}' -d grant_type=client_credentials {token_url}"
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
