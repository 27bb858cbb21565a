"""Rotate the resident server's JWT signing key."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from keymanagers.models import SigningKey
from keymanagers.resident import signing, tokens


class Command(BaseCommand):
    help = (
        "Make a new active signing key for the resident authorization server. The old keys are "
        "retired but stay in the JWKS until the longest configured token lifetime (at least a day) "
        "has passed and every live token they signed has expired, so those tokens keep verifying. "
        "A token that never expires keeps its key published for as long: revoke it to let the key go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--algorithm", choices=signing.ALGORITHMS, help="Default: RESIDENT_JWT_ALGORITHM."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; change nothing.")

    def handle(self, *args, algorithm=None, dry_run=False, **options):
        if dry_run:
            now = timezone.now()
            active = list(SigningKey.objects.filter(state=SigningKey.State.ACTIVE))
            for key in active:
                self._say_published(key.kid, now, signing.publish_until(key, now), would=True)
            if not active:
                self.stdout.write("No active key to retire.")
            self.stdout.write(
                f"Would create a new {algorithm or signing.configured_algorithm()} key. Nothing was changed."
            )
            return
        active = list(SigningKey.objects.filter(state=SigningKey.State.ACTIVE).values_list("pk", flat=True))
        try:
            row = signing.rotate(algorithm=algorithm)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for key in SigningKey.objects.filter(pk__in=active).order_by("created_at"):
            self._say_published(key.kid, key.retired_at, key.publish_until, would=False)
        self.stdout.write(self.style.SUCCESS(f"New active signing key {row.kid} ({row.algorithm})."))

    def _say_published(self, kid, now, until, *, would: bool) -> None:
        verb = "Would retire" if would else "Retired"
        self.stdout.write(f"{verb} {kid}; it stays in the JWKS until {until.isoformat()}.")
        if tokens.is_never((until - now).total_seconds()):
            self.stdout.write(
                f"  {kid} signed a token that never expires, so it stays published for as long. "
                "Revoke such tokens (or the keys that hold them) to let it go."
            )
