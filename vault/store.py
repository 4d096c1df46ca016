"""The vault: per-person data keys in PostgreSQL (schema ``vault``), sealing and opening.

Keys are created on first use, one row per person, wrapped by the active master key; the
row names the master key id, so master keys can rotate (old rows still unwrap while their
master key stays in the ring). Sealing caches unwrapped keys for `cache_seconds`; opening
never caches, so once a person is forgotten no process opens their values again.

Every method that reaches PostgreSQL raises the event store's kinds of driver errors
(`eventstore.errors.translating`): `DatabaseUnavailable` to wait out, `DataRejected` never
to retry.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import structlog

from events import CATALOG, EventCatalog, NewEvent, UnknownEventType
from events.personal import (
    ERASED,
    Plan,
    SealedToken,
    format_token,
    parse_token,
    plan_of,
    replace_tokens,
)
from events.personal import transform_personal as _transform
from eventstore.errors import translating
from eventstore.migrator import Connection, load_migrations, migrate
from eventstore.pool import Pool, Record
from vault.blind_index import BlindIndex
from vault.crypto import (
    CannotOpen,
    KeySource,
    Place,
    new_data_key,
    open_text,
    open_value,
    seal_value,
    token_event_id,
)
from vault.crypto import unwrap_key as _unwrap
from vault.crypto import wrap_key as _wrap

SCHEMA = "vault"
logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SealedAt:
    """A value read from somewhere, with where it is declared to belong.

    ``owner`` is the person the field's declaration names; ``field_paths`` the event fields
    it may come from (``GoalSet.description`` and ``GoalRevised.description`` for a goal's
    wording in a read model); ``event_id`` the event it was read from, when known.
    """

    value: str
    owner: str
    stream_id: str
    field_paths: tuple[str, ...]
    event_id: UUID | None = None


class SealedEvent(Protocol):
    """What opening needs of a stored event (`eventstore.StoredEvent`, `EventEnvelope`)."""

    @property
    def event_type(self) -> str: ...

    @property
    def event_id(self) -> UUID: ...

    @property
    def stream_id(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...


_NOBODY = "\x00nobody"
"""The owner of a role a stream does not name: no token names it, so nothing opens."""


def _every_role(subjects: Mapping[str, str]) -> dict[str, str]:
    return {"mentee": _NOBODY, "mentor": _NOBODY, "person_id": _NOBODY, **subjects}


class MissingSubject(ValueError):
    """A personal value's owner is not known (e.g. a mentorship event without its match)."""


@translating
async def migrate_vault(pool: Pool) -> int:
    """Create or update the ``vault`` schema; return how many migrations were applied."""
    async with pool.acquire() as connection:
        return await migrate(connection, SCHEMA, load_migrations("vault"))


