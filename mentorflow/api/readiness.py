"""``/readyz``: are Temporal, PostgreSQL and NATS JetStream reachable, and are the projections
not far behind?

Checks run concurrently, each within a timeout, so a hung server makes the probe fail rather
than hang. The projection lag counts the store's events (a table scan), so it is sampled at
most every `LAG_CACHE_SECONDS` however often the probe runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import asyncpg
import nats
from pydantic import BaseModel, Field
from temporalio.client import Client

from projections import all_projections, projection_status

LAG_CACHE_SECONDS = 15.0


class CheckResult(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """The answer of ``/readyz`` (503 unless ``ready``)."""

    ready: bool
    checks: dict[str, CheckResult] = Field(description="temporal, postgres, nats and projections")


class ReadinessProbe:
    """Runs the checks; keeps the last projection lag for a while."""

    def __init__(self, *, timeout: float, max_lag_events: int) -> None:
        self.timeout = timeout
        self.max_lag_events = max_lag_events
        self._lag: tuple[float, CheckResult] | None = None

    async def check(self, client: Client, pool: asyncpg.Pool, nats_url: str) -> Readiness:
        """Run every check."""
        names = ("temporal", "postgres", "nats", "projections")
        results = await asyncio.gather(
            self._timed(_temporal(client)),
            self._timed(_postgres(pool)),
            self._timed(_nats(nats_url, self.timeout)),
            self._timed(self._projections(pool)),
        )
        checks = dict(zip(names, results, strict=True))
        return Readiness(ready=all(check.ok for check in checks.values()), checks=checks)

    async def _timed(self, check: Awaitable[CheckResult]) -> CheckResult:
        try:
            return await asyncio.wait_for(check, self.timeout)
        except TimeoutError:
            return CheckResult(ok=False, detail=f"no answer within {self.timeout:g} s")
        except Exception as error:
            return CheckResult(ok=False, detail=f"{type(error).__name__}: {error}")

    async def _projections(self, pool: asyncpg.Pool) -> CheckResult:
        now = time.monotonic()
        if self._lag is not None and now - self._lag[0] < LAG_CACHE_SECONDS:
            return self._lag[1]
        status = await projection_status(pool, all_projections())
        behind = {lag.name: lag.events_behind for lag in status.projections}
        worst = max(behind.values(), default=0)
        if worst > self.max_lag_events:
            laggards = ", ".join(f"{name} {count}" for name, count in behind.items() if count)
            result = CheckResult(
                ok=False,
                detail=f"events behind (limit {self.max_lag_events}): {laggards}",
            )
        else:
            result = CheckResult(ok=True, detail=f"at most {worst} events behind")
        self._lag = (now, result)
        return result


async def _temporal(client: Client) -> CheckResult:
    healthy = await client.service_client.check_health()
    return CheckResult(ok=healthy, detail="serving" if healthy else "not serving")


async def _postgres(pool: asyncpg.Pool) -> CheckResult:
    await pool.fetchval("SELECT 1")
    return CheckResult(ok=True, detail="reachable")


async def _quiet(_error: Exception) -> None:
    """nats-py reports connection errors to a callback too; the check reports them itself."""


async def _nats(url: str, timeout: float) -> CheckResult:
    connection = await nats.connect(
        url,
        connect_timeout=max(1, int(timeout)),
        allow_reconnect=False,
        max_reconnect_attempts=0,
        error_cb=_quiet,
    )
    try:
        info = await connection.jetstream().account_info()
    finally:
        await connection.close()
    return CheckResult(ok=True, detail=f"JetStream reachable, {info.streams} streams")
