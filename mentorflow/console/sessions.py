"""Sign-in links and browser sessions of the web console, in PostgreSQL (schema ``api``).

* **Sign-in links** (`mentorflow login-link`) are single use and valid for `LINK_LIFETIME`.
  The link carries a random token; the table keeps its SHA-256 only, so a copy of the table
  signs nobody in. Redeeming marks the row used in the same statement that reads it: two
  browsers racing with one link get one session.
* **Sessions.** The cookie holds an opaque random id (``secrets.token_urlsafe(32)``); the
  table keeps its SHA-256, who signed in (role, person), how (``signed_in_by``: a link
  today, an OIDC issuer later), the session's form token (CSRF) and the viewer's time zone.
  A session ends at the first of `SESSION_LIFETIME` after sign-in (absolute),
  `SESSION_IDLE_TIMEOUT` without a request, or sign-out (the row is deleted).

Times come from the database's clock, the one clock every API process shares. Expired rows
are deleted when they are next presented and whenever a session or a link is created, so
the tables stay small.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventstore import Pool
from eventstore.errors import translating
from mentorflow.api.tokens import Role

SECRET_BYTES = 32
LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE_TIMEOUT = timedelta(hours=1)
CONSOLE_ROLES = frozenset({Role.HR_ADMIN, Role.MENTOR, Role.MENTEE})


def digest(secret: str) -> str:
    """What is stored of a link token or a session id."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Identity:
    """Someone whose identity was verified: by a sign-in link, or later by an OIDC provider.

    Attributes:
        role: ``hr_admin``, ``mentor`` or ``mentee`` (participants reach their own
            relationships whichever of the two they hold, as with API tokens).
        person_id: The participant's id; None for HR.
        signed_in_by: How the identity was verified (``link``, ``oidc:<issuer>``), kept
            with the session for the audit.
    """

    role: Role
    person_id: str | None
    signed_in_by: str

    def __post_init__(self) -> None:
        if self.role not in CONSOLE_ROLES:
            raise ValueError(f"the console has no {self.role.value} sign-in")
        if (self.role is Role.HR_ADMIN) != (self.person_id is None):
            raise ValueError("HR signs in without a person id, participants with one")


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A live session."""

    public_id: str
    """A short, non-secret name of the session for audit records (a prefix of its digest)."""
    identity: Identity
    csrf_token: str
    time_zone: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session: the id for the cookie (returned once, stored nowhere) and its end."""

    session_id: str
    expires_at: datetime


class ConsoleSessionStore:
    """The ``api.console_sign_in_links`` and ``api.console_sessions`` tables."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @translating
    async def create_link(self, role: Role, person_id: str | None) -> str:
        """A new single-use sign-in token for ``role`` (and ``person_id``)."""
        identity = Identity(role, person_id, "link")  # refuses what the console cannot serve
        token = secrets.token_urlsafe(SECRET_BYTES)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM api.console_sign_in_links WHERE expires_at <= now()"
            )
            await connection.execute(
                "INSERT INTO api.console_sign_in_links (link_sha256, role, person_id, expires_at)"
                " VALUES ($1, $2, $3, now() + $4::interval)",
                digest(token),
                identity.role.value,
                identity.person_id,
                LINK_LIFETIME,
            )
        return token

    @translating
    async def redeem_link(self, token: str) -> Identity | None:
        """The identity of an unused, unexpired link, which is used up; None otherwise."""
        row = await self._pool.fetchrow(
            "UPDATE api.console_sign_in_links SET used_at = now() "
            "WHERE link_sha256 = $1 AND used_at IS NULL AND expires_at > now() "
            "RETURNING role, person_id",
            digest(token),
        )
        if row is None:
            return None
        return Identity(Role(row["role"]), row["person_id"], "link")

    @translating
    async def start(self, identity: Identity, time_zone: str) -> StartedSession:
        """Start a session for a verified identity."""
        session_id = secrets.token_urlsafe(SECRET_BYTES)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM api.console_sessions "
                "WHERE expires_at <= now() OR last_seen_at <= now() - $1::interval",
                SESSION_IDLE_TIMEOUT,
            )
            expires_at = await connection.fetchval(
                "INSERT INTO api.console_sessions (session_sha256, role, person_id, "
                "signed_in_by, csrf_token, time_zone, expires_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval) RETURNING expires_at",
                digest(session_id),
                identity.role.value,
                identity.person_id,
                identity.signed_in_by,
                secrets.token_urlsafe(SECRET_BYTES),
                time_zone,
                SESSION_LIFETIME,
            )
        assert isinstance(expires_at, datetime)
        return StartedSession(session_id, expires_at)

    @translating
    async def find(self, session_id: str) -> ConsoleSession | None:
        """The live session of ``session_id``, its idle clock restarted; None (and the row
        deleted) when it has ended."""
        session_digest = digest(session_id)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM api.console_sessions WHERE session_sha256 = $1 "
                "AND (expires_at <= now() OR last_seen_at <= now() - $2::interval)",
                session_digest,
                SESSION_IDLE_TIMEOUT,
            )
            row = await connection.fetchrow(
                "UPDATE api.console_sessions SET last_seen_at = now() WHERE session_sha256 = $1 "
                "RETURNING role, person_id, signed_in_by, csrf_token, time_zone, expires_at",
                session_digest,
            )
        if row is None:
            return None
        return ConsoleSession(
            public_id=session_digest[:12],
            identity=Identity(Role(row["role"]), row["person_id"], row["signed_in_by"]),
            csrf_token=row["csrf_token"],
            time_zone=row["time_zone"],
            expires_at=row["expires_at"],
        )

    @translating
    async def end(self, session_id: str) -> bool:
        """Delete the session; whether there was one."""
        status = await self._pool.execute(
            "DELETE FROM api.console_sessions WHERE session_sha256 = $1", digest(session_id)
        )
        return bool(status != "DELETE 0")
