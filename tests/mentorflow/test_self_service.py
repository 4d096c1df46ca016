"""A person's own changes through the directory on a real PostgreSQL: their profile fields,
their traits and their consent; the ``people`` read model showing the traits until consent is
withdrawn; refusals that record nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.person import DesiredPerson
from domain.self_service import OwnProfile
from events.person import BigFiveScores, PersonProfile
from eventstore import PostgresEventStore
from mentorflow.directory import (
    AssessmentInvalid,
    PeopleDirectory,
    PersonInactive,
    PersonIsForgotten,
    PersonNotInDirectory,
    assess_traits,
    edit_own_profile,
    migrate_directory,
    withdraw_traits_consent,
)
from mentorflow.people import forget_person
from notifications import migrate_outbox
from projections import SCHEMA, migrate_read_models
from projections.people import People
from projections.runner import ProjectionRunner
from tests.support import create_database, open_vault
from vault import PersonalDataVault

OWN: dict[str, Any] = {
    "timezone": "America/Sao_Paulo",
    "languages": ["pt-BR", "en"],
    "skills": {"python": 5, "negotiation": 1},
    "wants_to_develop": ["public-speaking"],
    "career_objectives": ["staff-engineer"],
}
ANSWERS = [5, 2, 4, 2, 5, 1, 4, 3, 4, 2, 4, 1, 5, 1, 1, 2, 3, 4, 3, 4]
"""Openness 0.75, conscientiousness 0.625, extraversion 0.875, agreeableness 0.25,
emotional stability 0.75."""
CONSENTED = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Directory:
    """The service over a database of the module's own."""

    store: PostgresEventStore
    vault: PersonalDataVault
    people: PeopleDirectory

    async def types(self, person_id: str) -> list[str]:
        """The event types of the person's stream."""
        return [event.event_type for event in await self.store.read_stream(f"person-{person_id}")]

    async def profile(self, person_id: str) -> PersonProfile:
        """The person's profile as the directory folds it."""
        state = await self.people.get(person_id)
        assert state is not None
        assert state.profile is not None
        return state.profile

    async def row(self, person_id: str) -> Any:
        """The person's ``people`` row, once the projection caught up."""
        await ProjectionRunner(People(), self.store).catch_up()
        return await self.store.pool.fetchrow(
            f"SELECT * FROM {SCHEMA}.people WHERE person_id = $1", person_id
        )


@pytest.fixture(scope="module")
async def directory(postgres_server_url: str) -> AsyncIterator[Directory]:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "self"))
    await migrate_read_models(store.pool)
    await migrate_directory(store.pool)
    await migrate_outbox(store.pool)
    vault = await open_vault(store.pool)
    try:
        yield Directory(store, vault, PeopleDirectory(store.pool, vault))
    finally:
        await store.close()


async def _known(directory: Directory, **fields: object) -> str:
    """A person HR's system put in the directory."""
    person_id = f"s-{uuid.uuid4().hex[:10]}"
    profile = PersonProfile.model_validate(
        {
            "user_name": "ana@example.com",
            "name": "Ana Lima",
            "email": "ana@example.com",
            "department": "Data",
            "employee_number": "4711",
            "timezone": "Europe/Lisbon",
            "languages": ["pt"],
            "skills": {"python": 3},
            **fields,
        }
    )
    await directory.people.apply(person_id, DesiredPerson(profile), source="scim")
    return person_id


async def test_an_own_edit_records_the_changed_own_fields_once_and_keeps_hrs(
    directory: Directory,
) -> None:
    person_id = await _known(directory)
    edit = OwnProfile.model_validate(OWN)

    first = await edit_own_profile(directory.people, person_id, edit)
    second = await edit_own_profile(directory.people, person_id, edit)

    assert first.recorded == ["ProfileUpdated"]
    assert sorted(first.changed_fields) == sorted(OWN)
    assert second.recorded == []
    updated = (await directory.store.read_stream(f"person-{person_id}"))[-1]
    assert (updated.schema_version, updated.data["source"]) == (2, "self")
    profile = await directory.profile(person_id)
    assert profile.skills == {"python": 5, "negotiation": 1}
    assert (profile.name, profile.employee_number) == ("Ana Lima", "4711")
    row = await directory.row(person_id)
    assert (row["timezone"], row["skills"], row["skill_levels"]) == (
        "America/Sao_Paulo",
        ["negotiation", "python"],
        [1, 5],
    )
    assert row["wants_to_develop"] == ["public-speaking"]


async def test_an_hr_sync_after_an_own_edit_keeps_the_persons_fields(
    directory: Directory,
) -> None:
    person_id = await _known(directory)
    await edit_own_profile(directory.people, person_id, OwnProfile.model_validate(OWN))
    profile = await directory.profile(person_id)

    # What SCIM does: HR's fields from the request, the person's own from the current state.
    moved = profile.model_copy(update={"department": "Research"})
    applied = await directory.people.apply(person_id, DesiredPerson(moved), source="scim")

    assert applied.changed_fields == ["department"]
    after = await directory.profile(person_id)
    assert (after.department, after.timezone) == ("Research", "America/Sao_Paulo")


