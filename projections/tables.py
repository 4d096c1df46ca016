"""Read-model tables as projections see them: columns, keys, row diffs and the SQL to write them.

A projection describes the rows a stream's state maps to (`Rows`); writing a change is the
difference between the rows before and after an event, so the live path touches only the
rows an event changed and a rebuild copies the rows of the final state. Both derive rows
from the same state with the same function, which is what makes a rebuild equal to the live
read model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = tuple[Any, ...]
"""One row, values in the table's column order."""

Rows = Mapping[str, Sequence[Row]]
"""Rows by table name."""


@dataclass(frozen=True, slots=True)
class Table:
    """A read-model table: its columns in DDL order, the first ``key_size`` forming its key.

    Every key starts with ``stream_id``: a row belongs to one stream (see the migration).
    """

    name: str
    columns: tuple[str, ...]
    key_size: int = 1

    def __post_init__(self) -> None:
        if not self.columns or self.columns[0] != "stream_id":
            raise ValueError(f"{self.name}: the first column must be stream_id")
        if not 1 <= self.key_size <= len(self.columns):
            raise ValueError(f"{self.name}: invalid key size {self.key_size}")

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The columns of the primary key."""
        return self.columns[: self.key_size]

    def key(self, row: Row) -> Row:
        """The key of ``row``."""
        return row[: self.key_size]

    def upsert_sql(self, schema: str) -> str:
        """Insert a row, or update every non-key column of the row with its key."""
        columns = ", ".join(self.columns)
        placeholders = ", ".join(f"${index}" for index in range(1, len(self.columns) + 1))
        return (
            f"INSERT INTO {schema}.{self.name} ({columns}) VALUES ({placeholders}) "
            + self.on_conflict_sql()
        )

    def on_conflict_sql(self) -> str:
        """The ``ON CONFLICT`` clause of an upsert: update every non-key column."""
        values = self.columns[self.key_size :]
        action = (
            "DO UPDATE SET " + ", ".join(f"{column} = EXCLUDED.{column}" for column in values)
            if values
            else "DO NOTHING"
        )
        return f"ON CONFLICT ({', '.join(self.key_columns)}) {action}"

    def delete_sql(self, schema: str) -> str:
        """Delete the row with a key."""
        condition = " AND ".join(
            f"{column} = ${index}" for index, column in enumerate(self.key_columns, start=1)
        )
        return f"DELETE FROM {schema}.{self.name} WHERE {condition}"


@dataclass(frozen=True, slots=True)
class RowChanges:
    """What to write to one table: rows to upsert and keys to delete."""

    table: Table
    upserts: list[Row]
    deletes: list[Row]

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes)


def diff_rows(table: Table, before: Sequence[Row], after: Sequence[Row]) -> RowChanges:
    """The upserts and deletes that turn the rows ``before`` into the rows ``after``."""
    old = {table.key(row): row for row in before}
    new = {table.key(row): row for row in after}
    upserts = [row for key, row in new.items() if old.get(key) != row]
    deletes = [key for key in old if key not in new]
    return RowChanges(table, upserts, deletes)
