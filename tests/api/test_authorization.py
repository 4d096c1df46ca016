"""The authorization matrix: every route × caller (role, own or other relationship, side).

A ``scim`` token (the SCIM service's, `tests/api/test_scim.py`) names no person and reaches no
relationship: everywhere it gets what ``ops`` gets. The SCIM service itself refuses every
other role (`test_only_scim_tokens_reach_the_scim_service`).

Each cell says what the caller gets: ``ok`` (the change passed authorization: recorded, or
refused by the relationship's rules with 422 / 409), ``403`` (visible, but not theirs to do)
or ``404`` (not theirs to see: answered exactly like a relationship that does not exist).
Refused cells record nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import (
    Pair,
    Tokens,
    bearer,
    cohort_spec,
    onboard,
    profiled,
    project,
    start_pair,
)
from tests.support import assert_eventually

CALLERS = (
    "hr_admin",
    "service",
    "ops",
    "own_mentor",
    "own_mentee",
    "other_mentor",
    "other_mentee",
)
OK = "ok"
CYCLE = "matrix-h1"
PASSED = {200, 201, 202, 409, 422}
"""Statuses of a request that passed authorization (409/422: the rules said no)."""


@dataclass(frozen=True)
class World:
    """An onboarded relationship (own) and another one with other people (other)."""

    own: Pair
    other: Pair
    cohort_id: str


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
    await onboard(http, tokens, other)
    launched = await http.post("/cohorts", json=cohort_spec(), headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    await profiled(api_stack.store, own.mentee_id)  # the directory knows the own mentee
    await project(api_stack.store)
    cycle = await http.post(
        "/review-cycles", json={"cohort_id": own.cohort_id, "cycle_id": CYCLE}, headers=tokens.hr
    )
    assert cycle.status_code == 202, cycle.text
    handle = api_stack.client.get_workflow_handle(own.mentorship_id)
    await assert_eventually(
        lambda: handle.query("state"), lambda state: CYCLE in state["reviews"], timeout=20
    )
    return World(own, other, launched.json()["cohort_id"])


@pytest.fixture(scope="module")
def ops_token(tokens: Tokens) -> str:
    from mentorflow.api.tokens import add_token

    return add_token(tokens.path, Role.OPS)


@pytest.fixture(scope="module")
def scim_token(tokens: Tokens) -> str:
    from mentorflow.api.tokens import add_token

    return add_token(tokens.path, Role.SCIM)


_SERVICE_TOKENS: dict[str, str] = {}
"""The ops and scim tokens of the module, by caller (filled by `_service_tokens`)."""


@pytest.fixture(scope="module", autouse=True)
def _service_tokens(ops_token: str, scim_token: str) -> None:
    _SERVICE_TOKENS.update(ops=ops_token, scim=scim_token)


def _headers(tokens: Tokens, world: World, caller: str, ops: str) -> dict[str, str]:
    match caller:
        case "hr_admin":
            return tokens.hr
        case "service":
            return tokens.integration
        case "ops":
            return bearer(ops)
        case "scim":
            return bearer(_SERVICE_TOKENS["scim"])
        case "own_mentor":
            return tokens.headers(world.own.mentor_id, Role.MENTOR)
        case "own_mentee":
            return tokens.headers(world.own.mentee_id, Role.MENTEE)
        case "other_mentor":
            return tokens.headers(world.other.mentor_id, Role.MENTOR)
        case "other_mentee":
            return tokens.headers(world.other.mentee_id, Role.MENTEE)
    raise AssertionError(caller)


def _soon(days: int = 9) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _conversation(world: World) -> dict[str, Any]:
    held_at = datetime.now(UTC) - timedelta(seconds=5)
    return {
        "held_at": held_at.isoformat(),
        "goal_ids": ["g-1"],
        "skills": ["listening"],
        "action_items": [
            {"owner": "mentee", "description": "Try it", "due_at": _soon(7)},
        ],
    }


Body = Callable[[World], dict[str, Any] | None]


@dataclass(frozen=True)
class Route:
    """One route of the API and what each caller gets from it."""

    method: str
    path: str
    body: Body
    expected: tuple[str, ...]  # per caller, in the order of CALLERS

    def url(self, world: World) -> str:
        own = world.own
        return self.path.format(
            m=own.mentorship_id, mentee=own.mentee_id, cohort=world.cohort_id, mentor=own.mentor_id
        )


def _none(world: World) -> None:
    return None


def _json(value: dict[str, Any]) -> Body:
    return lambda world: value


# hr, service, ops (the codec only: sees no relationship), own mentor, own mentee, and the
# mentor and mentee of another relationship.
READ = (OK, OK, "404", OK, OK, "404", "404")
BOTH = (OK, "403", "404", OK, OK, "404", "404")
MENTEE = (OK, "403", "404", "403", OK, "404", "404")
MENTOR = (OK, "403", "404", OK, "403", "404", "404")
PARTICIPANT_MENTEE = ("403", "403", "404", "403", OK, "404", "404")
PARTICIPANTS = ("403", "403", "404", OK, OK, "404", "404")
HR = (OK, "403", "403", "403", "403", "403", "403")
HR_OR_SERVICE = (OK, OK, "403", "403", "403", "403", "403")
OWN_MENTEE_READ = (OK, OK, "404", "404", OK, "404", "404")
OWN_MENTEE_WRITE = (OK, "403", "404", "404", OK, "404", "404")
OWN_OR_HR_READ = (OK, "404", "404", "404", OK, "404", "404")
OWN_ONLY_WRITE = ("403", "404", "404", "404", OK, "404", "404")
MINI_IPIP = {"consent": True, "answers": [3, 4, 2, 5, 1] * 4}
HR_OR_SERVICE_HIDDEN = (OK, OK, "404", "404", "404", "404", "404")

ROUTES = [
    Route("GET", "/mentorships/{m}", _none, READ),
    Route("GET", "/people/{mentee}/development-plan", _none, READ),
    Route("POST", "/mentorships/{m}/conversations", _conversation, BOTH),
    Route(
        "POST",
        "/mentorships/{m}/goals",
        _json({"horizon": "short", "description": "A matrix goal"}),
        MENTEE,
    ),
    Route("POST", "/mentorships/{m}/goals/g-2/revise", _json({"progress": 40}), MENTEE),
    Route("POST", "/mentorships/{m}/goals/g-404/achieve", _none, MENTEE),
    Route("POST", "/mentorships/{m}/goals/g-404/drop", _json({"reason": "changed"}), MENTEE),
    Route(
        "POST",
        "/mentorships/{m}/training",
        lambda world: {"person_id": world.own.mentee_id, "module": "active-listening"},
        MENTEE,
    ),
    Route(
        "POST",
        "/mentorships/{m}/challenges",
        lambda world: {"skill": "negotiation", "description": "A vendor call", "due_at": _soon()},
        MENTOR,
    ),
    Route("POST", "/mentorships/{m}/challenges/c-404/progress", _json({"progress": 10}), BOTH),
    # a-1 is the mentee's (the kickoff's action plan): only its owner (or HR) changes it.
    Route(
        "POST",
        "/mentorships/{m}/action-items/a-1/reschedule",
        lambda w: {"due_at": _soon()},
        MENTEE,
    ),
    Route("POST", "/mentorships/{m}/action-items/a-1/complete", _none, MENTEE),
    Route(
        "POST",
        "/mentorships/{m}/conversations/1/feedback",
        _json({"usefulness": 5, "listening": 4, "clarity": 4}),
        PARTICIPANTS,
    ),
    Route("GET", "/mentorships/{m}/private-notes", _none, PARTICIPANTS),
    Route("GET", "/mentorships/{m}/review-summaries/" + CYCLE, _none, MENTEE),
    Route(
        "POST",
        "/mentorships/{m}/review-summaries/" + CYCLE + "/approve",
        _json({}),
        PARTICIPANT_MENTEE,
    ),
    Route(
        "POST",
        "/mentorships/{m}/review-summaries/" + CYCLE + "/decline",
        _none,
        PARTICIPANT_MENTEE,
    ),
    Route("GET", "/people/{mentee}/mentorships", _none, OWN_MENTEE_READ),
    Route("GET", "/people/{mentee}/notification-preferences", _none, OWN_MENTEE_READ),
    Route(
        "PUT",
        "/people/{mentee}/notification-preferences",
        _json({"channel": "email", "quiet_hours": "off"}),
        OWN_MENTEE_WRITE,
    ),
    Route("GET", "/people/{mentee}/profile", _none, OWN_OR_HR_READ),
    Route(
        "PUT",
        "/people/{mentee}/profile",
        _json(
            {
                "timezone": "Europe/Berlin",
                "languages": ["en"],
                "skills": {"python": 4},
                "wants_to_develop": [],
                "career_objectives": [],
            }
        ),
        OWN_ONLY_WRITE,
    ),
    Route("GET", "/people/{mentee}/traits", _none, OWN_OR_HR_READ),
    Route("PUT", "/people/{mentee}/traits", _json(MINI_IPIP), OWN_ONLY_WRITE),
    Route("DELETE", "/people/{mentee}/traits", _none, OWN_ONLY_WRITE),
    Route("GET", "/cohorts/{cohort}/contacts?person_id={mentee}", _none, HR_OR_SERVICE_HIDDEN),
    Route(
        "POST",
        "/mentorships/{m}/extend-deadline",
        lambda world: {"deadline": "conversation", "new_deadline": _soon(20), "reason": "leave"},
        HR,
    ),
    Route(
        "POST",
        "/mentorships/{m}/feedback",
        lambda world: {
            "person_id": world.own.mentee_id,
            "satisfaction": 4,
            "value": 4,
            "would_recommend": True,
        },
        MENTEE,
    ),
    Route("POST", "/mentorships/{m}/resume", _none, BOTH),
    # Only the mentee can truthfully say that the mentee left (the rules refuse the mentor).
    Route("POST", "/mentorships/{m}/close", _json({"reason": "mentee_left"}), MENTEE),
    Route("GET", "/cohorts", _none, HR_OR_SERVICE),
    Route("GET", "/cohorts/{cohort}", _none, HR_OR_SERVICE),
    Route("GET", "/cohorts/{cohort}/dashboard", _none, HR_OR_SERVICE),
    Route("GET", "/cohorts/{cohort}/matching", _none, HR_OR_SERVICE),
    Route("POST", "/cohorts/{cohort}/approval", _json({"overrides": []}), HR),
    Route(
        "POST",
        "/cohorts/{cohort}/participants",
        lambda world: {
            "id": f"late-{uuid.uuid4().hex[:8]}",
            "name": "Late Joiner",
            "roles": ["mentor"],
            "seniority": 6,
            "timezone": "UTC",
        },
        HR,
    ),
    Route("POST", "/cohorts", lambda world: cohort_spec(), HR_OR_SERVICE),
    Route(
        "POST",
        "/review-cycles",
        lambda world: {"cohort_id": world.other.cohort_id, "cycle_id": "matrix"},
        HR,
    ),
    Route("POST", "/people/nobody-matrix/forget", _none, HR),
    # Last: they change the relationship's stage (later changes are then refused by the
    # rules, 422, which still shows that authorization let them through).
    Route("POST", "/mentorships/{m}/conversations/skip", _none, BOTH),
    Route("POST", "/mentorships/{m}/pause", _json({"reason": "leave"}), BOTH),
    Route("POST", "/mentorships/{m}/rematch", _json({"reason": "time zones"}), BOTH),
]
"""Every route of the API but the codec's (`tests/codec/test_codec_server.py`) and the
health probes (public: `tests/api/test_auth_before_body.py`)."""


def _cells(route: Route) -> list[tuple[str, str]]:
    """Each caller's expectation, the scim token's being the ops token's."""
    cells = list(zip(CALLERS, route.expected, strict=True))
    return [*cells, ("scim", route.expected[CALLERS.index("ops")])]


