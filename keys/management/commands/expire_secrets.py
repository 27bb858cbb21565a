"""Delete expired consumer secrets at key managers that do not enforce expiry themselves (Okta)."""

from django.core.management.base import BaseCommand, CommandError

from keys.secrets.expiry import secrets_expire


class Command(BaseCommand):
    help = (
        "Delete consumer secrets whose expiry has passed, at their key manager and in the portal, at key "
        "managers that do not refuse expired secrets by themselves (Okta secrets never expire there; the "
        "Resident server enforces expiry itself and is left alone). An expired secret is deleted even if "
        "it is its key's last one. Run it from cron, e.g. hourly (0 * * * *): until it runs, an expired "
        "secret keeps working at such a key manager. Safe to run on several machines at once; a failure "
        "is reported, the secret kept, and retried next run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the expired secrets it would delete; change nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        result = secrets_expire(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"Would delete {result.expired} expired secrets (dry run: nothing changed).")
        else:
            gone = (
                f" ({result.already_gone} already gone at their key manager)" if result.already_gone else ""
            )
            self.stdout.write(self.style.SUCCESS(f"Deleted {result.expired} expired secrets{gone}."))
            if result.clients_disabled:
                self.stdout.write(
                    f"{result.clients_disabled} of them were a key's last secret: the client was disabled "
                    "at its key manager until the developer creates a new secret."
                )
        if result.unenforceable:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.unenforceable} expired secrets are at key managers that can neither enforce "
                    "expiry nor delete a secret from the portal: delete them at the key manager itself."
                )
            )
        if result.failures:
            for failure in result.failures:
                self.stdout.write(
                    f"  secret {failure.secret_id} of key {failure.key_id} at {failure.key_manager}: {failure.error}"
                )
            raise CommandError(
                f"{len(result.failures)} expired secrets could not be deleted; they are kept and retried next run."
            )
