"""The resident cache stamp, and the triggers that bump it on any change to clients, secrets or
key managers (keymanagers.resident.cache reads it once per request).

Triggers, not model code: bulk updates, the admin and SQL by hand change these tables too, and a
stale cache would keep a deleted secret working. Recording "last used" (``keymanagers.resident.usage``
writes ``last_used_at`` at most once a minute per secret) is not a change of the client: an update
that changes nothing but ``last_used_at`` leaves the stamp alone, or every active client would empty
every instance's cache once a minute. The stamp row is upserted, so a flushed table
(tests) gets it back at the next change, with a random start so an old version is never reused.
"""

from django.db import migrations, models

TABLES = ("keymanagers_oauthclient", "keymanagers_clientsecret", "keymanagers_keymanager")
# Tables with a ``last_used_at`` column, whose updates of that column alone do not count.
USAGE_TABLES = ("keymanagers_oauthclient", "keymanagers_clientsecret")
STAMP = "keymanagers_residentstamp"

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION keymanagers_resident_stamp_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO keymanagers_residentstamp (id, version) VALUES (1, (random() * 4e18)::bigint)
    ON CONFLICT (id) DO UPDATE SET version = keymanagers_residentstamp.version + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
            for table in TABLES:
                # A row-level UPDATE trigger where usage must not count: it compares the rows without
                # last_used_at (and an UPDATE that matches no row, as usage's throttled one often
                # does, fires no row trigger). Everything else: once per statement.
                change = "INSERT OR DELETE" if table in USAGE_TABLES else "INSERT OR UPDATE OR DELETE"
                for suffix, events in (("change", change), ("truncate", "TRUNCATE")):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_stamp_{suffix} AFTER {events} ON {table} "
                        "FOR EACH STATEMENT EXECUTE PROCEDURE keymanagers_resident_stamp_bump()"
                    )
                if table in USAGE_TABLES:
                    cursor.execute(
                        f"CREATE TRIGGER {table}_stamp_update AFTER UPDATE ON {table} FOR EACH ROW "
                        "WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at')) "
                        "EXECUTE PROCEDURE keymanagers_resident_stamp_bump()"
                    )
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    # SQLite cannot compare whole rows: an update that moves last_used_at is usage's
                    # (the only writer of that column, which writes nothing else with it).
                    when = (
                        "WHEN NEW.last_used_at IS OLD.last_used_at "
                        if event == "UPDATE" and table in USAGE_TABLES
                        else ""
                    )
                    cursor.execute(
                        f"CREATE TRIGGER {table}_stamp_{event.lower()} AFTER {event} ON {table} {when}BEGIN "  # noqa: S608
                        f"INSERT INTO {STAMP} (id, version) VALUES (1, abs(random() / 4)) "
                        f"ON CONFLICT (id) DO UPDATE SET version = version + 1; END"
                    )
        # Other databases get no triggers: keymanagers.resident.cache finds none and stays off.


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in TABLES:
                for suffix in ("change", "truncate", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_stamp_{suffix} ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS keymanagers_resident_stamp_bump()")
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_stamp_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("keymanagers", "0008_last_used"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResidentStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "resident cache stamp",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
