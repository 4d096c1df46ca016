"""The authorization matrix: each role against its own and another's relationship."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Pair, Tokens, bearer, cohort_spec, onboard, project, start_pair
from tests.support import assert_eventually

CALLERS = ("hr_admin", "service", "own_mentor", "own_mentee", "other_mentor", "other_mentee")


def _matrix(*expected: int) -> list[tuple[str, int]]:
    """Expected status per caller, in the order of `CALLERS`."""
    return list(zip(CALLERS, expected, strict=True))


@dataclass(frozen=True)
class World:
    """An onboarded relationship (own) and another one with other people (other)."""

    own: Pair
    other: Pair


async def _opened(api_stack: ApiStack, pair: Pair) -> None:
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=10,
    )


@pytest.fixture(scope="module")
async def world(http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack) -> World:
    own = await start_pair(api_stack.client, api_stack.task_queue)
    other = await start_pair(api_stack.client, api_stack.task_queue)
    for pair in (own, other):
        await _opened(api_stack, pair)
    await onboard(http, tokens, own)
    await project(api_stack.store)
    return World(own, other)


def _headers(tokens: Tokens, world: World, caller: str) -> dict[str, str]:
    match caller:
        case "hr_admin":
            return tokens.hr
        case "service":
            return tokens.integration
        case "own_mentor":
            return tokens.headers(world.own.mentor_id, Role.MENTOR)
        case "own_mentee":
            return tokens.headers(world.own.mentee_id, Role.MENTEE)
        case "other_mentor":
            return tokens.headers(world.other.mentor_id, Role.MENTOR)
        case "other_mentee":
            return tokens.headers(world.other.mentee_id, Role.MENTEE)
    raise AssertionError(caller)


@pytest.mark.parametrize(
    ("caller", "expected"),
    _matrix(200, 200, 200, 200, 403, 403),
)
async def test_reading_a_mentorship(
    http: httpx.AsyncClient, tokens: Tokens, world: World, caller: str, expected: int
) -> None:
    response = await http.get(
        f"/mentorships/{world.own.mentorship_id}", headers=_headers(tokens, world, caller)
    )

    assert response.status_code == expected, response.text
    if expected == 403:
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("caller", "expected"),
    _matrix(200, 200, 200, 200, 403, 403),
)
async def test_reading_a_development_plan(
    http: httpx.AsyncClient, tokens: Tokens, world: World, caller: str, expected: int
) -> None:
    response = await http.get(
        f"/people/{world.own.mentee_id}/development-plan", headers=_headers(tokens, world, caller)
    )

    assert response.status_code == expected, response.text


@pytest.mark.parametrize(
    ("caller", "expected"),
    _matrix(201, 403, 201, 201, 403, 403),
)
async def test_changing_a_mentorship(
    http: httpx.AsyncClient,
    tokens: Tokens,
    api_stack: ApiStack,
    world: World,
    caller: str,
    expected: int,
) -> None:
    before = len(await api_stack.store.read_stream(world.own.mentorship_id))

    response = await http.post(
        f"/mentorships/{world.own.mentorship_id}/goals",
        json={"horizon": "short", "description": f"Goal set by {caller}"},
        headers=_headers(tokens, world, caller),
    )

    assert response.status_code == expected, response.text
    after = len(await api_stack.store.read_stream(world.own.mentorship_id))
    assert after == before + (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("hr_admin", 200), ("service", 200), ("own_mentor", 403), ("own_mentee", 403)],
)
async def test_cohort_reads_are_for_hr_and_services(
    http: httpx.AsyncClient, tokens: Tokens, world: World, caller: str, expected: int
) -> None:
    headers = _headers(tokens, world, caller)
    listing = await http.get("/cohorts", headers=headers)
    dashboard = await http.get(f"/cohorts/{world.own.cohort_id}/dashboard", headers=headers)

    assert (listing.status_code, dashboard.status_code) == (expected, expected)


@pytest.mark.parametrize("caller", ["own_mentor", "own_mentee"])
async def test_participants_launch_no_cohort(
    http: httpx.AsyncClient, tokens: Tokens, world: World, caller: str
) -> None:
    response = await http.post(
        "/cohorts", json=cohort_spec(), headers=_headers(tokens, world, caller)
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("caller", "expected"), [("service", 403), ("own_mentor", 403), ("hr_admin", 202)]
)
async def test_only_hr_starts_review_cycles(
    http: httpx.AsyncClient, tokens: Tokens, world: World, caller: str, expected: int
) -> None:
    response = await http.post(
        "/review-cycles",
        json={"cohort_id": world.other.cohort_id, "cycle_id": "matrix"},
        headers=_headers(tokens, world, caller),
    )

    assert response.status_code == expected, response.text


async def test_side_specific_changes(http: httpx.AsyncClient, tokens: Tokens, world: World) -> None:
    path = f"/mentorships/{world.own.mentorship_id}"
    mentor = _headers(tokens, world, "own_mentor")
    mentee = _headers(tokens, world, "own_mentee")
    due_at = (datetime.now(UTC) + timedelta(days=9)).isoformat()
    challenge = {"skill": "negotiation", "description": "Lead a vendor call", "due_at": due_at}

    challenge_by_mentee = await http.post(f"{path}/challenges", json=challenge, headers=mentee)
    approval_by_mentor = await http.post(
        f"{path}/review-summaries/2027-h1/approve", json={}, headers=mentor
    )
    approval_by_hr = await http.post(
        f"{path}/review-summaries/2027-h1/approve", json={}, headers=tokens.hr
    )
    training_for_other = await http.post(
        f"{path}/training",
        json={"person_id": world.own.mentor_id, "module": "active-listening"},
        headers=mentee,
    )
    survey_for_other = await http.post(
        f"{path}/feedback",
        json={
            "person_id": world.own.mentee_id,
            "satisfaction": 1,
            "value": 1,
            "would_recommend": False,
        },
        headers=mentor,
    )

    assert challenge_by_mentee.status_code == 403
    assert "only the mentor" in challenge_by_mentee.json()["error"]["message"]
    assert approval_by_mentor.status_code == 403
    assert approval_by_hr.status_code == 403
    assert training_for_other.status_code == 403
    assert survey_for_other.status_code == 403


async def test_a_relationship_not_projected_yet_is_authorized_from_its_workflow(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, world: World
) -> None:
    fresh = await start_pair(api_stack.client, api_stack.task_queue)
    await _opened(api_stack, fresh)

    own = await http.get(
        f"/mentorships/{fresh.mentorship_id}", headers=tokens.headers(fresh.mentee_id)
    )
    other = await http.get(
        f"/mentorships/{fresh.mentorship_id}", headers=_headers(tokens, world, "own_mentee")
    )
    change = await http.post(
        f"/mentorships/{fresh.mentorship_id}/pause",
        json={"reason": "not mine"},
        headers=_headers(tokens, world, "own_mentor"),
    )

    assert own.status_code == 200, own.text
    assert own.json()["overview"] is None
    assert own.json()["stage"] == "onboarding"
    assert (other.status_code, change.status_code) == (403, 403)


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token"), {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "unknown", "basic"],
)
async def test_requests_without_a_known_bearer_token_are_401(
    http: httpx.AsyncClient, world: World, headers: dict[str, str]
) -> None:
    response = await http.get(f"/mentorships/{world.own.mentorship_id}", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"
