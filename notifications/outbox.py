"""The outbox table (schema ``notifications``): record, claim, mark; the dead letters.

Every time comes from the database's clock, the one clock every notifier shares. Claiming
is what keeps two notifiers from sending the same entry at once: it takes due rows with
``FOR UPDATE SKIP LOCKED`` and moves their ``next_attempt_at`` a lease into the future in
the same statement, so the rows are invisible to other claims until the lease ends. A
notifier that dies holding a claim leaves the row pending: it is due again once the lease
ends, and sent again, with the same ``Message-ID``.

Driver errors leave as the event store's kinds (`eventstore.errors.translating`).
"""

from __future__ import annotations

import json
from datetime import timedelta

from eventstore import Pool
from eventstore.errors import translating
from eventstore.migrator import load_migrations, migrate
from eventstore.pool import Record
from notifications.errors import NotADeadLetter, OutboxEntryNotFound
from notifications.models import OperatorAction, OutboxEntry, OutboxMessage, RecordedAction

SCHEMA = "notifications"

_COLUMNS = """
    outbox_id, event_id, recipient, channel, address, subject, text_body, category, html_body,
    calendar, headers, state, attempts, last_error, next_attempt_at, created_at, updated_at,
    sent_at
"""

RECORD = f"""
INSERT INTO {SCHEMA}.outbox (
    event_id, recipient, channel, address, subject, text_body, category, html_body, calendar,
    headers, next_attempt_at
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, coalesce($11, now()))
ON CONFLICT ON CONSTRAINT outbox_key DO NOTHING
RETURNING outbox_id
"""
"""Records one `OutboxMessage` (the arguments of `record_arguments`), unless its key is."""


def record_arguments(message: OutboxMessage) -> tuple[object, ...]:
    """The arguments of `RECORD` for ``message``."""
    return (
        message.event_id,
        message.recipient,
        message.channel.value,
        message.address,
        message.subject,
        message.text_body,
        message.category,
        message.html_body,
        message.calendar,
        json.dumps(message.headers),
        message.not_before,
    )


_CLAIM = f"""
UPDATE {SCHEMA}.outbox AS entry
SET attempts = entry.attempts + 1, next_attempt_at = now() + $2::interval, updated_at = now()
FROM (
    SELECT outbox_id FROM {SCHEMA}.outbox
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, outbox_id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) AS due
WHERE entry.outbox_id = due.outbox_id
RETURNING {", ".join(f"entry.{column.strip()}" for column in _COLUMNS.split(","))}
"""


@translating
async def migrate_outbox(pool: Pool) -> int:
    """Create or update the notifications schema; return how many migrations were applied."""
    async with pool.acquire() as connection:
        return await migrate(connection, SCHEMA, load_migrations("notifications"))


def _entry(row: Record) -> OutboxEntry:
    fields = dict(row.items())
    fields["headers"] = json.loads(fields["headers"])
    return OutboxEntry.model_validate(fields)


