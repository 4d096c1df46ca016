"""Console form posts count against the API's write rate limit, per session: 429 past it."""

from __future__ import annotations

import httpx

from mentorflow.api.tokens import Role
from mentorflow.console.auth import CSRF_FIELD, SESSION_COOKIE
from mentorflow.console.sessions import ConsoleSessionStore
from tests.api.conftest import ApiStack, api_stack, build_app, serving

__all__ = ["api_stack"]

LIMIT = 2
UNKNOWN = "/relationships/mentorship-nobody-p-404"


async def _signed_in(http: httpx.AsyncClient, api_stack: ApiStack) -> tuple[str, str]:
    """A session of a mentee, by a sign-in link: its cookie and its form token."""
    store = ConsoleSessionStore(api_stack.store.pool)
    token = await store.create_link(Role.MENTEE, "p-001")
    answer = await http.post("/sign-in", data={"token": token, "time_zone": "UTC"})
    assert answer.status_code == 303, answer.text
    session_id = answer.cookies[SESSION_COOKIE]
    session = await store.find(session_id)
    assert session is not None
    http.cookies.clear()
    return session_id, session.csrf_token


def _use(http: httpx.AsyncClient, session_id: str) -> None:
    http.cookies.clear()
    http.cookies.set(SESSION_COOKIE, session_id)


async def test_a_sessions_form_posts_past_the_limit_get_429_and_change_nothing(
    api_stack: ApiStack,
) -> None:
    async with serving(build_app(api_stack, write_rate_limit=f"{LIMIT}/minute")) as http:
        busy, busy_csrf = await _signed_in(http, api_stack)
        other, other_csrf = await _signed_in(http, api_stack)

        async def post(session: str, csrf: str) -> httpx.Response:
            form = {CSRF_FIELD: csrf, "horizon": "short", "description": "x", "motivation": "y"}
            _use(http, session)
            return await http.post(f"{UNKNOWN}/goals", data=form)

        allowed = [await post(busy, busy_csrf) for _ in range(LIMIT)]
        refused = await post(busy, busy_csrf)
        another_session = await post(other, other_csrf)
        _use(http, busy)
        read = await http.get("/relationships")

    assert [answer.status_code for answer in allowed] == [404] * LIMIT
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many changes" in refused.text
    assert another_session.status_code == 404
    assert read.status_code == 200
