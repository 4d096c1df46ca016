"""Browser sessions of the codec endpoint, in PostgreSQL (schema ``api``).

The Temporal UI does not send bearer tokens over plain HTTP, so an operator signs the browser
in with an ops token and the browser keeps a cookie. The cookie holds a random session id
(``secrets.token_urlsafe(32)``), never the token; the server keeps only the id's SHA-256, so
neither a copy of the table nor the logs let anyone sign in. A session ends at the first of:

* `SESSION_LIFETIME` after it started (absolute: a stolen cookie is worth a working day at
  most);
* `SESSION_IDLE_TIMEOUT` without a request (a browser left signed in on a shared machine);
* ``DELETE /codec/session`` (the row is deleted, wherever the cookie has been copied to);
* its token no longer resolving (removed from the tokens file or revoked): the row names the
  token by its SHA-256 and is deleted on the first request after the token went.

Times come from the database's clock, the one clock every API process shares. Expired rows
are deleted when they are next presented and whenever a session starts, and a token holds at
most `MAX_SESSIONS_PER_TOKEN` sessions (starting one more ends its oldest), so the table
stays bounded by the number of ops tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventstore import Pool
from eventstore.errors import translating
from eventstore.migrator import load_migrations, migrate

SCHEMA = "api"
SESSION_ID_BYTES = 32
SESSION_LIFETIME = timedelta(hours=8)
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
MAX_SESSIONS_PER_TOKEN = 10


@translating
async def migrate_api_schema(pool: Pool) -> int:
    """Create or update the API's own schema; return how many migrations were applied."""
    async with pool.acquire() as connection:
        return await migrate(connection, SCHEMA, load_migrations("mentorflow.api"))


def session_digest(session_id: str) -> str:
    """What is stored of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CodecSession:
    """A live session: the token it stands for and the UI origin it serves."""

    token_sha256: str
    origin: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session: the id for the cookie (returned once, stored nowhere) and its end."""

    session_id: str
    expires_at: datetime


class CodecSessionStore:
    """The ``api.codec_sessions`` table; driver errors leave as the event store's kinds."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @translating
    async def start(self, token_sha256: str, origin: str) -> StartedSession:
        """Start a session for the token with digest ``token_sha256``, used from ``origin``."""
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM api.codec_sessions "
                "WHERE expires_at <= now() OR last_seen_at <= now() - $1::interval",
                SESSION_IDLE_TIMEOUT,
            )
            expires_at = await connection.fetchval(
                "INSERT INTO api.codec_sessions (session_sha256, token_sha256, origin, expires_at)"
                " VALUES ($1, $2, $3, now() + $4::interval) RETURNING expires_at",
                session_digest(session_id),
                token_sha256,
                origin,
                SESSION_LIFETIME,
            )
            await connection.execute(
                """
                DELETE FROM api.codec_sessions
                WHERE token_sha256 = $1 AND session_sha256 NOT IN (
                    SELECT session_sha256 FROM api.codec_sessions WHERE token_sha256 = $1
                    ORDER BY created_at DESC, session_sha256 LIMIT $2
                )
                """,
                token_sha256,
                MAX_SESSIONS_PER_TOKEN,
            )
        assert isinstance(expires_at, datetime)
        return StartedSession(session_id, expires_at)

    @translating
    async def find(self, session_id: str) -> CodecSession | None:
        """The live session of ``session_id``; None (and the row deleted) when it has ended."""
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(
                """
                WITH ended AS (
                    DELETE FROM api.codec_sessions
                    WHERE session_sha256 = $1
                      AND (expires_at <= now() OR last_seen_at <= now() - $2::interval)
                )
                SELECT token_sha256, origin, expires_at FROM api.codec_sessions
                WHERE session_sha256 = $1
                  AND expires_at > now() AND last_seen_at > now() - $2::interval
                """,
                session_digest(session_id),
                SESSION_IDLE_TIMEOUT,
            )
        if row is None:
            return None
        return CodecSession(row["token_sha256"], row["origin"], row["expires_at"])

    @translating
    async def touch(self, session_id: str) -> None:
        """Record a use of the session (restarts its idle timeout)."""
        await self._pool.execute(
            "UPDATE api.codec_sessions SET last_seen_at = now() WHERE session_sha256 = $1",
            session_digest(session_id),
        )

    @translating
    async def end(self, session_id: str) -> bool:
        """Delete the session; whether there was one."""
        status = await self._pool.execute(
            "DELETE FROM api.codec_sessions WHERE session_sha256 = $1", session_digest(session_id)
        )
        return bool(status != "DELETE 0")

    @translating
    async def end_all(self, token_sha256: str) -> int:
        """Delete every session of a token; return how many there were."""
        status = await self._pool.execute(
            "DELETE FROM api.codec_sessions WHERE token_sha256 = $1", token_sha256
        )
        return int(str(status).rpartition(" ")[2])