async def _lock_person(connection: Connection, person_id: str) -> None:
    """Serialise key creation and forgetting for one person (until the transaction ends)."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"vault:person:{person_id}"
    )


class PersonalDataVault:
    """Data keys of people, and sealing/opening of personal values with them."""

    def __init__(
        self,
        pool: Pool,
        master: KeySource,
        *,
        cache_seconds: float = 60.0,
        catalog: EventCatalog = CATALOG,
    ) -> None:
        self._pool = pool
        self._master = master
        self._cache_seconds = cache_seconds
        self._catalog = catalog
        self._cache: dict[str, tuple[bytes | None, float]] = {}
        self._blind_index: BlindIndex | None = None

    @property
    def blind_index(self) -> BlindIndex:
        """Digests that find people by a personal value (`vault.blind_index`), under index
        keys derived from this vault's master keys."""
        if self._blind_index is None:
            self._blind_index = BlindIndex.of(self._master)
        return self._blind_index

    @classmethod
    async def create(cls, pool: Pool, master: KeySource, **options: Any) -> PersonalDataVault:
        """A vault over ``pool``, its schema migrated first."""
        await migrate_vault(pool)
        return cls(pool, master, **options)

    # -- keys -------------------------------------------------------------------------------

    @translating
    async def sealing_keys(self, person_ids: Iterable[str]) -> dict[str, bytes | None]:
        """Data keys to seal with, created on first use; None for a forgotten person."""
        now = time.monotonic()
        keys: dict[str, bytes | None] = {}
        missing: list[str] = []
        for person_id in set(person_ids):
            cached = self._cache.get(person_id)
            if cached is not None and cached[1] > now:
                keys[person_id] = cached[0]
            else:
                missing.append(person_id)
        if missing:
            async with self._pool.acquire() as connection:
                found = await self._load(connection, missing)
                for person_id in missing:
                    if person_id not in found:
                        found[person_id] = await self._create(connection, person_id)
            for person_id, key in found.items():
                self._cache[person_id] = (key, now + self._cache_seconds)
                keys[person_id] = key
        return keys

    @translating
    async def opening_keys(self, person_ids: Iterable[str]) -> dict[str, bytes]:
        """The data keys that still exist among ``person_ids`` (read fresh, never cached)."""
        wanted = sorted(set(person_ids))
        if not wanted:
            return {}
        async with self._pool.acquire() as connection:
            found = await self._load(connection, wanted)
        return {person_id: key for person_id, key in found.items() if key is not None}

    async def _load(self, connection: Connection, person_ids: list[str]) -> dict[str, bytes | None]:
        rows = await connection.fetch(
            f"""
            SELECT p.person_id, k.master_key_id, k.wrapped_key, f.person_id IS NOT NULL AS gone
            FROM unnest($1::text[]) AS p(person_id)
            LEFT JOIN {SCHEMA}.person_keys AS k USING (person_id)
            LEFT JOIN {SCHEMA}.forgotten_people AS f USING (person_id)
            WHERE k.person_id IS NOT NULL OR f.person_id IS NOT NULL
            """,
            person_ids,
        )
        found: dict[str, bytes | None] = {}
        for row in rows:
            if row["gone"]:
                found[row["person_id"]] = None
            else:
                found[row["person_id"]] = self._unwrap(row)
        return found

    def _unwrap(self, row: Record) -> bytes:
        master_id = row["master_key_id"]
        return _unwrap(self._master.key(master_id), master_id, row["person_id"], row["wrapped_key"])

    async def _create(self, connection: Connection, person_id: str) -> bytes | None:
        """The person's key, created under their lock unless they were forgotten meanwhile."""
        master_id = self._master.active_id
        wrapped = _wrap(self._master.active, master_id, person_id, new_data_key())
        async with connection.transaction():
            await _lock_person(connection, person_id)
            row = await connection.fetchrow(
                f"""
                WITH gone AS (SELECT 1 FROM {SCHEMA}.forgotten_people WHERE person_id = $1),
                created AS (
                    INSERT INTO {SCHEMA}.person_keys (person_id, master_key_id, wrapped_key)
                    SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM gone)
                    ON CONFLICT (person_id) DO NOTHING
                    RETURNING person_id, master_key_id, wrapped_key
                )
                SELECT person_id, master_key_id, wrapped_key FROM created
                UNION ALL
                SELECT person_id, master_key_id, wrapped_key FROM {SCHEMA}.person_keys
                WHERE person_id = $1 AND NOT EXISTS (SELECT 1 FROM created)
                """,
                person_id,
                master_id,
                wrapped,
            )
        return None if row is None else self._unwrap(row)

    @translating
    async def rewrap(self, batch: int = 500) -> int:
        """Re-wrap every data key not under the active master key; return how many.

        After it, master keys other than the active one can leave the ring.
        """
        master_id = self._master.active_id
        rewrapped = 0
        while True:
            async with self._pool.acquire() as connection, connection.transaction():
                rows = await connection.fetch(
                    f"SELECT person_id, master_key_id, wrapped_key FROM {SCHEMA}.person_keys "
                    "WHERE master_key_id <> $1 ORDER BY person_id LIMIT $2 FOR UPDATE SKIP LOCKED",
                    master_id,
                    batch,
                )
                if not rows:
                    return rewrapped
                await connection.executemany(
                    f"UPDATE {SCHEMA}.person_keys SET master_key_id = $2, wrapped_key = $3 "
                    "WHERE person_id = $1",
                    [
                        (
                            row["person_id"],
                            master_id,
                            _wrap(
                                self._master.active, master_id, row["person_id"], self._unwrap(row)
                            ),
                        )
                        for row in rows
                    ],
                )
                rewrapped += len(rows)

    def evict(self, person_id: str) -> None:
        """Drop a cached key (after forgetting the person in this process)."""
        self._cache.pop(person_id, None)

    # -- sealing and opening ----------------------------------------------------------------

    async def seal_events(
        self, events: Sequence[NewEvent], subjects: Mapping[str, str], *, stream_id: str
    ) -> list[NewEvent]:
        """The events with every personal value sealed for its person, at its place.

        ``subjects`` maps ``"mentee"``/``"mentor"`` to person ids for the stream. Values of a
        forgotten person are stored as ``[erased]``; unknown event types pass unchanged.

        Raises:
            MissingSubject: A personal value whose owner ``subjects`` does not name.
        """
        plans: dict[UUID, Plan] = {}
        owners: set[str] = set()
        for event in events:
            plan = self._plan(event.event_type)
            if not plan:
                continue
            plans[event.event_id] = plan

            def note_owner(text: str, person: str, path: str) -> str:
                owners.add(person)
                return text

            try:
                _transform(event.data, plan, note_owner, subjects, event.event_type)
            except KeyError as error:
                raise MissingSubject(
                    f"{event.event_type} has personal data of {error.args[0]!r}, "
                    "but the stream's people are unknown"
                ) from None
        if not plans:
            return list(events)
        keys = await self.sealing_keys(owners)
        sealed: list[NewEvent] = []
        for event in events:
            event_plan = plans.get(event.event_id)
            if event_plan is None:
                sealed.append(event)
                continue

            def seal(text: str, person: str, path: str, event_id: UUID = event.event_id) -> str:
                key = keys[person]
                if key is None:
                    return ERASED
                return seal_value(key, text, Place(person, stream_id, event_id, path))

            data = _transform(event.data, event_plan, seal, subjects, event.event_type)
            sealed.append(event.model_copy(update={"data": data}))
        return sealed

    def _plan(self, event_type: str) -> Plan:
        try:
            return plan_of(self._catalog.event_class(event_type))
        except UnknownEventType:
            return {}

    async def open_events(
        self, events: Sequence[SealedEvent], subjects: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """The events' data with their declared personal values opened, or ``[erased]``.

        Only fields the event class declares personal are opened, only for the person the
        declaration names (``subjects`` gives the stream's mentee and mentor), and a v2 token
        only at the stream, event and field it was sealed for. Anything else stays as stored.
        """
        plans = [self._plan(event.event_type) for event in events]
        wanted: list[SealedAt] = []
        for event, plan in zip(events, plans, strict=True):

            def collect(text: str, person: str, path: str, event: SealedEvent = event) -> str:
                wanted.append(SealedAt(text, person, event.stream_id, (path,), event.event_id))
                return text

            _transform(event.data, plan, collect, _every_role(subjects), event.event_type)
        opened = iter(await self.open_values(wanted))

        def take(text: str, person: str, path: str) -> str:
            return next(opened)

        return [
            _transform(event.data, plan, take, _every_role(subjects), event.event_type)
            for event, plan in zip(events, plans, strict=True)
        ]

    async def open_values(self, values: Sequence[SealedAt]) -> list[str]:
        """Each value opened where it is declared to be, or ``[erased]``.

        A value that is not a token is returned as it is (plain text from before sealing,
        empty, or erased). A token opens only when it names ``owner`` and, for v2, was sealed
        at ``stream_id``, at one of ``field_paths`` (and at ``event_id`` when given); a token
        that names another person or place reads as ``[erased]``, whoever's key would open
        it. Keys are read fresh (never cached), so a forgotten person's values never open.
        """
        tokens = [parse_token(value.value) for value in values]
        keys = await self.opening_keys(token.person_id for token in tokens if token is not None)
        return [
            value.value if token is None else self._open_one(token, value, keys)
            for token, value in zip(tokens, values, strict=True)
        ]

    @staticmethod
    def _open_one(token: SealedToken, where: SealedAt, keys: Mapping[str, bytes]) -> str:
        if token.person_id != where.owner:
            logger.warning("sealed value names another person than its field's owner")
            return ERASED
        key = keys.get(token.person_id)
        if key is None:
            return ERASED
        if token.version == 1:
            try:
                return open_text(key, token)
            except CannotOpen:
                logger.warning("sealed value does not open", person_id=token.person_id)
                return ERASED
        if where.event_id is not None and token_event_id(token) != where.event_id:
            logger.warning("sealed value was sealed for another event", person_id=token.person_id)
            return ERASED
        for path in where.field_paths:
            try:
                return open_value(key, token, where.stream_id, path)
            except CannotOpen:
                continue
        logger.warning("sealed value does not open here", person_id=token.person_id)
        return ERASED

    # -- forgetting -------------------------------------------------------------------------

    @staticmethod
    @translating
    async def lock_person(connection: Connection, person_id: str) -> datetime | None:
        """Lock the person for this transaction; when they were forgotten, if they were.

        Takes no transaction id (it writes nothing), so an event append may follow.
        """
        await _lock_person(connection, person_id)
        forgotten_at: datetime | None = await connection.fetchval(
            f"SELECT forgotten_at FROM {SCHEMA}.forgotten_people WHERE person_id = $1", person_id
        )
        return forgotten_at

    @translating
    async def shred(
        self, connection: Connection, person_id: str, *, at: datetime, requested_by: str
    ) -> bool:
        """Delete the person's key and leave a tombstone (in the caller's transaction).

        Returns whether a key existed (a person never seen has none; the tombstone still
        keeps one from being created later).
        """
        deleted = await connection.fetchval(
            f"""
            WITH gone AS (DELETE FROM {SCHEMA}.person_keys WHERE person_id = $1 RETURNING 1),
            tombstone AS (
                INSERT INTO {SCHEMA}.forgotten_people (person_id, forgotten_at, requested_by)
                VALUES ($1, $2, $3) ON CONFLICT (person_id) DO NOTHING
            )
            SELECT count(*) FROM gone
            """,
            person_id,
            at,
            requested_by,
        )
        self.evict(person_id)
        return bool(deleted)


@translating
async def forgotten_among(connection: Connection, person_ids: Iterable[str]) -> set[str]:
    """Which of ``person_ids`` were forgotten."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return set()
    rows = await connection.fetch(
        f"SELECT person_id FROM {SCHEMA}.forgotten_people WHERE person_id = ANY($1::text[])",
        wanted,
    )
    return {row["person_id"] for row in rows}


def erase_tokens_of(value: Any, forgotten: set[str]) -> Any:
    """``value`` with the sealed tokens of ``forgotten`` people replaced by ``[erased]``."""
    if not forgotten:
        return value
    return replace_tokens(
        value,
        lambda token: (
            ERASED
            if token.person_id in forgotten
            else format_token(token.person_id, token.ciphertext, token.version)
        ),
    )
