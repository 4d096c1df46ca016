"""Sign-in links and console sessions in PostgreSQL: single use, hashes only, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import typer
from typer.testing import CliRunner, Result

from mentorflow.api.codec_sessions import migrate_api_schema
from mentorflow.api.tokens import Role
from mentorflow.cli.console import login_link
from mentorflow.console.sessions import ConsoleSessionStore, Identity, digest
from mentorflow.settings import Settings
from tests.support import create_database


@pytest.fixture(scope="module")
async def pool(postgres_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(
        await create_database(postgres_server_url, "console"), min_size=1, max_size=4
    )
    await migrate_api_schema(pool)
    try:
        yield pool
    finally:
        await pool.close()


async def test_a_link_signs_in_once_and_only_its_hash_is_stored(pool: asyncpg.Pool) -> None:
    store = ConsoleSessionStore(pool)
    token = await store.create_link(Role.MENTOR, "p-001")

    first = await store.redeem_link(token)
    second = await store.redeem_link(token)
    stored = await pool.fetch("SELECT link_sha256 FROM api.console_sign_in_links")

    assert first == Identity(Role.MENTOR, "p-001", "link")
    assert second is None
    assert token not in {row["link_sha256"] for row in stored}
    assert digest(token) in {row["link_sha256"] for row in stored}


async def test_a_link_older_than_15_minutes_is_refused(pool: asyncpg.Pool) -> None:
    store = ConsoleSessionStore(pool)
    token = await store.create_link(Role.HR_ADMIN, None)
    await pool.execute(
        "UPDATE api.console_sign_in_links SET created_at = now() - interval '16 minutes', "
        "expires_at = now() - interval '1 minute' WHERE link_sha256 = $1",
        digest(token),
    )

    assert await store.redeem_link(token) is None


async def test_a_session_ends_when_idle_too_long_or_too_old_or_signed_out(
    pool: asyncpg.Pool,
) -> None:
    store = ConsoleSessionStore(pool)
    identity = Identity(Role.MENTEE, "p-002", "link")
    idle, old, ended, live = [await store.start(identity, "Europe/Berlin") for _ in range(4)]
    await pool.execute(
        "UPDATE api.console_sessions SET last_seen_at = now() - interval '61 minutes' "
        "WHERE session_sha256 = $1",
        digest(idle.session_id),
    )
    await pool.execute(
        "UPDATE api.console_sessions SET created_at = now() - interval '13 hours', "
        "expires_at = now() - interval '1 hour' WHERE session_sha256 = $1",
        digest(old.session_id),
    )
    await store.end(ended.session_id)

    found = await store.find(live.session_id)

    assert await store.find(idle.session_id) is None
    assert await store.find(old.session_id) is None
    assert await store.find(ended.session_id) is None
    assert found is not None
    assert found.identity == identity
    assert found.time_zone == "Europe/Berlin"
    assert found.csrf_token != live.session_id  # a form token is not the cookie


async def test_every_session_has_its_own_form_token(pool: asyncpg.Pool) -> None:
    store = ConsoleSessionStore(pool)
    identity = Identity(Role.MENTOR, "p-003", "link")
    first, second = [await store.start(identity, "UTC") for _ in range(2)]

    tokens = [await store.find(started.session_id) for started in (first, second)]

    assert tokens[0] is not None
    assert tokens[1] is not None
    assert tokens[0].csrf_token != tokens[1].csrf_token


def test_the_console_signs_in_hr_and_participants_only() -> None:
    with pytest.raises(ValueError, match="no ops sign-in"):
        Identity(Role.OPS, None, "link")
    with pytest.raises(ValueError, match="without a person id"):
        Identity(Role.HR_ADMIN, "p-001", "link")
    with pytest.raises(ValueError, match="with one"):
        Identity(Role.MENTEE, None, "link")


async def test_login_link_prints_a_link_that_signs_in_once(postgres_server_url: str) -> None:
    # The command runs its own event loop (asyncio.run), so in a thread of its own here.
    database_url = await create_database(postgres_server_url, "login_link")
    settings = Settings(database_url=database_url, api_host="127.0.0.1", api_port=8123)
    app = typer.Typer()
    app.command()(login_link)

    def run(*arguments: str) -> Result:
        return CliRunner().invoke(app, list(arguments), obj=settings)

    printed = await asyncio.to_thread(run, "p-001", "--role", "mentor")
    bad = [
        run(*arguments)  # refused before any connection
        for arguments in (["--role", "mentor"], ["p-001", "--role", "hr_admin"], ["--role", "ops"])
    ]

    assert printed.exit_code == 0, printed.output
    link = printed.stdout.strip()
    assert link.startswith("http://127.0.0.1:8123/sign-in?token=")
    assert [result.exit_code for result in bad] == [2, 2, 2]
    token = link.partition("token=")[2]

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        store = ConsoleSessionStore(pool)
        redeemed = [await store.redeem_link(token) for _ in range(2)]
    finally:
        await pool.close()
    assert redeemed == [Identity(Role.MENTOR, "p-001", "link"), None]
