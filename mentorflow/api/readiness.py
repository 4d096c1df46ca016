"""``/readyz``: are Temporal, PostgreSQL and NATS JetStream reachable, are the projections not
far behind, and is the tokens file valid?

The answer is for load balancers and anyone who can reach the port, so it carries no raw
error text (exception messages name hosts, users, SQL): each check is ``ok``, ``down``
(unreachable, failed or no answer in time) or ``not_ready`` (answers, but is not ready) with
a fixed short reason, and the details go to the server's log.

The probe stays cheap however often it is called: it uses the API's own Temporal client and
database pool plus one NATS connection of its own kept open between calls; concurrent calls
share one run of the checks, whose result serves for `CACHE_SECONDS`; the projection lag
counts the store's events (a table scan), so it is sampled at most every
`LAG_CACHE_SECONDS`. Checks run concurrently, each within a timeout, so a hung server makes
the probe fail rather than hang. The tokens check reads no server and is never cached: a
tokens file that turns invalid shows at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from enum import StrEnum

import nats
import structlog
from nats.aio.client import Client as NatsClient
from pydantic import BaseModel, Field
from temporalio.client import Client

from eventstore import Pool
from eventstore.errors import translated
from mentorflow.api.tokens import TokenRegistry
from projections import all_projections, projection_status

log = structlog.get_logger(__name__)

CACHE_SECONDS = 1.0
LAG_CACHE_SECONDS = 15.0


class CheckStatus(StrEnum):
    """One dependency's state."""

    OK = "ok"
    DOWN = "down"
    """Unreachable, failed, or no answer within the timeout."""
    NOT_READY = "not_ready"
    """Answers, but is not ready (Temporal not serving, projections behind, tokens invalid)."""


class CheckResult(BaseModel):
    """One dependency's state, with a fixed short reason (details are in the server's log)."""

    ok: bool
    status: CheckStatus
    detail: str


def _ok(detail: str) -> CheckResult:
    return CheckResult(ok=True, status=CheckStatus.OK, detail=detail)


def _down(detail: str) -> CheckResult:
    return CheckResult(ok=False, status=CheckStatus.DOWN, detail=detail)


def _not_ready(detail: str) -> CheckResult:
    return CheckResult(ok=False, status=CheckStatus.NOT_READY, detail=detail)


class Readiness(BaseModel):
    """The answer of ``/readyz`` (503 unless ``ready``)."""

    ready: bool
    checks: dict[str, CheckResult] = Field(
        description="temporal, postgres, nats, projections and tokens"
    )


class ReadinessProbe:
    """Runs the checks on connections it reuses, and answers from a short cache."""

    def __init__(
        self,
        *,
        tokens: TokenRegistry,
        nats_url: str,
        timeout: float,
        max_lag_events: int,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.tokens = tokens
        self.nats_url = nats_url
        self.timeout = timeout
        self.max_lag_events = max_lag_events
        self.cache_seconds = cache_seconds
        self._lock = asyncio.Lock()
        self._servers: tuple[float, dict[str, CheckResult]] | None = None
        self._lag: tuple[float, CheckResult] | None = None
        self._nats: NatsClient | None = None

    async def check(self, client: Client, pool: Pool) -> Readiness:
        """Every check (the servers' from the cache when fresh)."""
        checks = {**await self._servers_checked(client, pool), "tokens": self._tokens()}
        return Readiness(ready=all(check.ok for check in checks.values()), checks=checks)

    async def close(self) -> None:
        """Close the probe's NATS connection."""
        connection, self._nats = self._nats, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _servers_checked(self, client: Client, pool: Pool) -> dict[str, CheckResult]:
        async with self._lock:  # a flood of probes waits for one run instead of starting many
            cached = self._servers
            if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
            names = ("temporal", "postgres", "nats", "projections")
            results = await asyncio.gather(
                self._timed("temporal", _temporal(client)),
                self._timed("postgres", _postgres(pool)),
                self._timed("nats", self._jetstream()),
                self._timed("projections", self._projections(pool)),
            )
            checks = dict(zip(names, results, strict=True))
            self._servers = (time.monotonic(), checks)
            return checks

    async def _timed(self, name: str, check: Awaitable[CheckResult]) -> CheckResult:
        try:
            result = await asyncio.wait_for(check, self.timeout)
        except TimeoutError:
            log.warning("readiness check timed out", check=name, timeout_seconds=self.timeout)
            return _down(f"no answer within {self.timeout:g} s")
        except Exception as error:
            log.warning(
                "readiness check failed",
                check=name,
                error_type=type(error).__name__,
                error=str(error),
            )
            return _down("unreachable or failing")
        if not result.ok:
            log.warning("readiness check not ready", check=name, detail=result.detail)
        return result

    def _tokens(self) -> CheckResult:
        self.tokens.refresh()  # logs the file's problems when it turned invalid
        if self.tokens.invalid is not None:
            return _not_ready("tokens file invalid: every token is refused")
        return _ok("valid")

    async def _jetstream(self) -> CheckResult:
        connection = self._nats
        if connection is None or not connection.is_connected:
            await self.close()
            connection = await nats.connect(
                self.nats_url,
                connect_timeout=max(1, int(self.timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=_quiet,
            )
            self._nats = connection
        await connection.jetstream().account_info()
        return _ok("JetStream reachable")

    async def _projections(self, pool: Pool) -> CheckResult:
        now = time.monotonic()
        if self._lag is not None and now - self._lag[0] < LAG_CACHE_SECONDS:
            return self._lag[1]
        with translated():  # the log names the store's kind, never the driver's
            status = await projection_status(pool, all_projections())
        behind = {lag.name: lag.events_behind for lag in status.projections}
        worst = max(behind.values(), default=0)
        stalled = [lag for lag in status.projections if lag.stalled_event_id is not None]
        if stalled:
            # Event ids and error classes (never personal text: see projections.errors).
            result = _not_ready(
                "stalled: "
                + "; ".join(
                    f"{lag.name} at event {lag.stalled_event_id} ({lag.stalled_error})"
                    for lag in stalled
                )
            )
        elif worst > self.max_lag_events:
            # Our own projection names and counts: no text from outside.
            laggards = ", ".join(f"{name} {count}" for name, count in behind.items() if count)
            result = _not_ready(f"events behind (limit {self.max_lag_events}): {laggards}")
        else:
            result = _ok(f"at most {worst} events behind")
        self._lag = (now, result)
        return result


async def _temporal(client: Client) -> CheckResult:
    healthy = await client.service_client.check_health()
    return _ok("serving") if healthy else _not_ready("not serving")


async def _postgres(pool: Pool) -> CheckResult:
    with translated():
        await pool.fetchval("SELECT 1")
    return _ok("reachable")


async def _quiet(_error: Exception) -> None:
    """nats-py reports connection errors to a callback too; the check reports them itself."""
