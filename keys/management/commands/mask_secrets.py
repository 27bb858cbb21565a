"""Destroy the retrievable copies of consumer secrets at key managers in multiple-secret mode."""

from django.core.management.base import BaseCommand, CommandError

from keymanagers.models import KeyManager
from keys.secrets.rules import SecretsDisabled
from keys.secrets.selectors import secrets_mask_preview
from keys.secrets.services import secrets_mask_all


class Command(BaseCommand):
    help = (
        "Mask every consumer secret of keys at key managers with multiple secrets enabled: their "
        "encrypted copies are deleted for good, so developers can no longer reveal them (their hashes "
        "stay, so they keep working). Run it after switching multiple secrets on outside the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key-manager", metavar="NAME", help="Only this key manager (its name).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be masked; change nothing."
        )

    def handle(self, *args, key_manager=None, dry_run=False, **options):
        km = None
        if key_manager:
            km = KeyManager.objects.filter(name=key_manager).first()
            if km is None:
                raise CommandError(f"No key manager named {key_manager!r}.")
            scope = [km]
        else:
            scope = KeyManager.objects.filter(multiple_secrets_enabled=True)
        secrets, keys = secrets_mask_preview(key_managers=scope)
        try:
            masked = secrets_mask_all(key_manager=km, dry_run=dry_run)
        except SecretsDisabled as exc:
            raise CommandError(exc.description) from None
        if dry_run:
            self.stdout.write(f"Would mask {masked} secrets of {keys} keys (dry run: nothing changed).")
        else:
            self.stdout.write(self.style.SUCCESS(f"Masked {masked} secrets of {keys} keys."))
