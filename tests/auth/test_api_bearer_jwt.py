"""The API with single sign-on: JWT access tokens of the issuer next to the tokens file.

Against the real stack (tests/api's module fixtures) and a stand-in issuer served over HTTP.
Every refused token gets the same 401 body; the log says why, and never holds the token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from mentorflow.settings import OidcSettings
from tests.api.conftest import ApiStack, api_stack, build_app, serving, tokens
from tests.api.support import Pair, Tokens, bearer, project, start_pair
from tests.auth.support import AUDIENCE, FakeIssuer, serving_issuer
from tests.support import assert_eventually

__all__ = ["api_stack", "tokens"]  # the API tests' fixtures, used here too

ROLE_MAPPING = {"mentoring-hr": "hr_admin", "mentoring-mentee": "mentee"}


@dataclass(frozen=True)
class World:
    """The API with SSO on, its issuer, and two relationships of people of their own."""

    http: httpx.AsyncClient
    issuer: FakeIssuer
    own: Pair
    other: Pair


@pytest.fixture(scope="module")
async def issuer() -> AsyncIterator[FakeIssuer]:
    fake = FakeIssuer()
    fake.add_key("k1")
    async with serving_issuer(fake) as served:
        yield served


@pytest.fixture(scope="module")
async def world(api_stack: ApiStack, issuer: FakeIssuer) -> AsyncIterator[World]:
    own = await start_pair(api_stack.client, api_stack.task_queue)
    other = await start_pair(api_stack.client, api_stack.task_queue)
    for pair in (own, other):
        await assert_eventually(
            lambda pair=pair: api_stack.store.read_stream(pair.mentorship_id),  # type: ignore[misc]
            lambda events: len(events) >= 2,
            timeout=20,
        )
    await project(api_stack.store)
    app = build_app(
        api_stack,
        oidc_issuer=issuer.url,
        oidc_person_claim="employee_id",
        oidc=OidcSettings(audience=AUDIENCE, role_mapping=ROLE_MAPPING),
    )
    async with serving(app) as http:
        yield World(http, issuer, own, other)


def mentee_token(world: World, person_id: str) -> str:
    return world.issuer.token(roles=["mentoring-mentee"], employee_id=person_id)


async def test_hr_reads_any_relationship_with_an_issuer_token(world: World) -> None:
    token = world.issuer.token(roles=["staff", "mentoring-hr"])
    for pair in (world.own, world.other):
        response = await world.http.get(f"/mentorships/{pair.mentorship_id}", headers=bearer(token))
        assert response.status_code == 200, response.text


async def test_a_mentee_with_an_issuer_token_sees_only_their_own_relationship(
    world: World,
) -> None:
    headers = bearer(mentee_token(world, world.own.mentee_id))
    own = await world.http.get(f"/mentorships/{world.own.mentorship_id}", headers=headers)
    other = await world.http.get(f"/mentorships/{world.other.mentorship_id}", headers=headers)
    hr_only = await world.http.get("/cohorts", headers=headers)
    assert own.status_code == 200, own.text
    assert own.json()["mentorship_id"] == world.own.mentorship_id
    assert other.status_code == 404, other.text
    assert hr_only.status_code == 403, hr_only.text


async def test_static_tokens_still_work_next_to_sso(world: World, tokens: Tokens) -> None:
    response = await world.http.get(
        f"/mentorships/{world.own.mentorship_id}", headers=tokens.integration
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "expired"),
        ("wrong_audience", "claims: Invalid claim: 'aud'"),
        ("wrong_issuer", "claims: Invalid claim: 'iss'"),
        ("not_yet_valid", "claims: The token is not yet valid"),
        ("alg_none", "algorithm 'none' is not accepted"),
        ("hs256_with_public_key", "algorithm 'HS256' is not accepted"),
        ("unknown_kid", "no signing key of the issuer has this kid"),
        ("unmapped_role", "the 'roles' claim maps to no role"),
        ("mentee_without_person", "the 'employee_id' claim is missing or not a participant id"),
    ],
)
async def test_a_refused_token_gets_the_same_401_and_the_log_says_why(
    world: World, case: str, reason: str
) -> None:
    token = forged(world.issuer, case, world.own.mentee_id)
    with capture_logs() as logs:
        response = await world.http.get(
            f"/mentorships/{world.own.mentorship_id}", headers=bearer(token)
        )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "unauthenticated",
        "the bearer token is not accepted",
    )
    refusals = [entry for entry in logs if entry["event"] == "bearer JWT refused"]
    assert [entry["reason"] for entry in refusals] == [reason]
    assert token not in repr(logs)
    assert world.own.mentee_id not in repr(refusals)  # no claim values (the path has it)


async def test_an_unknown_kid_makes_one_fetch_of_the_keys_not_one_per_request(
    world: World,
) -> None:
    world.issuer.add_key("rogue", publish=False)
    token = world.issuer.token("rogue", roles=["mentoring-hr"])
    url = f"/mentorships/{world.own.mentorship_id}"
    first = await world.http.get(url, headers=bearer(token))
    fetches = world.issuer.key_fetches
    for _ in range(5):
        again = await world.http.get(url, headers=bearer(token))
        assert again.status_code == 401
    assert first.status_code == 401
    assert world.issuer.key_fetches == fetches


def forged(issuer: FakeIssuer, case: str, person_id: str) -> str:
    """A token of the named kind, otherwise a valid mentee's."""
    mentee: dict[str, Any] = {"roles": ["mentoring-mentee"], "employee_id": person_id}
    if case == "expired":
        return issuer.token(exp=1_000_000, **mentee)
    if case == "wrong_audience":
        return issuer.token(aud="another-api", **mentee)
    if case == "wrong_issuer":
        return issuer.token(iss="https://idp.example", **mentee)
    if case == "not_yet_valid":
        return issuer.token(nbf=4_000_000_000, **mentee)
    if case == "alg_none":
        return issuer.unsigned_token(**mentee)
    if case == "hs256_with_public_key":
        return issuer.hmac_confused_token(**mentee)
    if case == "unknown_kid":
        if "unpublished" not in issuer.keys:
            issuer.add_key("unpublished", publish=False)
        return issuer.token("unpublished", **mentee)
    if case == "unmapped_role":
        return issuer.token(roles=["staff"], employee_id=person_id)
    if case == "mentee_without_person":
        return issuer.token(roles=["mentoring-mentee"])
    raise AssertionError(case)
