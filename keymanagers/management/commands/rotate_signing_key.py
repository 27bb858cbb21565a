"""Rotate the resident server's JWT signing key."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from keymanagers.models import SigningKey
from keymanagers.resident import signing


class Command(BaseCommand):
    help = (
        "Make a new active signing key for the resident authorization server. The old keys are "
        "retired but stay in the JWKS until the longest configured token lifetime (at least a day) "
        "has passed, so tokens they signed keep verifying. Tokens that never expire outlive that window."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--algorithm", choices=signing.ALGORITHMS, help="Default: RESIDENT_JWT_ALGORITHM."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; change nothing.")

    def handle(self, *args, algorithm=None, dry_run=False, **options):
        active = list(SigningKey.objects.filter(state=SigningKey.State.ACTIVE).values_list("kid", flat=True))
        publish_seconds = signing.longest_token_lifetime()
        if dry_run:
            self.stdout.write(
                f"Would retire {len(active)} active key(s) {', '.join(active) or '(none)'}, published for "
                f"{publish_seconds} more seconds, and create a new {algorithm or signing.configured_algorithm()} key."
            )
            return
        try:
            row = signing.rotate(algorithm=algorithm)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for kid in active:
            self.stdout.write(f"Retired {kid}; it stays in the JWKS for {publish_seconds} seconds.")
        self.stdout.write(self.style.SUCCESS(f"New active signing key {row.kid} ({row.algorithm})."))
