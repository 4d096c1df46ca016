"""The directory service: bring a person to a desired profile by appending only what changed.

Every way in (SCIM, the CSV import) hands `PeopleDirectory.apply` the profile a source of
truth says a person has. The service reads the person's stream, opens its sealed values,
folds it with `domain.person.evolve`, and appends the events `domain.person.changes_towards`
plans, at the version it read:

- **Idempotent.** Applying the same desired state again plans no event, so it appends
  nothing. Event ids are derived from the stream, the version and the event type, so a
  retried append of the same events is refused as a duplicate rather than stored twice.
- **Optimistic concurrency.** The append expects the version the plan was made from. When
  another writer got there first (another SCIM request, an import, forgetting), the whole
  read-plan-append is done again on the new state, a few times, then `DirectoryBusy`.
- **Forgetting wins.** A forgotten person's stream ends with `PersonForgotten`; the directory
  refuses to record anything more for them (`PersonIsForgotten`).
- **Found by blind index.** In the transaction of the append, the person's lookup digests
  (``directory.lookup_digests``: keyed digests of email, user name, employee number and
  external id, `vault.blind_index`) are replaced by those of the new state, so `find_active`
  finds people by a value without the values being stored in clear, and without waiting for a
  projection. Forgetting deletes them (`erase_lookup_digests`).

Reads fold the streams too (never a projection), so a write is visible to the next read:
a provisioning client creating a user and fetching it right after sees it. The ``people``
read model serves the console and analytics.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import structlog

from domain.person import (
    LOOKUP_FIELDS,
    DesiredPerson,
    LookupField,
    PersonState,
    PlannedChanges,
    changes_towards,
    evolve,
    profile_problems,
)
from events import CATALOG, DomainEvent, EventEnvelope, NewEvent
from events.person import ProfileSource
from eventstore import Pool, StreamVersionConflict, append_in_transaction
from eventstore.errors import translated
from eventstore.migrator import Connection, load_migrations, migrate
from eventstore.postgres import APPENDED_CHANNEL, read_streams
from eventstore.postgres import SCHEMA as EVENTS_SCHEMA
from mentorflow.correlation import origin_or
from vault import PersonalDataVault
from vault.blind_index import normalized

SCHEMA = "directory"
EVENT_NAMESPACE = uuid.UUID("0b6f3c52-1f6d-4e43-a1c4-6c0a2f6b7d21")
MAX_ATTEMPTS = 5
_KNOWN_IDS = f"SELECT event_id FROM {EVENTS_SCHEMA}.events WHERE event_id = ANY($1::uuid[])"
log = structlog.get_logger(__name__)


class DirectoryError(Exception):
    """Base of the directory's errors."""


class ProfileInvalid(DirectoryError):
    """A desired profile may not be recorded; ``problems`` names every reason."""

    def __init__(self, person_id: str, problems: list[str]) -> None:
        super().__init__(f"the profile of {person_id} is invalid: " + "; ".join(problems))
        self.person_id = person_id
        self.problems = problems


class PersonIsForgotten(DirectoryError):
    """The person was forgotten: nothing more is recorded about them."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id} was forgotten")
        self.person_id = person_id


class DirectoryBusy(DirectoryError):
    """Other writers kept changing the person's stream: try again later."""

    def __init__(self, person_id: str, attempts: int) -> None:
        super().__init__(f"person {person_id} changed under {attempts} attempts in a row")
        self.person_id = person_id
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a desired state did (or, in a dry run, would do)."""

    person_id: str
    recorded: list[str]
    """Event types appended (or planned), in order; empty: the person was already so."""
    changed_fields: list[str]
    """Profile fields changed (names only, no values)."""
    state: PersonState
    """The person after the change, personal values in clear."""
    created: bool
    """Whether the person was new to the directory."""


async def migrate_directory(pool: Pool) -> int:
    """Create or update the ``directory`` schema; return how many migrations were applied."""
    with translated():
        async with pool.acquire() as connection:
            return await migrate(connection, SCHEMA, load_migrations("mentorflow.directory"))


def person_stream(person_id: str) -> str:
    """The person's own stream."""
    return f"person-{person_id}"


