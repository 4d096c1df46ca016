"""Forgotten people in the read models: their sealed values become ``[erased]``.

Read models hold personal values as sealed tokens (the events' own ciphertext), opened by
the API with the vault. When a person is forgotten their key is deleted, which already makes
their tokens unreadable everywhere; the read models also replace them with `ERASED`:

- `sweep_forgotten` rewrites the tokens of forgotten people in every read-model table, right
  after the tombstone committed (and in a rebuild's staging schema before it goes live);
- `erase_forgotten` is applied by every writer to the rows it is about to write, so an event
  of a forgotten person projected late (or by a rebuild) writes ``[erased]`` as well.

Both run under `FORGET_LOCK`: forgetting takes it exclusively, writers shared (only when
their rows hold tokens), so a writer either sees the tombstone or its rows are swept.
A live read model and a rebuild of it therefore stay equal, forgotten people included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.personal import ERASED, SEALED_PREFIX, tokens_in
from eventstore.migrator import Connection
from projections.base import Projection
from projections.tables import Row
from vault.store import SCHEMA as VAULT_SCHEMA
from vault.store import erase_tokens_of, forgotten_among

FORGET_LOCK = "mentorflow:forget-person"


async def lock_for_forgetting(connection: Connection, *, exclusive: bool) -> None:
    """Take `FORGET_LOCK` for the current transaction."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await connection.execute(f"SELECT {function}(hashtextextended($1, 0))", FORGET_LOCK)


async def erase_forgotten(
    connection: Connection, rows: dict[str, list[Row]]
) -> dict[str, list[Row]]:
    """``rows`` by table, with the tokens of forgotten people replaced by ``[erased]``.

    ``rows`` itself when no row holds a forgotten person's token (the usual case: no copy).
    """
    people = _people_in(rows)
    if not people:
        return rows
    await lock_for_forgetting(connection, exclusive=False)
    gone = await forgotten_among(connection, people)
    if not gone:
        return rows
    return {
        name: [erase_tokens_of(row, gone) for row in table_rows]
        for name, table_rows in rows.items()
    }


def _people_in(rows: dict[str, list[Row]]) -> set[str]:
    """Whose tokens ``rows`` hold: `tokens_in` over every value, with a fast path for the
    plain values that make up nearly all of them (a writer calls this for every batch)."""
    people: set[str] = set()
    for table_rows in rows.values():
        for row in table_rows:
            for value in row:
                kind = type(value)
                if kind is str:
                    if not value.startswith(SEALED_PREFIX):
                        continue
                elif kind in _PLAIN:
                    continue
                people.update(token.person_id for token in tokens_in(value))
    return people


_PLAIN = frozenset({int, float, bool, type(None), datetime})


async def sweep_forgotten(
    connection: Connection,
    schema: str,
    projections: Iterable[Projection[Any]],
    person_id: str | None = None,
) -> int:
    """Replace tokens of forgotten people (or of ``person_id`` only) in ``schema``'s tables.

    The caller holds `FORGET_LOCK` (exclusively when forgetting). Returns the rows changed.
    """
    tables = {table.name for projection in projections for table in projection.tables}
    columns = await connection.fetch(
        """
        SELECT table_name, column_name, data_type = 'ARRAY' AS is_array
        FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = ANY($2::text[])
          AND (data_type = 'text' OR udt_name = '_text')
        ORDER BY table_name, ordinal_position
        """,
        schema,
        sorted(tables),
    )
    people = f"SELECT person_id FROM {VAULT_SCHEMA}.forgotten_people" + (
        " WHERE person_id = $2" if person_id is not None else ""
    )
    arguments: list[Any] = [SEALED_PREFIX]
    if person_id is not None:
        arguments.append(person_id)
    changed = 0
    for column in columns:
        target = f"{schema}.{column['table_name']}"
        name = column["column_name"]
        is_forgotten = f"starts_with({{value}}, $1) AND split_part({{value}}, ':', 3) IN ({people})"
        if column["is_array"]:
            sql = (
                f"UPDATE {target} SET {name} = ARRAY("
                f"SELECT CASE WHEN {is_forgotten.format(value='item')} THEN '{ERASED}' "
                f"ELSE item END FROM unnest({name}) WITH ORDINALITY AS u(item, n) ORDER BY n) "
                f"WHERE EXISTS (SELECT 1 FROM unnest({name}) AS item "
                f"WHERE {is_forgotten.format(value='item')})"
            )
        else:
            sql = f"UPDATE {target} SET {name} = '{ERASED}' WHERE {is_forgotten.format(value=name)}"
        status = await connection.execute(sql, *arguments)
        changed += int(status.rsplit(" ", 1)[-1])
    return changed
