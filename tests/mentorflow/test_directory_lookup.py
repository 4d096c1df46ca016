"""Finding directory people by email, user name, employee number or external id, through the
directory's blind index (keyed digests written with the events), on a real PostgreSQL.

Only active people are found; a changed value finds them by the new one only; forgetting
deletes their digests; digests computed afresh from the streams equal the live ones; and a
master key rotation keeps people findable.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from domain.person import DesiredPerson
from events.person import PersonProfile
from eventstore import PostgresEventStore
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.keyring import KeyRing
from mentorflow.people import forget_person
from notifications import migrate_outbox
from projections import migrate_read_models
from tests.support import create_database
from vault import PersonalDataVault


@dataclass(frozen=True)
class Directory:
    """The service over a database of the module's own, with a master key of its own."""

    store: PostgresEventStore
    vault: PersonalDataVault
    people: PeopleDirectory
    master: KeyRing


@pytest.fixture(scope="module")
async def directory(postgres_server_url: str) -> AsyncIterator[Directory]:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "look"))
    await migrate_read_models(store.pool)
    await migrate_directory(store.pool)
    await migrate_outbox(store.pool)  # forgetting erases a person's notification settings
    master = KeyRing.generate("m1")
    vault = await PersonalDataVault.create(store.pool, master)
    try:
        yield Directory(store, vault, PeopleDirectory(store.pool, vault), master)
    finally:
        await store.close()


def _person_id() -> str:
    return f"l-{uuid.uuid4().hex[:10]}"


def _profile(person_id: str, **fields: object) -> PersonProfile:
    values: dict[str, object] = {
        "user_name": f"{person_id}@corp.example",
        "name": "Lin Park",
        "email": f"Lin.Park.{person_id}@Example.com",
        "employee_number": f"E-{person_id}",
        "external_id": f"hris-{person_id}",
        "timezone": "Europe/Berlin",
    }
    return PersonProfile.model_validate({**values, **fields})


async def _put(
    directory: Directory, person_id: str, *, active: bool = True, **fields: object
) -> None:
    profile = _profile(person_id, **fields)
    await directory.people.apply(person_id, DesiredPerson(profile, active=active), source="csv")


async def _digest_rows(directory: Directory) -> list[tuple[str, str, str]]:
    rows = await directory.store.pool.fetch(
        "SELECT person_id, field, digest FROM directory.lookup_digests ORDER BY person_id, field"
    )
    return [(row["person_id"], row["field"], row["digest"]) for row in rows]


async def test_a_person_is_found_by_each_value_trimmed_and_case_folded(
    directory: Directory,
) -> None:
    person_id = _person_id()
    await _put(directory, person_id)
    find = directory.people.find_active

    assert await find("email", f"  lin.park.{person_id}@EXAMPLE.com ") == [person_id]
    assert await find("user_name", f"{person_id}@corp.example") == [person_id]
    assert await find("employee_number", f"e-{person_id}") == [person_id]
    assert await find("external_id", f"hris-{person_id}") == [person_id]
    assert await find("email", f"{person_id}@corp.example") == []  # a user name, not an email
    assert await find("email", "") == []


async def test_the_digests_hold_no_value_in_clear(directory: Directory) -> None:
    person_id = _person_id()
    await _put(directory, person_id)

    rows = [row for row in await _digest_rows(directory) if row[0] == person_id]

    assert sorted(field for _, field, _ in rows) == [
        "email",
        "employee_number",
        "external_id",
        "user_name",
    ]
    for _, _, digest in rows:
        assert digest.startswith("m1:")
        assert person_id not in digest
        assert len(digest.removeprefix("m1:")) == 64


async def test_a_changed_email_finds_the_person_by_the_new_one_only(directory: Directory) -> None:
    person_id = _person_id()
    await _put(directory, person_id)
    await _put(directory, person_id, email=f"new-{person_id}@example.com")

    assert await directory.people.find_active("email", f"new-{person_id}@example.com") == [
        person_id
    ]
    assert await directory.people.find_active("email", f"Lin.Park.{person_id}@Example.com") == []