def event_id(stream_id: str, version: int, event_type: str) -> uuid.UUID:
    """The id of the directory's event at ``version`` of ``stream_id``."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{stream_id}/{version}/{event_type}")


class PeopleDirectory:
    """People as the directory knows them, read from and written to their streams."""

    def __init__(self, pool: Pool, vault: PersonalDataVault) -> None:
        self._pool = pool
        self._vault = vault

    async def get(self, person_id: str) -> PersonState | None:
        """The person, folded from their stream; None when the directory never recorded them.

        Raises:
            DatabaseUnavailable: The database went away.
        """
        with translated():
            async with self._pool.acquire() as connection:
                state = await self._load(connection, person_id)
        return state if state.known else None

    async def states(self, person_ids: Sequence[str]) -> dict[str, PersonState]:
        """Each person's folded state, in one read; someone never recorded gets a fresh one.

        Unlike `get`, a person forgotten before the directory knew them is reported (their
        stream holds only `PersonForgotten`), so a caller can refuse them up front.

        Raises:
            DatabaseUnavailable: The database went away.
        """
        unique = list(dict.fromkeys(person_ids))
        with translated():
            async with self._pool.acquire() as connection:
                envelopes = await read_streams(connection, [person_stream(i) for i in unique])
            folded = await self._fold(envelopes)
        return {i: folded.get(i) or PersonState(person_id=i) for i in unique}

    async def all_people(self) -> list[PersonState]:
        """Everyone the directory recorded, by person id (forgotten people included).

        Raises:
            DatabaseUnavailable: The database went away.
        """
        with translated():
            async with self._pool.acquire() as connection:
                ids = [
                    row["person_id"]
                    for row in await connection.fetch(
                        f"SELECT person_id FROM {SCHEMA}.people ORDER BY person_id"
                    )
                ]
                envelopes = await read_streams(connection, [person_stream(i) for i in ids])
            folded = await self._fold(envelopes)
        return [folded[person_id] for person_id in ids if folded[person_id].known]

    async def find_active(self, field: LookupField, value: str) -> list[str]:
        """The active people whose ``field`` is ``value`` (trimmed, case-folded), by id.

        The digests find the candidates; each one's folded state must still be active and
        hold the value (the streams are the truth, the digests only an index of them).

        Raises:
            DatabaseUnavailable: The database went away.
        """
        if not normalized(value):
            return []
        digests = self._vault.blind_index.candidates(field, value)
        with translated():
            async with self._pool.acquire() as connection:
                rows = await connection.fetch(
                    f"SELECT DISTINCT person_id FROM {SCHEMA}.lookup_digests "
                    "WHERE field = $1 AND digest = ANY($2::text[]) ORDER BY person_id",
                    field,
                    digests,
                )
        candidates = [row["person_id"] for row in rows]
        states = await self.states(candidates) if candidates else {}
        return [
            person_id
            for person_id in candidates
            if (profile := states[person_id].profile) is not None
            and states[person_id].active
            and not states[person_id].forgotten
            and normalized(getattr(profile, field)) == normalized(value)
        ]

    async def index_people(self, *, everyone: bool = False, batch: int = 200) -> int:
        """Compute the lookup digests of people recorded before the directory kept them.

        Args:
            everyone: Recompute everyone's, under the active master key (after a master key
                left the ring, the digests written with it no longer match).
            batch: People folded at a time.

        Returns:
            How many people's digests were written.

        Raises:
            DatabaseUnavailable: The database went away (run it again: it resumes).
        """
        written, after = 0, ""
        while True:
            with translated():
                async with self._pool.acquire() as connection:
                    ids: list[str] = [
                        row["person_id"]
                        for row in await connection.fetch(
                            f"SELECT person_id FROM {SCHEMA}.people WHERE person_id > $1 "
                            "AND ($2 OR indexed_version = 0) ORDER BY person_id LIMIT $3",
                            after,
                            everyone,
                            batch,
                        )
                    ]
            if not ids:
                return written
            states = await self.states(ids)
            with translated():
                async with self._pool.acquire() as connection:
                    for person_id in ids:
                        state = states[person_id]
                        async with connection.transaction():
                            # Under the vault's lock of the person, which forgetting takes too:
                            # digests written here after a forgetting committed are none.
                            forgotten = await PersonalDataVault.lock_person(connection, person_id)
                            digests = [] if forgotten else self._digests(state)
                            written += await _write_digests(
                                connection, person_id, state.version, digests
                            )
            after = ids[-1]

    def _digests(self, state: PersonState) -> list[tuple[str, str]]:
        """(field, digest) of every lookup field the person has a value for."""
        if state.profile is None or state.forgotten:
            return []
        index = self._vault.blind_index
        values = ((name, getattr(state.profile, name)) for name in LOOKUP_FIELDS)
        return [(name, index.digest(name, value)) for name, value in values if normalized(value)]

    async def apply(
        self,
        person_id: str,
        desired: DesiredPerson,
        *,
        source: ProfileSource,
        now: datetime | None = None,
        dry_run: bool = False,
    ) -> Applied:
        """Bring ``person_id`` to ``desired``, appending only what changed.

        Raises:
            ProfileInvalid: The desired profile breaks a rule (every problem named).
            PersonIsForgotten: The person was forgotten.
            DirectoryBusy: Other writers kept changing the stream.
            DatabaseUnavailable: The database went away (nothing or everything recorded).
        """
        problems = profile_problems(desired.profile)
        if problems:
            raise ProfileInvalid(person_id, problems)
        at = now or datetime.now(UTC)

        def plan(state: PersonState) -> PlannedChanges:
            return changes_towards(state, person_id, desired, source=source, now=at)

        return await self.record(person_id, plan, now=at, dry_run=dry_run)

    async def record(
        self,
        person_id: str,
        plan: Callable[[PersonState], PlannedChanges],
        *,
        now: datetime | None = None,
        dry_run: bool = False,
    ) -> Applied:
        """Append the events ``plan`` makes of the person's current state, at its version.

        ``plan`` runs again on the new state when another writer got there first, so it must
        depend on the state only; it may raise to refuse (nothing is recorded then).

        Raises:
            PersonIsForgotten: The person was forgotten.
            DirectoryBusy: Other writers kept changing the stream.
            DatabaseUnavailable: The database went away (nothing or everything recorded).
        """
        at = now or datetime.now(UTC)
        stream_id = person_stream(person_id)
        with translated():
            async with self._pool.acquire() as connection:
                for _ in range(MAX_ATTEMPTS):
                    state = await self._load(connection, person_id)
                    if state.forgotten:
                        raise PersonIsForgotten(person_id)
                    planned = plan(state)
                    recorded = [event.event_type for event in planned.events]
                    applied = Applied(
                        person_id, recorded, planned.changed_fields, state, not state.known
                    )
                    if not planned.events or dry_run:
                        return applied
                    origin = origin_or(stream_id)
                    new = [
                        NewEvent.from_domain(
                            event,
                            event_id=event_id(stream_id, state.version + offset, event.event_type),
                            occurred_at=at,
                            correlation_id=origin.correlation_id,
                            causation_id=origin.cause,
                        )
                        for offset, event in enumerate(planned.events, start=1)
                    ]
                    sealed = await self._vault.seal_events(new, {}, stream_id=stream_id)
                    after = replace(state)
                    for event in planned.events:
                        evolve(after, event, at)
                    try:
                        await self._append(
                            connection, person_id, state.version, sealed, self._digests(after)
                        )
                    except StreamVersionConflict:
                        continue
                    for event in planned.events:
                        evolve(state, event, at)
                    log.info("directory changed", stream_id=stream_id, event_types=recorded)
                    return applied
        raise DirectoryBusy(person_id, MAX_ATTEMPTS)

    async def record_once(
        self, person_id: str, events: Sequence[tuple[uuid.UUID, DomainEvent]], at: datetime
    ) -> list[str]:
        """Append process events (what a flow did about the person) under their given ids.

        Idempotent by id: events already in the store are left out, so a retried step records
        nothing twice. Appends at the version it read, again on a concurrent change. Returns
        the event types appended.

        Raises:
            DirectoryBusy: Other writers kept changing the stream.
            DatabaseUnavailable: The database went away.
        """
        stream_id = person_stream(person_id)
        with translated():
            async with self._pool.acquire() as connection:
                for _ in range(MAX_ATTEMPTS):
                    known = {
                        row["event_id"]
                        for row in await connection.fetch(
                            _KNOWN_IDS,
                            [event_id for event_id, _ in events],
                        )
                    }
                    origin = origin_or(stream_id)
                    new = [
                        NewEvent.from_domain(
                            event,
                            event_id=event_id,
                            occurred_at=at,
                            correlation_id=origin.correlation_id,
                            causation_id=origin.cause,
                        )
                        for event_id, event in events
                        if event_id not in known
                    ]
                    if not new:
                        return []
                    # The flow's events change no profile: the digests stay what they are.
                    state = await self._load(connection, person_id)
                    digests = [] if state.forgotten else self._digests(state)
                    sealed = await self._vault.seal_events(new, {}, stream_id=stream_id)
                    try:
                        await self._append(connection, person_id, state.version, sealed, digests)
                    except StreamVersionConflict:
                        continue  # another writer, or a retry of these very events: look again
                    return [event.event_type for event in new]
        raise DirectoryBusy(person_id, MAX_ATTEMPTS)

    async def _append(
        self,
        connection: Connection,
        person_id: str,
        version: int,
        events: Sequence[NewEvent],
        digests: list[tuple[str, str]],
    ) -> None:
        stream_id = person_stream(person_id)
        async with connection.transaction():
            # The append comes first: it must take its place in the store's order before this
            # transaction writes anything else (see eventstore.postgres on tailing).
            await append_in_transaction(connection, stream_id, version, events)
            await connection.execute(
                f"INSERT INTO {SCHEMA}.people (person_id) VALUES ($1) ON CONFLICT DO NOTHING",
                person_id,
            )
            await _write_digests(connection, person_id, version + len(events), digests)
        await connection.execute("SELECT pg_notify($1, '')", APPENDED_CHANNEL)  # wake the relay

    async def _load(self, connection: Connection, person_id: str) -> PersonState:
        envelopes = await read_streams(connection, [person_stream(person_id)])
        folded = await self._fold(envelopes)
        return folded.get(person_id) or PersonState(person_id=person_id)

    async def _fold(self, envelopes: list[EventEnvelope]) -> dict[str, PersonState]:
        """Each stream's state, personal values opened (one vault call for all of them)."""
        opened = await self._vault.open_events(envelopes, {})
        states: dict[str, PersonState] = defaultdict(PersonState)
        for envelope, data in zip(envelopes, opened, strict=True):
            person_id = envelope.stream_id.removeprefix("person-")
            state = states[person_id]
            state.person_id = person_id
            event = CATALOG.decode_data(envelope.event_type, envelope.schema_version, data)
            evolve(state, event, envelope.occurred_at)
        return states


