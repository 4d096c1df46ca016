"""Sign-ins begun at the OpenID Connect provider, in PostgreSQL (``api.console_oidc_logins``).

Beginning a sign-in makes a random ``state``, ``nonce`` and PKCE ``code_verifier`` and keeps
them server-side for `LOGIN_LIFETIME`; the browser carries only the state (in the redirect,
and in a cookie that binds the sign-in to the browser that began it). The callback takes the
row in the statement that reads it, so a state works once: a replayed callback finds nothing.
Every PostgreSQL process of the API shares the table, so the callback may reach any of them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from eventstore import Pool
from eventstore.errors import translating
from mentorflow.console.sessions import SECRET_BYTES, digest

LOGIN_LIFETIME = timedelta(minutes=10)
CODE_VERIFIER_BYTES = 48
"""Random bytes of the PKCE code verifier: 64 base64url characters (RFC 7636: 43 to 128)."""


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A sign-in on its way through the provider."""

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    time_zone: str


class PendingLoginStore:
    """The ``api.console_oidc_logins`` table."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @translating
    async def begin(self, time_zone: str) -> PendingLogin:
        """A new pending sign-in, kept for `LOGIN_LIFETIME`."""
        login = PendingLogin(
            state=secrets.token_urlsafe(SECRET_BYTES),
            nonce=secrets.token_urlsafe(SECRET_BYTES),
            code_verifier=secrets.token_urlsafe(CODE_VERIFIER_BYTES),
            time_zone=time_zone,
        )
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "DELETE FROM api.console_oidc_logins WHERE expires_at <= now()"
            )
            await connection.execute(
                "INSERT INTO api.console_oidc_logins "
                "(state_sha256, nonce, code_verifier, time_zone, expires_at) "
                "VALUES ($1, $2, $3, $4, now() + $5::interval)",
                digest(login.state),
                login.nonce,
                login.code_verifier,
                time_zone,
                LOGIN_LIFETIME,
            )
        return login

    @translating
    async def take(self, state: str) -> PendingLogin | None:
        """The unexpired pending sign-in of ``state``, which is used up; None otherwise."""
        row = await self._pool.fetchrow(
            "DELETE FROM api.console_oidc_logins WHERE state_sha256 = $1 "
            "RETURNING nonce, code_verifier, time_zone, expires_at > now() AS live",
            digest(state),
        )
        if row is None or not row["live"]:
            return None
        return PendingLogin(state, row["nonce"], row["code_verifier"], row["time_zone"])
