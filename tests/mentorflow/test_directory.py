"""The directory service and the ``people`` read model on a real PostgreSQL.

Applying a desired profile appends only what changed (nothing the second time), concurrent
writers of one person both land without losing a change, a forgotten person is refused, and
the read model keeps sealed values that forgetting erases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from domain.person import DesiredPerson
from events.person import PersonProfile
from events.personal import ERASED
from eventstore import PostgresEventStore
from mentorflow.directory import (
    PeopleDirectory,
    PersonIsForgotten,
    ProfileInvalid,
    migrate_directory,
)
from mentorflow.people import forget_person
from notifications import migrate_outbox
from projections import SCHEMA, migrate_read_models
from projections.people import People
from projections.runner import ProjectionRunner
from tests.support import create_database, open_vault
from vault import PersonalDataVault


@dataclass(frozen=True)
class Directory:
    """The service over a database of the module's own."""

    store: PostgresEventStore
    vault: PersonalDataVault
    people: PeopleDirectory


@pytest.fixture(scope="module")
async def directory(postgres_server_url: str) -> AsyncIterator[Directory]:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "dir"))
    await migrate_read_models(store.pool)
    await migrate_directory(store.pool)
    await migrate_outbox(store.pool)  # forgetting erases a person's notification settings
    vault = await open_vault(store.pool)
    try:
        yield Directory(store, vault, PeopleDirectory(store.pool, vault))
    finally:
        await store.close()


def _person_id() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def _profile(**fields: object) -> PersonProfile:
    values: dict[str, object] = {
        "user_name": "lin@example.com",
        "name": "Lin Park",
        "email": "lin@example.com",
        "department": "Data",
        "timezone": "Europe/Berlin",
        "languages": ["en"],
        "skills": {"python": 4},
    }
    return PersonProfile.model_validate({**values, **fields})


async def _types(directory: Directory, person_id: str) -> list[str]:
    events = await directory.store.read_stream(f"person-{person_id}")
    return [event.event_type for event in events]


async def test_the_same_profile_twice_records_it_once(directory: Directory) -> None:
    person_id = _person_id()
    desired = DesiredPerson(_profile())

    first = await directory.people.apply(person_id, desired, source="csv")
    second = await directory.people.apply(person_id, desired, source="csv")

    assert (first.recorded, first.created) == (["PersonProfiled"], True)
    assert (second.recorded, second.created) == ([], False)
    assert await _types(directory, person_id) == ["PersonProfiled"]


async def test_only_the_changed_fields_are_recorded(directory: Directory) -> None:
    person_id = _person_id()
    await directory.people.apply(person_id, DesiredPerson(_profile()), source="csv")

    applied = await directory.people.apply(
        person_id,
        DesiredPerson(_profile(department="Research", manager_id="boss-1"), active=False),
        source="csv",
    )

    assert applied.recorded == ["ProfileUpdated", "ManagerChanged", "PersonDeactivated"]
    updated = (await directory.store.read_stream(f"person-{person_id}"))[1]
    assert updated.data["changes"] == {"department": "Research"}
    state = await directory.people.get(person_id)
    assert state is not None
    assert (state.active, state.profile and state.profile.manager_id) == (False, "boss-1")


async def test_concurrent_writers_of_one_person_both_land(directory: Directory) -> None:
    person_id = _person_id()
    await directory.people.apply(person_id, DesiredPerson(_profile()), source="scim")
    base = _profile()

    await asyncio.gather(
        directory.people.apply(
            person_id, DesiredPerson(base.model_copy(update={"department": "Ops"})), source="scim"
        ),
        directory.people.apply(person_id, DesiredPerson(base, active=False), source="csv"),
    )

    state = await directory.people.get(person_id)
    assert state is not None
    events = await _types(directory, person_id)
    assert "PersonDeactivated" in events
    assert "ProfileUpdated" in events
    # Each writer's desired state is applied whole, on the state it re-read after losing
    # the race, so the one that came second wins entirely: never a mix of the two.
    assert state.profile is not None
    if events[-1] == "PersonDeactivated":
        assert (state.profile.department, state.active) == ("Data", False)
    else:
        assert events[-2:] == ["ProfileUpdated", "PersonReactivated"]
        assert (state.profile.department, state.active) == ("Ops", True)


async def test_a_profile_breaking_the_rules_records_nothing_and_names_every_problem(
    directory: Directory,
) -> None:
    person_id = _person_id()

    with pytest.raises(ProfileInvalid) as refused:
        await directory.people.apply(
            person_id,
            DesiredPerson(_profile(timezone="Mars/Olympus", name="a\x00b", skills={"go": 9})),
            source="csv",
        )

    assert refused.value.problems == [
        "name: contains the control character U+0000",
        "timezone: unknown IANA time zone 'Mars/Olympus'",
        "skills.go: level 9 is not within 0..5",
    ]
    assert await _types(directory, person_id) == []


async def test_the_read_model_keeps_sealed_values_and_forgetting_erases_them(
    directory: Directory,
) -> None:
    person_id = _person_id()
    await directory.people.apply(person_id, DesiredPerson(_profile()), source="scim")
    await ProjectionRunner(People(), directory.store).catch_up()
    row = await directory.store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.people WHERE person_id = $1", person_id
    )
    assert row is not None
    assert row["email"].startswith("sealed:v2:")
    assert row["department"] == "Data"
    assert (row["active"], row["skills"], row["skill_levels"]) == (True, ["python"], [4])

    await forget_person(directory.store.pool, directory.vault, person_id, requested_by="cli")
    await ProjectionRunner(People(), directory.store).catch_up()

    row = await directory.store.pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.people WHERE person_id = $1", person_id
    )
    assert row is not None
    assert (row["email"], row["name"], row["forgotten"]) == (ERASED, ERASED, True)
    assert (await _types(directory, person_id))[-1] == "PersonForgotten"
    with pytest.raises(PersonIsForgotten):
        await directory.people.apply(person_id, DesiredPerson(_profile()), source="scim")
