"""Console sign-in through an OpenID Connect provider (oidc-provider-mock, the local stack's),
without a browser: each step's request as the browser would send it.

The provider checks the client and the nonce requirement but not PKCE; the challenge is
checked against RFC 7636's own example below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from structlog.testing import capture_logs

from mentorflow.api.oidc_issuer import OidcConfig
from mentorflow.api.tokens import Role
from mentorflow.console.auth import SESSION_COOKIE
from mentorflow.console.oidc import STATE_COOKIE
from mentorflow.console.oidc_client import authorization_url, code_challenge
from mentorflow.console.oidc_logins import PendingLogin
from mentorflow.console.sessions import ConsoleSessionStore, Identity
from tests.api.conftest import ApiStack, api_stack, build_app, serving
from tests.api.support import unique
from tests.console.oidc_support import (
    CLIENT_ID,
    MockProvider,
    authorize,
    mock_provider,
    path_of,
    provider_form,
    set_cookies,
)

__all__ = ["api_stack"]


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with mock_provider() as running:
        yield running


@pytest.fixture(scope="module")
async def console(api_stack: ApiStack, provider: MockProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(build_app(api_stack, **provider.settings())) as http:
        yield http


async def begin(console: httpx.AsyncClient, time_zone: str = "UTC") -> tuple[str, str]:
    """Begin a sign-in: the provider's authorization URL and the state cookie."""
    response = await console.get("/sign-in/oidc", params={"time_zone": time_zone})
    assert response.status_code == 303, response.text
    return response.headers["location"], set_cookies(response)[STATE_COOKIE]


async def finish(
    console: httpx.AsyncClient, callback: str, state_cookie: str | None
) -> httpx.Response:
    cookies = {} if state_cookie is None else {STATE_COOKIE: state_cookie}
    return await console.get(path_of(callback), headers=_cookie_header(cookies))


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


async def session_of(api_stack: ApiStack, response: httpx.Response) -> Identity | None:
    session_id = set_cookies(response).get(SESSION_COOKIE)
    if not session_id:
        return None
    session = await ConsoleSessionStore(api_stack.store.pool).find(session_id)
    return None if session is None else session.identity


async def test_the_front_page_offers_single_sign_on(console: httpx.AsyncClient) -> None:
    page = await console.get("/")
    assert "Sign in with SSO" in page.text


async def test_hr_signs_in_through_the_provider_with_a_mapped_role(
    console: httpx.AsyncClient, api_stack: ApiStack, provider: MockProvider
) -> None:
    subject = unique("hr")
    await provider.set_user(
        subject, email=f"{subject}@example.com", roles=["staff", "mentoring-hr"]
    )
    url, state = await begin(console, "Europe/Berlin")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["state"] == [state]
    assert len(query["nonce"][0]) >= 43

    signed_in = await finish(console, await authorize(url, subject), state)

    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/"
    identity = await session_of(api_stack, signed_in)
    assert identity == Identity(Role.HR_ADMIN, None, f"oidc:{provider.issuer}")
    session_id = set_cookies(signed_in)[SESSION_COOKIE]
    session = await ConsoleSessionStore(api_stack.store.pool).find(session_id)
    assert session is not None
    assert session.time_zone == "Europe/Berlin"
    start = await console.get("/", headers=_cookie_header({SESSION_COOKIE: session_id}))
    assert start.headers["location"] == "/hr/cohorts"


async def test_a_mentee_signs_in_as_the_participant_of_the_person_claim(
    console: httpx.AsyncClient, api_stack: ApiStack, provider: MockProvider
) -> None:
    subject = unique("sub")
    await provider.set_user(subject, roles=["mentoring-mentee"], employee_id="p-003")
    url, state = await begin(console)
    signed_in = await finish(console, await authorize(url, subject), state)
    assert await session_of(api_stack, signed_in) == Identity(
        Role.MENTEE, "p-003", f"oidc:{provider.issuer}"
    )


