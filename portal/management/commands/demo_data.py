"""``manage.py demo_data``: load the demo developer, admin and application (safe to run again)."""

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
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
