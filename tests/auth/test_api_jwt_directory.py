"""Bearer JWTs whose person claim is matched in the people directory (here the employee
number): against the real stack and a stand-in issuer.

The mentee is the one active directory person with the claim's employee number; nobody,
several people or a deactivated person gives the same 401 as any refused token, and the log
says why without the claim's value.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from domain.person import DesiredPerson
from events.person import PersonProfile
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.settings import OidcSettings
from tests.api.conftest import ApiStack, api_stack, build_app, serving
from tests.api.support import Pair, bearer, project, start_pair
from tests.auth.support import AUDIENCE, FakeIssuer, serving_issuer
from tests.support import assert_eventually, open_vault

__all__ = ["api_stack"]  # the API tests' fixture, used here too

ROLE_MAPPING = {"mentoring-hr": "hr_admin", "mentoring-mentee": "mentee"}


@dataclass(frozen=True)
class World:
    """The API matching the ``employee_id`` claim to employee numbers, its issuer, the
    directory, and a relationship whose mentee is in the directory."""

    http: httpx.AsyncClient
    issuer: FakeIssuer
    directory: PeopleDirectory
    pair: Pair
    number: str


async def _put(
    directory: PeopleDirectory, person_id: str, number: str, *, active: bool = True
) -> None:
    profile = PersonProfile(name="Lin Park", employee_number=number, timezone="Asia/Seoul")
    await directory.apply(person_id, DesiredPerson(profile, active=active), source="csv")


@pytest.fixture(scope="module")
async def world(api_stack: ApiStack) -> AsyncIterator[World]:
    fake = FakeIssuer()
    fake.add_key("k1")
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=20,
    )
    await project(api_stack.store)
    await migrate_directory(api_stack.store.pool)
    directory = PeopleDirectory(api_stack.store.pool, await open_vault(api_stack.store.pool))
    number = f"E-{uuid.uuid4().hex[:6]}"
    await _put(directory, pair.mentee_id, number)
    async with serving_issuer(fake) as issuer:
        app = build_app(
            api_stack,
            oidc_issuer=issuer.url,
            oidc_person_claim="employee_id",
            oidc=OidcSettings(
                audience=AUDIENCE, role_mapping=ROLE_MAPPING, person_match="employee_number"
            ),
        )
        async with serving(app) as http:
            yield World(http, issuer, directory, pair, number)


def _mentee_token(world: World, number: str) -> str:
    return world.issuer.token(roles=["mentoring-mentee"], employee_id=number)


async def _read_own(
    world: World, number: str
) -> tuple[httpx.Response, list[MutableMapping[str, Any]]]:
    with capture_logs() as logs:
        response = await world.http.get(
            f"/mentorships/{world.pair.mentorship_id}",
            headers=bearer(_mentee_token(world, number)),
        )
    return response, logs


async def test_a_mentee_is_the_directory_person_with_the_tokens_employee_number(
    world: World,
) -> None:
    response, _ = await _read_own(world, f"  {world.number.lower()} ")

    assert response.status_code == 200, response.text
    assert response.json()["mentorship_id"] == world.pair.mentorship_id


@pytest.mark.parametrize("case", ["nobody", "several", "deactivated"])
async def test_no_one_active_person_gets_the_same_401_and_a_log_without_the_value(
    world: World, case: str
) -> None:
    number = f"E-{uuid.uuid4().hex[:6]}"
    if case == "several":
        for _ in range(2):
            await _put(world.directory, f"twin-{uuid.uuid4().hex[:8]}", number)
    elif case == "deactivated":
        await _put(world.directory, f"gone-{uuid.uuid4().hex[:8]}", number, active=False)

    response, logs = await _read_own(world, number)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["message"] == "the bearer token is not accepted"
    refusals = [entry for entry in logs if entry["event"] == "bearer JWT refused"]
    matched = 2 if case == "several" else 0
    assert [entry["reason"] for entry in refusals] == [
        f"the 'employee_id' claim matches {matched} active directory people by employee_number"
    ]
    assert number not in repr(logs)
    assert number.lower() not in repr(logs)


async def test_a_mentee_deactivated_after_signing_up_is_refused_at_once(world: World) -> None:
    person_id, number = f"leaver-{uuid.uuid4().hex[:8]}", f"E-{uuid.uuid4().hex[:6]}"
    await _put(world.directory, person_id, number)
    token = bearer(_mentee_token(world, number))
    before = await world.http.get(f"/people/{person_id}/mentorships", headers=token)

    await _put(world.directory, person_id, number, active=False)
    after = await world.http.get(f"/people/{person_id}/mentorships", headers=token)

    assert before.status_code == 200, before.text
    assert after.status_code == 401, after.text