@pytest.mark.parametrize(
    ("route", "caller", "expected"),
    [
        pytest.param(route, caller, expected, id=f"{route.method} {route.path} as {caller}")
        for route in ROUTES
        for caller, expected in _cells(route)
    ],
)
async def test_authorization_matrix(
    http: httpx.AsyncClient,
    tokens: Tokens,
    api_stack: ApiStack,
    world: World,
    ops_token: str,
    route: Route,
    caller: str,
    expected: str,
) -> None:
    before = len(await api_stack.store.read_stream(world.own.mentorship_id))
    body = route.body(world)

    response = await http.request(
        route.method,
        route.url(world),
        json=body,
        headers=_headers(tokens, world, caller, ops_token),
    )

    if expected == OK:
        assert response.status_code in PASSED, response.text
        if response.status_code == 422:  # the relationship's rules, not a malformed body
            assert response.json()["error"]["code"] == "command_rejected", response.text
        return
    assert response.status_code == int(expected), response.text
    assert len(await api_stack.store.read_stream(world.own.mentorship_id)) == before
    if expected == "404":
        missing = await http.request(
            route.method,
            route.url(world).replace(world.own.mentorship_id, "mentorship-nope-x"),
            json=body,
            headers=_headers(tokens, world, caller, ops_token),
        )
        if "/mentorships/" in route.path:
            # The same answer as for a relationship that does not exist.
            assert missing.status_code == 404
            assert response.json()["error"]["message"].startswith("no ")
        elif "/development-plan" in route.path:
            nobody = await http.get(
                "/people/nobody-at-all/development-plan",
                headers=_headers(tokens, world, caller, ops_token),
            )
            assert nobody.status_code == 404
            assert response.json()["error"]["message"] == nobody.json()["error"]["message"].replace(
                "nobody-at-all", world.own.mentee_id
            )
        elif route.path.startswith("/people/{mentee}/"):
            nobody = await http.request(
                route.method,
                route.path.format(mentee="nobody-at-all"),
                json=body,
                headers=_headers(tokens, world, caller, ops_token),
            )
            assert nobody.status_code == 404
            assert response.json()["error"]["message"] == nobody.json()["error"]["message"].replace(
                "nobody-at-all", world.own.mentee_id
            )
        elif "/contacts" in route.path:
            # The same answer as for a cohort that does not exist.
            nobody = await http.get(
                route.url(world).replace(world.cohort_id, "no-such-cohort"),
                headers=_headers(tokens, world, caller, ops_token),
            )
            assert nobody.status_code == 404
            assert response.json()["error"]["message"] == nobody.json()["error"]["message"].replace(
                "no-such-cohort", world.cohort_id
            )


