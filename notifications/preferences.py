"""People's own notification choices (table ``notifications.preferences``).

A person (a participant, or an HR contact under their contact id) may choose their channel,
quiet hours and digest frequency; whatever they leave unset (None) is the program's default
from the cohort spec's ``notifications`` block. Quiet hours have a third value besides a
window and None: ``"off"``, no quiet hours even where the program has some.

The table's schema is migrated with the outbox's (`notifications.outbox.migrate_outbox`).
Choices hold no free text, but they are a person's: forgetting the person deletes them, with
the person's outbox rows (`erase_person`), in the forgetting's own transaction.

Driver errors leave as the event store's kinds (`eventstore.errors.translating`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.notification_spec import (
    QUIET_HOURS_OFF,
    Channel,
    Digest,
    QuietHours,
    QuietHoursChoice,
)
from eventstore import Pool
from eventstore.errors import translating
from eventstore.pool import Connection, Record
from notifications.outbox import SCHEMA


class NotificationPreferences(BaseModel):
    """A person's choices; each None means "the program's default"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel | None = Field(
        default=None, description="email or none (no messages at all); null: the default"
    )
    quiet_hours: QuietHoursChoice = None
    digest: Digest | None = Field(
        default=None,
        description="How often an HR contact gets the digest: daily, weekly or off; null: "
        "the default",
    )


class PersonPreferences(NotificationPreferences):
    """A person's stored choices (all None when they have made none)."""

    person_id: str = Field(description="Participant id, or an HR contact's id")


_COLUMNS = """
    person_id, channel, quiet_hours_start, quiet_hours_end, quiet_hours_off, digest
"""

_UPSERT = f"""
INSERT INTO {SCHEMA}.preferences AS stored
    (person_id, channel, quiet_hours_start, quiet_hours_end, quiet_hours_off, digest)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (person_id) DO UPDATE SET
    channel = excluded.channel,
    quiet_hours_start = excluded.quiet_hours_start,
    quiet_hours_end = excluded.quiet_hours_end,
    quiet_hours_off = excluded.quiet_hours_off,
    digest = excluded.digest,
    updated_at = now()
RETURNING {_COLUMNS}
"""


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def _preferences(row: Record) -> PersonPreferences:
    quiet_hours: QuietHours | Literal["off"] | None = None
    if row["quiet_hours_off"]:
        quiet_hours = QUIET_HOURS_OFF
    elif row["quiet_hours_start"] is not None:
        quiet_hours = QuietHours(
            start=row["quiet_hours_start"].strftime("%H:%M"),
            end=row["quiet_hours_end"].strftime("%H:%M"),
        )
    return PersonPreferences(
        person_id=row["person_id"],
        channel=row["channel"],
        quiet_hours=quiet_hours,
        digest=row["digest"],
    )


@translating
async def read_preferences(pool: Pool, person_ids: Iterable[str]) -> dict[str, PersonPreferences]:
    """The stored choices of those of ``person_ids`` who made any, by person id."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM {SCHEMA}.preferences WHERE person_id = ANY($1::text[])",
        wanted,
    )
    return {row["person_id"]: _preferences(row) for row in rows}


async def preferences_of(pool: Pool, person_id: str) -> PersonPreferences:
    """The person's stored choices; all None (the program's defaults) when they made none."""
    stored = await read_preferences(pool, [person_id])
    return stored.get(person_id, PersonPreferences(person_id=person_id))


@translating
async def store_preferences(
    connection: Connection, person_id: str, preferences: NotificationPreferences
) -> PersonPreferences:
    """Replace the person's choices with ``preferences`` (in the caller's transaction).

    Returns:
        The choices as stored.
    """
    window = preferences.quiet_hours if isinstance(preferences.quiet_hours, QuietHours) else None
    row = await connection.fetchrow(
        _UPSERT,
        person_id,
        preferences.channel,
        _clock(window.start) if window else None,
        _clock(window.end) if window else None,
        preferences.quiet_hours == QUIET_HOURS_OFF,
        preferences.digest,
    )
    assert row is not None  # an upsert with RETURNING returns its row
    return _preferences(row)


class ErasedNotifications(BaseModel):
    """What `erase_person` deleted."""

    model_config = ConfigDict(frozen=True)

    preferences: int = Field(description="Preference rows (0 or 1)")
    outbox_entries: int = Field(description="Outbox rows addressed to the person")


@translating
async def erase_person(connection: Connection, person_id: str) -> ErasedNotifications:
    """Delete the person's choices and every outbox row addressed to them (in the caller's
    transaction: forgetting's)."""
    row = await connection.fetchrow(
        f"""
        WITH preferences AS (
            DELETE FROM {SCHEMA}.preferences WHERE person_id = $1 RETURNING 1
        ), outbox AS (
            DELETE FROM {SCHEMA}.outbox WHERE recipient = $1 RETURNING 1
        )
        SELECT (SELECT count(*) FROM preferences) AS preferences,
               (SELECT count(*) FROM outbox) AS outbox_entries
        """,
        person_id,
    )
    assert row is not None  # a SELECT without FROM returns one row
    return ErasedNotifications(preferences=row["preferences"], outbox_entries=row["outbox_entries"])