class PostgresOutbox:
    """The ``notifications.outbox`` table (its schema migrated by `migrate_outbox`).

    Args:
        pool: A pool on the event store's database (`eventstore.create_pool`).
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @translating
    async def record(self, message: OutboxMessage) -> bool:
        """Record a notification to send, unless its key is already recorded.

        Returns:
            Whether it is new; False means this (event, recipient, channel) was recorded
            before, whatever became of it, and nothing changed.
        """
        outbox_id = await self._pool.fetchval(RECORD, *record_arguments(message))
        return outbox_id is not None

    @translating
    async def claim_due(self, limit: int, lease: timedelta) -> list[OutboxEntry]:
        """Take up to ``limit`` due pending entries for one attempt each.

        Each is counted as an attempt and hidden from other claims for ``lease``: mark it
        before the lease ends, or it is claimed (and sent) again.
        """
        rows = await self._pool.fetch(_CLAIM, limit, lease)
        return sorted((_entry(row) for row in rows), key=lambda entry: entry.outbox_id)

    @translating
    async def mark_sent(self, outbox_id: int) -> None:
        """The SMTP server accepted the entry."""
        await self._pool.execute(
            f"UPDATE {SCHEMA}.outbox SET state = 'sent', sent_at = now(), updated_at = now(), "
            "last_error = NULL WHERE outbox_id = $1 AND state = 'pending'",
            outbox_id,
        )

    @translating
    async def mark_retry(self, outbox_id: int, error: str, delay: timedelta) -> None:
        """A transient failure: try the entry again after ``delay``."""
        await self._pool.execute(
            f"UPDATE {SCHEMA}.outbox SET next_attempt_at = now() + $3::interval, "
            "last_error = $2, updated_at = now() WHERE outbox_id = $1 AND state = 'pending'",
            outbox_id,
            error,
            delay,
        )

    @translating
    async def mark_dead(self, outbox_id: int, error: str) -> None:
        """A permanent failure, or too many transient ones: leave it to an operator."""
        await self._pool.execute(
            f"UPDATE {SCHEMA}.outbox SET state = 'dead', last_error = $2, updated_at = now() "
            "WHERE outbox_id = $1 AND state = 'pending'",
            outbox_id,
            error,
        )

    @translating
    async def entry(self, outbox_id: int) -> OutboxEntry:
        """The entry ``outbox_id``.

        Raises:
            OutboxEntryNotFound: When there is none.
        """
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {SCHEMA}.outbox WHERE outbox_id = $1", outbox_id
        )
        if row is None:
            raise OutboxEntryNotFound(outbox_id)
        return _entry(row)

    @translating
    async def dead_letters(self, limit: int = 1000) -> list[OutboxEntry]:
        """The dead entries, most recently dead first."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM {SCHEMA}.outbox WHERE state = 'dead' "
            "ORDER BY updated_at DESC, outbox_id DESC LIMIT $1",
            limit,
        )
        return [_entry(row) for row in rows]

    async def retry_dead_letter(
        self, outbox_id: int, operator: OperatorAction | None = None
    ) -> OutboxEntry:
        """Make a dead entry pending again, due now, with a fresh count of attempts.

        Args:
            outbox_id: The entry.
            operator: Who asks and why; recorded with the change (`dead_letter_actions`).
                Asked again after a recorded retry (it is no longer dead), the entry is
                answered unchanged and nothing more is recorded.

        Raises:
            OutboxEntryNotFound: When there is no such entry.
            NotADeadLetter: When it is not dead (nothing changes).
        """
        return await self._leave_dead(
            outbox_id,
            "state = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()",
            "retry",
            operator,
        )

    async def discard_dead_letter(
        self, outbox_id: int, operator: OperatorAction | None = None
    ) -> OutboxEntry:
        """Give a dead entry up: it is never sent, and its key never recorded again.

        Args:
            outbox_id: The entry.
            operator: Who asks and why, recorded as for `retry_dead_letter` (and as
                idempotent: a discarded entry discarded again changes nothing).

        Raises:
            OutboxEntryNotFound: When there is no such entry.
            NotADeadLetter: When it is not dead (nothing changes).
        """
        return await self._leave_dead(
            outbox_id, "state = 'discarded', updated_at = now()", "discard", operator
        )

    @translating
    async def actions(self, outbox_id: int) -> list[RecordedAction]:
        """The operator actions recorded on the entry, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT action, actor, reason, acted_at FROM {SCHEMA}.dead_letter_actions "
            "WHERE kind = 'notification' AND dead_letter_id = $1 ORDER BY action_id",
            str(outbox_id),
        )
        return [RecordedAction.model_validate(dict(row.items())) for row in rows]

    @translating
    async def _leave_dead(
        self, outbox_id: int, assignments: str, action: str, operator: OperatorAction | None
    ) -> OutboxEntry:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                f"UPDATE {SCHEMA}.outbox SET {assignments} "
                f"WHERE outbox_id = $1 AND state = 'dead' RETURNING {_COLUMNS}",
                outbox_id,
            )
            if row is not None:
                if operator is not None:
                    await connection.execute(
                        f"INSERT INTO {SCHEMA}.dead_letter_actions "
                        "(kind, dead_letter_id, action, actor, reason) "
                        "VALUES ('notification', $1, $2, $3, $4)",
                        str(outbox_id),
                        action,
                        operator.by,
                        operator.reason,
                    )
                return _entry(row)
        current = await self.entry(outbox_id)  # raises OutboxEntryNotFound
        done = await self.actions(outbox_id)
        if operator is not None and done and done[-1].action == action:
            return current  # asked again: already done (and recorded)
        raise NotADeadLetter(outbox_id, current.state.value)
