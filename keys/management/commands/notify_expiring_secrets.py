"""Email developers about their consumer secrets that expire soon (run daily from cron)."""

from django.core.management.base import BaseCommand, CommandError

from keys.secrets.reminders import secrets_notify_expiring


class Command(BaseCommand):
    help = (
        "Email each owner, once per secret, about consumer secrets expiring within --days days "
        "(no values, only application, environment, key manager, description and expiry). Safe to run "
        "on several machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=14, help="Look this many days ahead (default 14).")
        parser.add_argument("--dry-run", action="store_true", help="Say who would be emailed; send nothing.")

    def handle(self, *args, days=14, dry_run=False, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        result = secrets_notify_expiring(days=days, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Would email {result.emails} owners about {result.secrets} secrets expiring within {days} days "
                "(dry run: nothing sent)."
            )
            for recipient in result.recipients:
                self.stdout.write(f"  {recipient}")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Emailed {result.emails} owners about {result.secrets} secrets expiring within {days} days."
            )
        )
        if result.failed_emails:
            raise CommandError(
                f"{result.failed_emails} emails could not be sent; their secrets will be retried next run."
            )
