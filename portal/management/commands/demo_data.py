"""``manage.py demo_data``: load the demo developer, admin and application (safe to run again)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.demo import load_demo_data


class Command(BaseCommand):
    help = "Create or refresh the demo data: developer 'demo', admin 'admin', application 'Weather App'."

    def handle(self, *args, **options):
        # Set by .ci/demo when it started the oidc-provider peer; the token comes through the
        # environment, not the command line, where other users of the machine could read it.
        data = load_demo_data(
            oidc_peer_url=os.environ.get("DEMO_OIDC_PEER_URL", ""),
            oidc_peer_token=os.environ.get("DEMO_OIDC_PEER_TOKEN", ""),
        )

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
        if data["peer_key_manager"] is not None:
            peer = data["peer_key_manager"]
            self.stdout.write(f"Second key manager: {peer.display_name} at {peer.issuer}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