SCIM_ROUTES = [
    ("GET", "/scim/v2/Users"),
    ("POST", "/scim/v2/Users"),
    ("GET", "/scim/v2/ServiceProviderConfig"),
    ("PATCH", "/scim/v2/Users/{mentee}"),
    ("DELETE", "/scim/v2/Users/{mentee}"),
]


@pytest.mark.parametrize(
    ("method", "path", "caller"),
    [
        pytest.param(method, path, caller, id=f"{method} {path} as {caller}")
        for method, path in SCIM_ROUTES
        for caller in CALLERS
    ],
)
async def test_only_scim_tokens_reach_the_scim_service(
    http: httpx.AsyncClient,
    tokens: Tokens,
    world: World,
    ops_token: str,
    method: str,
    path: str,
    caller: str,
) -> None:
    response = await http.request(
        method,
        path.format(mentee=world.own.mentee_id),
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x@y.z"},
        headers=_headers(tokens, world, caller, ops_token),
    )

    assert response.status_code == 403, response.text
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


async def test_hr_changes_are_recorded_as_hrs_with_the_token_id(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, world: World
) -> None:
    pair = world.other
    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/action-items/a-1/complete", headers=tokens.hr
    )

    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == ["ActionItemCompleted", "ChangeMadeByHr"]
    last = (await api_stack.store.read_stream(pair.mentorship_id))[-1]
    assert last.event_type == "ChangeMadeByHr"
    assert last.data["change"] == "complete_action_item"
    assert last.data["token_id"].startswith("tok_")
    assert last.data["recorded"] == ["ActionItemCompleted"]