async def test_only_active_people_are_found_and_everyone_sharing_a_value_is(
    directory: Directory,
) -> None:
    first, second, shared = _person_id(), _person_id(), f"team-{uuid.uuid4().hex[:8]}@example.com"
    await _put(directory, first, email=shared)
    await _put(directory, second, email=shared)

    both = await directory.people.find_active("email", shared)
    await _put(directory, second, active=False, email=shared)
    after_deactivation = await directory.people.find_active("email", shared)
    await _put(directory, first, active=False, email=shared)
    nobody = await directory.people.find_active("email", shared)
    await _put(directory, first, email=shared)
    reactivated = await directory.people.find_active("email", shared)

    assert both == sorted([first, second])
    assert after_deactivation == [first]
    assert nobody == []
    assert reactivated == [first]


async def test_forgetting_deletes_the_digests(directory: Directory) -> None:
    person_id = _person_id()
    await _put(directory, person_id)

    outcome = await forget_person(
        directory.store.pool, directory.vault, person_id, requested_by="test"
    )
    again = await forget_person(
        directory.store.pool, directory.vault, person_id, requested_by="test"
    )

    assert outcome.lookup_digests_erased == 4
    assert again.lookup_digests_erased == 0
    assert [row for row in await _digest_rows(directory) if row[0] == person_id] == []
    assert await directory.people.find_active("employee_number", f"E-{person_id}") == []
    assert await directory.people.index_people(everyone=True) >= 1  # forgotten: none again
    assert [row for row in await _digest_rows(directory) if row[0] == person_id] == []


async def test_digests_computed_afresh_from_the_streams_equal_the_live_ones(
    directory: Directory,
) -> None:
    changed, left = _person_id(), _person_id()
    await _put(directory, changed)
    await _put(directory, changed, email=f"moved-{changed}@example.com", employee_number="")
    await _put(directory, left)
    await _put(directory, left, active=False)
    live = await _digest_rows(directory)

    async with directory.store.pool.acquire() as connection, connection.transaction():
        await connection.execute("DELETE FROM directory.lookup_digests")
        await connection.execute("UPDATE directory.people SET indexed_version = 0")
    indexed = await directory.people.index_people(batch=2)
    rebuilt = await _digest_rows(directory)
    recomputed = await directory.people.index_people(everyone=True)

    assert indexed == await directory.store.pool.fetchval("SELECT count(*) FROM directory.people")
    assert rebuilt == live
    assert await _digest_rows(directory) == live
    assert recomputed >= indexed
    assert await directory.people.index_people() == 0  # nothing left to index


async def test_people_stay_findable_across_a_master_key_rotation(postgres_server_url: str) -> None:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "rot"))
    try:
        await migrate_directory(store.pool)
        old = KeyRing.generate("m1")
        person_id = _person_id()
        before = PeopleDirectory(store.pool, await PersonalDataVault.create(store.pool, old))
        await before.apply(person_id, DesiredPerson(_profile(person_id)), source="csv")
        rotated = KeyRing({**old.keys, **KeyRing.generate("m2").keys}, "m2")
        vault = PersonalDataVault(store.pool, rotated)
        during = PeopleDirectory(store.pool, vault)

        found_with_both_keys = await during.find_active("external_id", f"hris-{person_id}")
        await vault.rewrap()  # what `mentorflow people rewrap-keys` does, then:
        await during.index_people(everyone=True)
        only_new = KeyRing({"m2": rotated.key("m2")}, "m2")
        after = PeopleDirectory(store.pool, PersonalDataVault(store.pool, only_new))

        assert found_with_both_keys == [person_id]
        digests = await store.pool.fetch("SELECT digest FROM directory.lookup_digests")
        assert {row["digest"].split(":")[0] for row in digests} == {"m2"}
        assert await after.find_active("external_id", f"hris-{person_id}") == [person_id]
    finally:
        await store.close()
