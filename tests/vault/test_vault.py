"""The vault on a real PostgreSQL: sealing, opening, key rotation, forgetting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from events import NewEvent
from events.personal import ERASED, parse_token
from mentorflow.keyring import KeyRing
from tests.support import create_database
from vault import PersonalDataVault
from vault.store import MissingSubject

SENTINEL = "quiet-otter-5521"


@pytest.fixture
async def pool(postgres_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    database = await asyncpg.create_pool(await create_database(postgres_server_url, "vault"))
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


async def test_sealing_is_deterministic_and_opens_only_with_the_persons_key(
    pool: asyncpg.Pool,
) -> None:
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    event = _goal(SENTINEL)

    [sealed] = await vault.seal_events([event], {"mentee": "p-1", "mentor": "p-2"})
    [again] = await vault.seal_events([event], {"mentee": "p-1", "mentor": "p-2"})

    assert sealed.data == again.data  # a retried append stores the same bytes
    assert SENTINEL not in repr(sealed.data)
    assert sealed.data["motivation"] == ""  # emptiness is not personal
    token = parse_token(sealed.data["description"])
    assert token is not None
    assert token.person_id == "p-1"
    opened = await vault.open(sealed.data)
    assert opened == event.data
    tampered = sealed.data["description"][:-4] + "AAAA"
    assert await vault.open(tampered) == ERASED


async def test_a_personal_value_without_its_owner_is_refused(pool: asyncpg.Pool) -> None:
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    with pytest.raises(MissingSubject, match="GoalSet has personal data of 'mentee'"):
        await vault.seal_events([_goal(SENTINEL)], {})


async def test_master_keys_rotate_and_old_keys_can_be_retired_after_rewrapping(
    pool: asyncpg.Pool,
) -> None:
    old = KeyRing.generate("m1")
    sealed = (
        await (await PersonalDataVault.create(pool, old)).seal_events(
            [_goal(SENTINEL)], {"mentee": "p-9"}
        )
    )[0]
    new = KeyRing.generate("m2")
    both = KeyRing({**old.keys, **new.keys}, "m2")

    rotated = PersonalDataVault(pool, both)
    assert (await rotated.open(sealed.data))["description"] == SENTINEL
    assert await rotated.rewrap() == 1
    assert await rotated.rewrap() == 0

    only_new = PersonalDataVault(pool, KeyRing(new.keys, "m2"))
    assert (await only_new.open(sealed.data))["description"] == SENTINEL


async def test_forgetting_shreds_the_key_and_keeps_it_from_coming_back(
    pool: asyncpg.Pool,
) -> None:
    master = KeyRing.generate("m1")
    vault = await PersonalDataVault.create(pool, master)
    [sealed] = await vault.seal_events([_goal(SENTINEL)], {"mentee": "p-3"})
    at = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        assert await vault.lock_person(connection, "p-3") is None
        assert await vault.shred(connection, "p-3", at=at, requested_by="test") is True

    assert await vault.open(sealed.data) == {
        **sealed.data,
        "description": ERASED,
        "strengths": [ERASED, ERASED],
    }
    assert await vault.opening_keys(["p-3"]) == {}
    # Another process (no cache) seals for the forgotten person: stored erased, no new key.
    fresh = PersonalDataVault(pool, master)
    [later] = await fresh.seal_events([_goal(SENTINEL)], {"mentee": "p-3"})
    assert later.data["description"] == ERASED
    assert await fresh.opening_keys(["p-3"]) == {}
    async with pool.acquire() as connection, connection.transaction():
        assert await vault.lock_person(connection, "p-3") is not None