async def test_traits_are_kept_with_the_consent_time_and_shown_until_withdrawn(
    directory: Directory,
) -> None:
    person_id = await _known(directory)

    assessed = await assess_traits(
        directory.people, person_id, ANSWERS, consent=True, now=CONSENTED
    )
    again = await assess_traits(directory.people, person_id, ANSWERS, consent=True)
    row = await directory.row(person_id)

    expected = BigFiveScores(
        openness=0.75,
        conscientiousness=0.625,
        extraversion=0.875,
        agreeableness=0.25,
        emotional_stability=0.75,
    )
    assert (assessed.recorded, again.recorded) == (["TraitsAssessed"], [])
    assert assessed.state.traits == expected
    stored = (await directory.store.read_stream(f"person-{person_id}"))[-1]
    assert stored.data == {
        "person_id": person_id,
        "instrument": "Mini-IPIP",
        "traits": expected.model_dump(),
        "consented_at": CONSENTED.isoformat().replace("+00:00", "Z"),
    }
    assert "answers" not in str(stored.data)
    assert row["traits_instrument"] == "Mini-IPIP"
    assert [row[name] for name in BigFiveScores.model_fields] == [0.75, 0.625, 0.875, 0.25, 0.75]
    assert (row["traits_consented_at"], row["traits_assessed_at"]) == (CONSENTED, CONSENTED)

    withdrawn = await withdraw_traits_consent(directory.people, person_id)
    nothing = await withdraw_traits_consent(directory.people, person_id)
    row = await directory.row(person_id)

    assert (withdrawn.recorded, nothing.recorded) == (["TraitsConsentWithdrawn"], [])
    assert withdrawn.state.traits is None
    assert row["traits_instrument"] is None
    assert [row[name] for name in BigFiveScores.model_fields] == [None] * 5
    assert row["traits_consented_at"] is None


async def test_answers_without_consent_or_out_of_range_record_nothing_and_name_every_problem(
    directory: Directory,
) -> None:
    person_id = await _known(directory)

    with pytest.raises(AssessmentInvalid) as refused:
        await assess_traits(directory.people, person_id, [3] * 19 + [6], consent=False)

    assert refused.value.problems == [
        "answers[19]: 6 is not within 1..5",
        "consent: the traits are scored and kept only with your consent",
    ]
    with pytest.raises(AssessmentInvalid, match="consent"):
        await assess_traits(directory.people, person_id, ANSWERS, consent=False)
    assert await directory.types(person_id) == ["PersonProfiled"]


async def test_people_outside_the_directory_inactive_or_forgotten_are_refused(
    directory: Directory,
) -> None:
    stranger = f"s-{uuid.uuid4().hex[:10]}"
    leaver = await _known(directory)
    await assess_traits(directory.people, leaver, ANSWERS, consent=True)
    left = DesiredPerson(await directory.profile(leaver), active=False)
    await directory.people.apply(leaver, left, source="scim")
    forgotten = await _known(directory)
    await assess_traits(directory.people, forgotten, ANSWERS, consent=True)
    await forget_person(directory.store.pool, directory.vault, forgotten, requested_by="cli")
    edit = OwnProfile.model_validate(OWN)

    with pytest.raises(PersonNotInDirectory):
        await edit_own_profile(directory.people, stranger, edit)
    with pytest.raises(PersonNotInDirectory):
        await assess_traits(directory.people, stranger, ANSWERS, consent=True)
    with pytest.raises(PersonInactive):
        await edit_own_profile(directory.people, leaver, edit)
    with pytest.raises(PersonInactive):
        await assess_traits(directory.people, leaver, [3] * 20, consent=True)
    with pytest.raises(PersonIsForgotten):
        await edit_own_profile(directory.people, forgotten, edit)
    # Consent can always be withdrawn, deactivated or not.
    withdrawn = await withdraw_traits_consent(directory.people, leaver)

    assert withdrawn.recorded == ["TraitsConsentWithdrawn"]
    assert await directory.types(stranger) == []
    assert (await directory.types(leaver))[-1] == "TraitsConsentWithdrawn"
    row = await directory.row(forgotten)
    assert (row["forgotten"], row["openness"], row["traits_instrument"]) == (True, None, None)


async def test_an_own_edit_racing_an_hr_sync_keeps_both(directory: Directory) -> None:
    person_id = await _known(directory)
    moved = (await directory.profile(person_id)).model_copy(update={"department": "Ops"})
    kept = frozenset(PersonProfile.model_fields) - {"department"}

    await asyncio.gather(
        edit_own_profile(directory.people, person_id, OwnProfile.model_validate(OWN)),
        directory.people.apply(person_id, DesiredPerson(moved, kept=kept), source="csv"),
    )

    after = await directory.profile(person_id)
    # The sync read the person's fields before the edit, but keeps them as the directory holds
    # them when it records (a CSV without those columns): whichever lands second, both stay.
    assert after.department == "Ops"
    assert after.skills == {"python": 5, "negotiation": 1}
