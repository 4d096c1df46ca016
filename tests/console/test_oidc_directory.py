"""Console sign-in through the local OpenID Connect provider (oidc-provider-mock), the person
found in the people directory by the ID token's email.

A mentee signs in as the one active directory person with that email (whatever its case);
a deactivated or forgotten person, or an email nobody has, gets the same "No access" page and
no session, and the log says why without the email.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from structlog.testing import capture_logs

from domain.person import DesiredPerson
from events.person import PersonProfile
from mentorflow.api.tokens import Role
from mentorflow.console.sessions import Identity
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.people import forget_person
from mentorflow.settings import OidcSettings
from tests.api.conftest import ApiStack, api_stack, build_app, serving
from tests.api.support import unique
from tests.console.oidc_support import MockProvider, authorize, mock_provider
from tests.console.test_oidc_sign_in import begin, finish, session_of
from tests.support import open_vault

__all__ = ["api_stack"]


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with mock_provider() as running:
        yield running


@pytest.fixture(scope="module")
async def console(api_stack: ApiStack, provider: MockProvider) -> AsyncIterator[httpx.AsyncClient]:
    settings = provider.settings() | {
        "oidc_person_claim": "email",
        "oidc": OidcSettings(
            role_mapping=provider.settings()["oidc"].role_mapping, person_match="email"
        ),
    }
    async with serving(build_app(api_stack, **settings)) as http:
        yield http


@pytest.fixture(scope="module")
async def directory(api_stack: ApiStack) -> PeopleDirectory:
    await migrate_directory(api_stack.store.pool)
    return PeopleDirectory(api_stack.store.pool, await open_vault(api_stack.store.pool))


async def _put(
    directory: PeopleDirectory, person_id: str, email: str, *, active: bool = True
) -> None:
    profile = PersonProfile(name="Ada Obi", email=email, timezone="Europe/Berlin")
    await directory.apply(person_id, DesiredPerson(profile, active=active), source="scim")


async def _sign_in(
    console: httpx.AsyncClient, provider: MockProvider, email: str
) -> httpx.Response:
    subject = unique("sub")
    await provider.set_user(subject, roles=["mentoring-mentee"], email=email)
    url, state = await begin(console)
    return await finish(console, await authorize(url, subject), state)


async def test_a_mentee_signs_in_as_the_directory_person_with_their_email(
    console: httpx.AsyncClient,
    api_stack: ApiStack,
    provider: MockProvider,
    directory: PeopleDirectory,
) -> None:
    person_id = f"p-{uuid.uuid4().hex[:8]}"
    await _put(directory, person_id, f"ada.{person_id}@example.com")

    signed_in = await _sign_in(console, provider, f"Ada.{person_id}@Example.COM")

    assert signed_in.status_code == 303, signed_in.text
    assert await session_of(api_stack, signed_in) == Identity(
        Role.MENTEE, person_id, f"oidc:{provider.issuer}"
    )


@pytest.mark.parametrize("case", ["nobody", "deactivated", "forgotten"])
async def test_no_one_active_person_is_told_no_access_and_gets_no_session(
    console: httpx.AsyncClient,
    api_stack: ApiStack,
    provider: MockProvider,
    directory: PeopleDirectory,
    case: str,
) -> None:
    person_id = f"p-{uuid.uuid4().hex[:8]}"
    email = f"lin.{person_id}@example.com"
    if case != "nobody":
        await _put(directory, person_id, email)
    if case == "deactivated":
        await _put(directory, person_id, email, active=False)
    if case == "forgotten":
        vault = await open_vault(api_stack.store.pool)
        await forget_person(api_stack.store.pool, vault, person_id, requested_by="test")
        digests = await api_stack.store.pool.fetchval(
            "SELECT count(*) FROM directory.lookup_digests WHERE person_id = $1", person_id
        )
        assert digests == 0

    with capture_logs() as logs:
        refused = await _sign_in(console, provider, email)

    assert refused.status_code == 403, refused.text
    assert "No access to mentorflow" in refused.text
    assert "people directory" in refused.text
    assert await session_of(api_stack, refused) is None
    reasons = [entry["reason"] for entry in logs if entry["event"] == "console sign-in refused"]
    assert reasons == ["ID token: the 'email' claim matches 0 active directory people by email"]
    assert email not in repr(logs)