async def test_a_replayed_callback_is_refused_and_starts_no_session(
    console: httpx.AsyncClient, api_stack: ApiStack, provider: MockProvider
) -> None:
    subject = unique("hr")
    await provider.set_user(subject, roles=["mentoring-hr"])
    url, state = await begin(console)
    callback = await authorize(url, subject)
    first = await finish(console, callback, state)
    assert first.status_code == 303
    with capture_logs() as logs:
        replay = await finish(console, callback, state)
    assert replay.status_code == 400
    assert "Sign-in failed" in replay.text
    assert SESSION_COOKIE not in set_cookies(replay)
    reasons = [entry["reason"] for entry in logs if entry["event"] == "console sign-in refused"]
    assert reasons == ["the state is unknown, used already or expired"]


@pytest.mark.parametrize(
    ("cookie", "reason"),
    [
        (None, "no state in the callback or no state cookie in this browser"),
        ("another-browsers-state", "the callback's state is not the one this browser began"),
    ],
    ids=["no-cookie", "other-cookie"],
)
async def test_a_callback_in_a_browser_that_did_not_begin_it_is_refused(
    console: httpx.AsyncClient,
    api_stack: ApiStack,
    provider: MockProvider,
    cookie: str | None,
    reason: str,
) -> None:
    subject = unique("hr")
    await provider.set_user(subject, roles=["mentoring-hr"])
    url, _state = await begin(console)
    with capture_logs() as logs:
        refused = await finish(console, await authorize(url, subject), cookie)
    assert refused.status_code == 400
    assert await session_of(api_stack, refused) is None
    assert [entry["reason"] for entry in logs if entry["event"] == "console sign-in refused"] == [
        reason
    ]


async def test_an_id_token_with_another_nonce_is_refused(
    console: httpx.AsyncClient, api_stack: ApiStack, provider: MockProvider
) -> None:
    subject = unique("hr")
    await provider.set_user(subject, roles=["mentoring-hr"])
    url, state = await begin(console)
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query["nonce"] = "a-nonce-an-attacker-replays"
    tampered = urlunsplit(parts._replace(query=urlencode(query)))
    with capture_logs() as logs:
        refused = await finish(console, await authorize(tampered, subject), state)
    assert refused.status_code == 400
    assert await session_of(api_stack, refused) is None
    reasons = [entry["reason"] for entry in logs if entry["event"] == "console sign-in refused"]
    assert reasons == ["ID token: the nonce is not the sign-in's"]


async def test_an_account_without_a_mapped_role_is_told_so_and_not_signed_in(
    console: httpx.AsyncClient, api_stack: ApiStack, provider: MockProvider
) -> None:
    subject = unique("staff")
    await provider.set_user(subject, roles=["staff"], employee_id="p-001")
    url, state = await begin(console)
    refused = await finish(console, await authorize(url, subject), state)
    assert refused.status_code == 403
    assert "No access to mentorflow" in refused.text
    assert await session_of(api_stack, refused) is None


async def test_a_denied_authorization_is_refused(
    console: httpx.AsyncClient, api_stack: ApiStack
) -> None:
    url, state = await begin(console)
    denied = await provider_form(url, {"action": "deny"})
    assert denied.status_code == 302
    refused = await finish(console, denied.headers["location"], state)
    assert refused.status_code == 400
    assert await session_of(api_stack, refused) is None


async def test_without_a_client_id_there_is_no_single_sign_on(api_stack: ApiStack) -> None:
    async with serving(build_app(api_stack)) as http:
        assert (await http.get("/sign-in/oidc")).status_code == 404
        assert "Sign in with SSO" not in (await http.get("/")).text


def test_the_pkce_challenge_is_s256_of_the_verifier() -> None:
    # RFC 7636, Appendix B.
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    login = PendingLogin("state-1", "nonce-1", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "UTC")
    config = OidcConfig(issuer="https://idp.example", client_id="console")
    url = authorization_url("https://idp.example/authorize?tenant=t", config, "https://cb", login)
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["t"]
    assert query["code_challenge"] == ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"]
    assert "code_verifier" not in query
