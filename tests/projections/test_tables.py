"""Table specs against the migrated schema, and the row diff the live path writes."""

from __future__ import annotations

from collections import Counter

import pytest

from eventstore import PostgresEventStore
from projections import SCHEMA, all_projections
from projections.tables import Table, diff_rows

TABLE = Table("things", ("stream_id", "thing_id", "value"), key_size=2)


def test_the_diff_upserts_changed_and_new_rows_and_deletes_vanished_ones() -> None:
    before = [("s", "a", 1), ("s", "b", 2), ("s", "c", 3)]
    after = [("s", "a", 1), ("s", "b", 20), ("s", "d", 4)]

    changes = diff_rows(TABLE, before, after)

    assert changes.upserts == [("s", "b", 20), ("s", "d", 4)]
    assert changes.deletes == [("s", "c")]
    assert not diff_rows(TABLE, after, after)


def test_every_table_key_starts_with_the_stream() -> None:
    with pytest.raises(ValueError, match="stream_id"):
        Table("bad", ("cohort_id", "stream_id"))


async def test_the_specs_match_the_migrated_tables(store: PostgresEventStore) -> None:
    for projection in all_projections():
        for table in projection.tables:
            columns = await store.pool.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                SCHEMA,
                table.name,
            )
            assert tuple(row["column_name"] for row in columns) == table.columns
            key = await store.pool.fetch(
                "SELECT a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = $1::regclass AND i.indisprimary",
                f"{SCHEMA}.{table.name}",
            )
            assert {row["attname"] for row in key} == set(table.key_columns)


async def test_every_read_model_table_has_exactly_one_owner(store: PostgresEventStore) -> None:
    tables = await store.pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", SCHEMA)
    owners = Counter(table.name for p in all_projections() for table in p.tables)
    bookkeeping = {"checkpoints", "positions", "skips", "schema_migrations"}
    assert {row["tablename"] for row in tables} - bookkeeping == set(owners)
    assert set(owners.values()) == {1}
    assert len({projection.name for projection in all_projections()}) == len(all_projections())
