"""Forgetting a person on request (``mentorflow people forget``, ``POST /people/{id}/forget``).

1. In one transaction: lock the person; unless they were forgotten already, append
   ``PersonForgotten`` to ``person-{id}`` (a deterministic event id: forgetting twice can never
   record two events), then delete the person's data key and leave a tombstone, so no key is
   created for them again. In the same transaction (on every call) delete their notification
   preferences and their outbox rows (`notifications.preferences.erase_person`): nothing
   addressed to them is sent afterwards, and the rendered messages, which quote their
   personal text in clear, are gone. The notifications schema must be migrated
   (`notifications.migrate_outbox`; the API and the CLI do it at start). Their directory
   lookup digests (keyed digests of their email and ids, which sign-in finds people by)
   are deleted too.
2. In a second one, under the exclusive forget lock (see `projections.forgetting`): replace
   their sealed values in every read model with ``[erased]`` (again on every call, so a sweep
   cut short is completed by forgetting again).

Events stay (append-only, ids, stages, dates and counts intact); their personal values can no
longer be opened by anyone, wherever a copy of them lives.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.cohort_spec import PARTICIPANT_ID_PATTERN
from events import NewEvent
from events.person import PersonForgotten
from eventstore import Pool, append_in_transaction
from eventstore.errors import translating
from eventstore.postgres import APPENDED_CHANNEL, stream_version_in
from mentorflow.correlation import origin_or
from mentorflow.directory.service import erase_lookup_digests
from notifications.preferences import erase_person
from projections import SCHEMA as READ_MODELS
from projections.forgetting import lock_for_forgetting, sweep_forgotten
from projections.registry import all_projections
from vault import PersonalDataVault

PERSON_ID = re.compile(PARTICIPANT_ID_PATTERN)
FORGOTTEN_NAMESPACE = uuid.UUID("5d0c1f6e-4f0e-4b8e-9a57-7f1f0c2b9e11")


class PersonIdInvalid(ValueError):
    """The person id is not one mentorflow could have issued."""


class ForgetOutcome(BaseModel):
    """What forgetting did."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    forgotten_at: AwareDatetime
    already_forgotten: bool
    """True when the person had been forgotten before: nothing changed this time."""
    key_deleted: bool
    """Whether a data key existed (someone never seen by mentorflow has none)."""
    read_model_values_erased: int
    """Read-model rows whose values became ``[erased]`` now."""
    notifications_erased: int = 0
    """Their notification preferences and outbox rows deleted now."""
    lookup_digests_erased: int = 0
    """Their directory lookup digests (email, user name, ids) deleted now."""
    event_id: uuid.UUID


def person_stream(person_id: str) -> str:
    """The person's own stream."""
    return f"person-{person_id}"


def forgotten_event_id(person_id: str) -> uuid.UUID:
    """The one ``PersonForgotten`` event id a person can have."""
    return uuid.uuid5(FORGOTTEN_NAMESPACE, person_id)


@translating
async def forget_person(
    pool: Pool,
    vault: PersonalDataVault,
    person_id: str,
    *,
    requested_by: str,
    now: datetime | None = None,
) -> ForgetOutcome:
    """Forget ``person_id`` (idempotent: a second call reports the first).

    Raises:
        PersonIdInvalid: ``person_id`` is malformed.
        DatabaseUnavailable: The database went away (nothing or all of step 1 happened;
            forgetting again completes it).
        DataRejected: PostgreSQL refused the data.
    """
    if not PERSON_ID.fullmatch(person_id):
        raise PersonIdInvalid(
            f"person id {person_id!r} must be 1-64 characters of letters, digits, '._@-'"
        )
    at = now or datetime.now(UTC)
    event_id = forgotten_event_id(person_id)
    async with pool.acquire() as connection:
        async with connection.transaction():
            before = await vault.lock_person(connection, person_id)
            key_deleted = False
            if before is None:
                # The append comes first: it must take its place in the store's order before
                # this transaction writes anything else (see eventstore.postgres on tailing).
                # After the directory's events, if any. A directory append racing this one
                # makes one of them fail: the directory retries on its own (and then sees the
                # person forgotten); a forgetting that lost raises, and forgetting again
                # completes it.
                origin = origin_or(person_stream(person_id))
                await append_in_transaction(
                    connection,
                    person_stream(person_id),
                    await stream_version_in(connection, person_stream(person_id)),
                    [
                        NewEvent.from_domain(
                            PersonForgotten(
                                person_id=person_id, forgotten_at=at, requested_by=requested_by
                            ),
                            event_id=event_id,
                            occurred_at=at,
                            correlation_id=origin.correlation_id,
                            causation_id=origin.cause,
                        )
                    ],
                )
                key_deleted = await vault.shred(
                    connection, person_id, at=at, requested_by=requested_by
                )
            # On every call, like the sweep: a row written after an earlier forgetting (none
            # should be: writers check the tombstone under the same lock) goes too.
            notifications = await erase_person(connection, person_id)
            digests = await erase_lookup_digests(connection, person_id)
        # The sweep runs in a transaction of its own, so that the event's transaction (which
        # holds tailing readers back until it ends) stays short however large the read models
        # are. Writers that start after the tombstone committed erase on their own; the
        # exclusive lock waits for those that started before. A sweep cut off by a crash is
        # completed by forgetting again (it always sweeps).
        async with connection.transaction():
            await lock_for_forgetting(connection, exclusive=True)
            erased = await sweep_forgotten(connection, READ_MODELS, all_projections(), person_id)
    if before is None:
        await pool.execute("SELECT pg_notify($1, '')", APPENDED_CHANNEL)  # wake the relay
    return ForgetOutcome(
        person_id=person_id,
        forgotten_at=before or at,
        already_forgotten=before is not None,
        key_deleted=key_deleted,
        read_model_values_erased=erased,
        notifications_erased=notifications.preferences + notifications.outbox_entries,
        lookup_digests_erased=digests,
        event_id=event_id,
    )