async def _write_digests(
    connection: Connection, person_id: str, version: int, digests: list[tuple[str, str]]
) -> int:
    """Replace the person's lookup digests by those of their state at ``version`` (in the
    caller's transaction); 1 when written, 0 when newer ones are there already."""
    newer = await connection.fetchval(
        f"UPDATE {SCHEMA}.people SET indexed_version = $2 "
        "WHERE person_id = $1 AND indexed_version <= $2 RETURNING person_id",
        person_id,
        version,
    )
    if newer is None:
        return 0
    await connection.execute(f"DELETE FROM {SCHEMA}.lookup_digests WHERE person_id = $1", person_id)
    await connection.execute(
        f"INSERT INTO {SCHEMA}.lookup_digests (person_id, field, digest) "
        "SELECT $1, field, digest FROM unnest($2::text[], $3::text[]) AS d(field, digest)",
        person_id,
        [name for name, _ in digests],
        [digest for _, digest in digests],
    )
    return 1


async def erase_lookup_digests(connection: Connection, person_id: str) -> int:
    """Delete a forgotten person's lookup digests (in the caller's transaction).

    Nothing to erase where the directory's schema was never created. Returns the rows deleted.
    """
    if await connection.fetchval("SELECT to_regclass($1)", f"{SCHEMA}.lookup_digests") is None:
        return 0
    status = await connection.execute(
        f"DELETE FROM {SCHEMA}.lookup_digests WHERE person_id = $1", person_id
    )
    return int(status.rsplit(" ", 1)[-1])
