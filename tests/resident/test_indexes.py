"""Each token and code checksum has one index, its unique one (migration keymanagers.0011 drops
PostgreSQL's redundant ``varchar_pattern_ops`` copies), and lookups by value still use it."""

from __future__ import annotations

import pytest
from django.db import connection
from oauth2_provider.models import AccessToken, Grant

from keymanagers.models import RedeemedCode

pytestmark = pytest.mark.django_db

CHECKSUM_COLUMNS = [
    (AccessToken, "token_checksum"),
    (Grant, "code"),
    (RedeemedCode, "code_hash"),
]


def _indexes_on(table: str, column: str) -> dict[str, dict]:
    """Indexes and unique constraints on exactly ``column`` (Django reports a unique constraint
    once, not again as the index behind it)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: c for name, c in constraints.items() if c["columns"] == [column] and (c["index"] or c["unique"])
    }


@pytest.mark.parametrize(("model", "column"), CHECKSUM_COLUMNS, ids=lambda v: getattr(v, "__name__", v))
def test_a_checksum_column_has_only_its_unique_index(model, column):
    indexes = _indexes_on(model._meta.db_table, column)
    assert len(indexes) == 1, indexes
    assert next(iter(indexes.values()))["unique"]


def test_a_token_lookup_by_checksum_uses_the_unique_index():
    query = AccessToken.objects.filter(token_checksum="0" * 64)
    plan = query.explain()
    if connection.vendor == "postgresql":
        (unique,) = _indexes_on(AccessToken._meta.db_table, "token_checksum")
        assert f"Index Scan using {unique}" in plan, plan
    else:  # SQLite's index behind a UNIQUE column is its automatic one
        assert "USING INDEX sqlite_autoindex_oauth2_provider_accesstoken" in plan, plan
