"""Drop the PostgreSQL ``varchar_pattern_ops`` ("_like") indexes beside the unique indexes of token
and code checksums (PostgreSQL only; SQLite has none).

Django adds such an index to every indexed ``CharField`` on PostgreSQL, for ``LIKE 'prefix%'``.
Tokens and codes are only ever looked up by equality on their checksum (``lookup.py``, the
validator), which the unique index serves; nothing searches them by prefix (the admin searches by
client and user, never by a token). Every token or code insert still wrote both indexes, and on a
large token table each is a random-page write. The planner picked the ``_like`` index for
equality as often as the unique one, so dropping it changes no plan's cost.

The index names are Django's own (``_create_index_name(table, [column], "_like")``), as its schema
editor looks them up when a later migration alters the column (``DROP INDEX IF EXISTS``).
"""

from django.db import migrations

# (index, table, column) of each redundant pattern index.
LIKE_INDEXES = (
    (
        "oauth2_provider_accesstoken_token_checksum_85319a26_like",
        "oauth2_provider_accesstoken",
        "token_checksum",
    ),
    ("oauth2_provider_grant_code_49ab4ddf_like", "oauth2_provider_grant", "code"),
    ("keymanagers_redeemedcode_code_hash_93af3b45_like", "keymanagers_redeemedcode", "code_hash"),
)


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _table, _column in LIKE_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, table, column in LIKE_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("keymanagers", "0010_revoked_tokens"),
        # The access token's token_checksum and the grant's code as DOT last defined them.
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
