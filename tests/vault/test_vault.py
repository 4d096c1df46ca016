"""The vault on a real PostgreSQL: sealing, opening, key rotation, forgetting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from events import NewEvent
from events.personal import ERASED, parse_token
from mentorflow.keyring import KeyRing
from vault import PersonalDataVault
from vault.crypto import seal_text
from vault.store import MissingSubject, SealedAt

SENTINEL = "quiet-otter-5521"


@pytest.fixture
async def pool(clean_database: str) -> AsyncIterator[asyncpg.Pool]:
    database = await asyncpg.create_pool(clean_database)
    try:
        yield database
    finally:
        await database.close()


def _goal(description: str) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type="GoalSet",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        correlation_id="test",
        data={
            "goal_id": "g-1",
            "horizon": "short",
            "description": description,
            "motivation": "",
            "strengths": [description, "listening"],
            "target_date": None,
        },
    )


STREAM = "mentorship-c-1-p-1"
PEOPLE = {"mentee": "p-1", "mentor": "p-2"}


@dataclass(frozen=True)
class _Stored:
    """An event as read back: what opening needs."""

    event_type: str
    event_id: uuid.UUID
    stream_id: str
    data: dict[str, Any]


def _stored(event: NewEvent, stream_id: str = STREAM, **changes: Any) -> _Stored:
    values = {
        "event_type": event.event_type,
        "event_id": event.event_id,
        "stream_id": stream_id,
        "data": event.data,
        **changes,
    }
    return _Stored(**values)


async def _open(vault: PersonalDataVault, event: NewEvent, **changes: Any) -> dict[str, Any]:
    subjects = changes.pop("subjects", PEOPLE)
    [opened] = await vault.open_events([_stored(event, **changes)], subjects)
    return opened


async def test_sealing_is_deterministic_and_opens_only_with_the_persons_key(
    pool: asyncpg.Pool,
) -> None:
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    event = _goal(SENTINEL)

    [sealed] = await vault.seal_events([event], PEOPLE, stream_id=STREAM)
    [again] = await vault.seal_events([event], PEOPLE, stream_id=STREAM)

    assert sealed.data == again.data  # a retried append stores the same bytes
    assert SENTINEL not in repr(sealed.data)
    assert sealed.data["motivation"] == ""  # emptiness is not personal
    token = parse_token(sealed.data["description"])
    assert token is not None
    assert token.person_id == "p-1"
    assert sealed.data["description"].startswith("sealed:v2:p-1:")
    assert await _open(vault, sealed) == event.data
    tampered = sealed.data["description"][:-4] + "AAAA"
    assert (await _open(vault, sealed, data={**sealed.data, "description": tampered}))[
        "description"
    ] == ERASED


async def test_a_sealed_value_opens_only_at_its_place(pool: asyncpg.Pool) -> None:
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    [sealed] = await vault.seal_events([_goal(SENTINEL)], PEOPLE, stream_id=STREAM)
    token = sealed.data["description"]

    # Another stream, another event, another field, another declared owner: never opens.
    assert (await _open(vault, sealed, stream_id="mentorship-c-1-p-9"))["description"] == ERASED
    other_event = _goal("something else")
    [other] = await vault.seal_events([other_event], PEOPLE, stream_id=STREAM)
    moved = {**other.data, "description": token}
    assert (await _open(vault, other, data=moved))["description"] == ERASED
    as_motivation = {**sealed.data, "motivation": token}
    assert (await _open(vault, sealed, data=as_motivation))["motivation"] == ERASED
    someone_else = {"mentee": "p-3", "mentor": "p-1"}
    assert (await _open(vault, sealed, subjects=someone_else))["description"] == ERASED
    # A token in a field that is not personal is never opened, whoever's it is.
    assert (await _open(vault, sealed, data={**sealed.data, "horizon": token}))["horizon"] == (
        token
    )
    # The place-bound read-model opener: only the declared field paths of the right stream.
    right = SealedAt(token, "p-1", STREAM, ("GoalSet.description",))
    wrong_field = SealedAt(token, "p-1", STREAM, ("ChallengeSet.description",))
    wrong_owner = SealedAt(token, "p-2", STREAM, ("GoalSet.description",))
    assert await vault.open_values([right, wrong_field, wrong_owner]) == [
        SENTINEL,
        ERASED,
        ERASED,
    ]


async def test_version_1_values_still_open_in_their_declared_field(pool: asyncpg.Pool) -> None:
    master = KeyRing.generate("m1")
    vault = await PersonalDataVault.create(pool, master)
    key = (await vault.sealing_keys(["p-1"]))["p-1"]
    assert key is not None
    event = _goal(SENTINEL)
    old = seal_text(key, "p-1", SENTINEL, str(event.event_id))
    assert old.startswith("sealed:v1:p-1:")
    stored = _stored(event, data={**event.data, "description": old})
    [opened] = await vault.open_events([stored], PEOPLE)
    assert opened["description"] == SENTINEL
    [elsewhere] = await vault.open_events(
        [_stored(event, data={**event.data, "horizon": old})], PEOPLE
    )
    assert elsewhere["horizon"] == old


async def test_a_personal_value_without_its_owner_is_refused(pool: asyncpg.Pool) -> None:
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    with pytest.raises(MissingSubject, match="GoalSet has personal data of 'mentee'"):
        await vault.seal_events([_goal(SENTINEL)], {}, stream_id=STREAM)


async def test_master_keys_rotate_and_old_keys_can_be_retired_after_rewrapping(
    pool: asyncpg.Pool,
) -> None:
    old = KeyRing.generate("m1")
    sealed = (
        await (await PersonalDataVault.create(pool, old)).seal_events(
            [_goal(SENTINEL)], {"mentee": "p-9"}, stream_id=STREAM
        )
    )[0]
    new = KeyRing.generate("m2")
    both = KeyRing({**old.keys, **new.keys}, "m2")

    rotated = PersonalDataVault(pool, both)
    nine = {"subjects": {"mentee": "p-9"}}
    assert (await _open(rotated, sealed, **nine))["description"] == SENTINEL
    assert await rotated.rewrap() == 1
    assert await rotated.rewrap() == 0

    only_new = PersonalDataVault(pool, KeyRing(new.keys, "m2"))
    assert (await _open(only_new, sealed, **nine))["description"] == SENTINEL


async def test_forgetting_shreds_the_key_and_keeps_it_from_coming_back(
    pool: asyncpg.Pool,
) -> None:
    master = KeyRing.generate("m1")
    vault = await PersonalDataVault.create(pool, master)
    [sealed] = await vault.seal_events([_goal(SENTINEL)], {"mentee": "p-3"}, stream_id=STREAM)
    at = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        assert await vault.lock_person(connection, "p-3") is None
        assert await vault.shred(connection, "p-3", at=at, requested_by="test") is True

    assert await _open(vault, sealed, subjects={"mentee": "p-3"}) == {
        **sealed.data,
        "description": ERASED,
        "strengths": [ERASED, ERASED],
    }
    assert await vault.opening_keys(["p-3"]) == {}
    # Another process (no cache) seals for the forgotten person: stored erased, no new key.
    fresh = PersonalDataVault(pool, master)
    [later] = await fresh.seal_events([_goal(SENTINEL)], {"mentee": "p-3"}, stream_id=STREAM)
    assert later.data["description"] == ERASED
    assert await fresh.opening_keys(["p-3"]) == {}
    async with pool.acquire() as connection, connection.transaction():
        assert await vault.lock_person(connection, "p-3") is not None
