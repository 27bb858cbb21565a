"""Insert ``--count`` stored access tokens in one ``INSERT … SELECT FROM generate_series`` (a million
in seconds), spread over every OAuth client of the database: the "large table" of bench/run.

Works for whichever Django project ``DJANGO_SETTINGS_MODULE`` names (the portal, or bench/stockdot),
because the columns come from that project's access-token model: a field it does not know how to
fill stops the script with the field's name rather than seeding something unlike real rows.

Half the tokens expired a day ago (what a table looks like between two clean-ups), half are valid
for an hour. The token values are never usable: their checksums are of strings no server issued.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

import django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    django.setup()

    from django.db import DatabaseError, connection
    from django.db.models.fields import AutoFieldMixin
    from oauth2_provider.models import get_access_token_model, get_application_model
    from oauth2_provider.settings import oauth2_settings

    token_model = get_access_token_model()
    client_ids = list(get_application_model().objects.order_by("pk").values_list("pk", flat=True))
    if not client_ids:
        sys.exit("seed_tokens: no OAuth client to attach the tokens to")
    # No "%" in the SQL below but placeholders (mod() instead): the driver formats it.
    # A prefix per run, so the checksums cannot collide with an earlier seeding.
    raw = f"'bench-seed-{secrets.token_hex(4)}-' || g"
    expressions = {
        "token": "''" if oauth2_settings.COMPLIANT_BCP_RFC9700_TOKEN_STORAGE else raw,
        "token_checksum": f"encode(sha256(convert_to({raw}, 'UTF8')), 'hex')",
        "application": f"(%s::bigint[])[1 + mod(g, {len(client_ids)})]",
        "expires": "CASE WHEN mod(g, 2) = 0 THEN now() - interval '1 day' ELSE now() + interval '1 hour' END",
        "scope": "'default'",
        "created": "now() - mod(g, 86400) * interval '1 second'",
        "updated": "now() - mod(g, 86400) * interval '1 second'",
    }
    columns, values, params = [], [], []
    for field in token_model._meta.concrete_fields:
        if isinstance(field, AutoFieldMixin):
            continue
        if field.name in expressions:
            expression = expressions[field.name]
            if field.name == "application":
                params.append(client_ids)
        elif field.null:
            expression = "NULL"
        elif field.has_default():
            expression = "%s"
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            sys.exit(f"seed_tokens: no rule to fill {token_model.__name__}.{field.name}")
        columns.append(connection.ops.quote_name(field.column))
        values.append(expression)

    table = connection.ops.quote_name(token_model._meta.db_table)
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Table and columns come from the model's metadata, quoted; every value is a parameter.
        insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS g"
        )
        cursor.execute(insert, [*params, args.count])
        # VACUUM too, not only ANALYZE: otherwise autovacuum would work through a million new rows
        # during the measurement (and the visibility map lets index-only scans skip the heap).
        cursor.execute(f"VACUUM ANALYZE {table}")
        # And a checkpoint now: otherwise the checkpointer spreads the writes of a million rows over
        # the next minutes, i.e. over the first rows measured on the large table (seen: every row,
        # the peers' too, ~25% slower there, then back). Needs a superuser (or pg_checkpoint).
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as exc:
            print(
                f"seed_tokens: no CHECKPOINT ({exc}); the first large-table rows may be slower",
                file=sys.stderr,
            )
    print(
        f"seed_tokens: {args.count:,} rows into {token_model._meta.db_table} "
        f"over {len(client_ids)} clients in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