async def test_a_mentor_cannot_write_the_mentees_feedback_to_the_mentor(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, world: World
) -> None:
    pair = world.other
    before = len(await api_stack.store.read_stream(pair.mentorship_id))
    body = {**_conversation(world), "feedback_to_mentee": "ok", "feedback_to_mentor": "I'm great"}

    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/conversations",
        json=body,
        headers=tokens.headers(pair.mentor_id, Role.MENTOR),
    )

    assert response.status_code == 403, response.text
    assert "feedback_to_mentor" in response.json()["error"]["problems"][0]
    assert len(await api_stack.store.read_stream(pair.mentorship_id)) == before


async def test_a_relationship_not_projected_yet_is_authorized_from_its_workflow(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, world: World
) -> None:
    fresh = await start_pair(api_stack.client, api_stack.task_queue)
    await _opened(api_stack, fresh)

    own = await http.get(
        f"/mentorships/{fresh.mentorship_id}", headers=tokens.headers(fresh.mentee_id)
    )
    other = await http.get(
        f"/mentorships/{fresh.mentorship_id}",
        headers=tokens.headers(world.own.mentee_id, Role.MENTEE),
    )
    change = await http.post(
        f"/mentorships/{fresh.mentorship_id}/pause",
        json={"reason": "not mine"},
        headers=tokens.headers(world.own.mentor_id, Role.MENTOR),
    )

    assert own.status_code == 200, own.text
    assert own.json()["overview"] is None
    assert own.json()["stage"] == "onboarding"
    assert (other.status_code, change.status_code) == (404, 404)


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
