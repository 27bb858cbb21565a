"""Delete the resident server's ended tokens, codes and ID tokens (run daily from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from keymanagers.resident import cleanup


class Command(BaseCommand):
    help = (
        "Delete resident access tokens, refresh tokens, authorization codes, ID tokens and revoked "
        "JWTs' records that ended "
        "more than the grace period ago. Refresh tokens follow their client's lifetime; a refresh "
        "token that never expires is kept until it is revoked. Use instead of DOT's cleartokens."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-days",
            type=float,
            default=cleanup.DEFAULT_GRACE.total_seconds() / 86400,
            help="Keep what ended less than this many days ago (default 1).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=cleanup.DEFAULT_BATCH_SIZE,
            help=f"Rows per delete (default {cleanup.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args, grace_days, batch_size, dry_run, **options):
        if grace_days < 0:
            raise CommandError("--grace-days cannot be negative.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        counts = cleanup.clear_resident_tokens(
            grace=timedelta(days=grace_days), dry_run=dry_run, batch_size=batch_size
        )
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {counts.access_tokens} access token(s), {counts.refresh_tokens} refresh token(s), "
            f"{counts.grants} authorization code(s), {counts.id_tokens} ID token(s), "
            f"{counts.redeemed_codes} redeemed-code record(s) and {counts.revoked_jwts} revoked JWT(s)."
        )
