"""Projection lag and throughput.

Lag is counted in events: a stream's checkpoint says how many of its events were applied
(versions are applied in order, without gaps), so a projection has applied the sum of its
checkpoints, and is behind by the events of its stream types in the store minus that sum.
Throughput is either measured in process (`RateMeter`, what the projector logs) or sampled
from the checkpoints over an interval (`projection_status`), which works from any process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventstore.pool import Pool, Record
from eventstore.postgres import SCHEMA as EVENTSTORE_SCHEMA
from projections.base import Projection
from projections.schema import SCHEMA


class RateMeter:
    """Events per second over a sliding window, in process."""

    def __init__(self, window: float = 10.0) -> None:
        if window <= 0:
            raise ValueError("the window must be positive")
        self.window = window
        self.total = 0
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, count: int = 1) -> None:
        """Record ``count`` events now."""
        now = time.monotonic()
        self.total += count
        self._samples.append((now, count))
        self._trim(now)

    def per_second(self) -> float:
        """The rate over the window (0 when nothing happened in it)."""
        now = time.monotonic()
        self._trim(now)
        return sum(count for _, count in self._samples) / self.window

    def _trim(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self.window:
            self._samples.popleft()


@dataclass(frozen=True, slots=True)
class ProjectionLag:
    """Where one projection stands against the store."""

    name: str
    streams: int
    events_applied: int
    events_skipped: int
    events_behind: int
    """Events of its stream types in the store that it has not applied."""
    last_position: int
    """Highest global position it applied."""
    positions_behind: int
    """The store's head position minus `last_position` (0 when caught up)."""
    events_per_second: float | None
    """Applied per second over the sampling interval; None when not sampled."""
    stalled_event_id: str | None = None
    """The event the projection stopped at because applying it fails; None when running."""
    stalled_error: str | None = None
    """Why (error class and ids or field locations, never personal text)."""
    stalled_since: str | None = None
    """When it first failed (ISO 8601)."""
    stalled_attempts: int = 0
    """Failed attempts so far."""


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    """The store's head and every projection's lag."""

    head_position: int
    store_events: int
    projections: list[ProjectionLag]


_STORE = f"""
SELECT split_part(stream_id, '-', 1) AS stream_type, count(*) AS events,
       max(global_position) AS head
FROM {EVENTSTORE_SCHEMA}.events GROUP BY 1
"""

_CHECKPOINTS = f"""
SELECT projection, count(*) AS streams, coalesce(sum(version), 0) AS applied,
       coalesce(sum(skipped), 0) AS skipped, coalesce(max(last_position), 0) AS last_position
FROM {SCHEMA}.checkpoints GROUP BY projection
"""


_STALLS = f"""
SELECT projection, stalled_event_id::text AS event_id, stalled_error AS error,
       stalled_since AS since, stalled_attempts AS attempts
FROM {SCHEMA}.positions WHERE stalled_event_id IS NOT NULL
"""


async def _applied(pool: Pool) -> dict[str, Record]:
    return {row["projection"]: row for row in await pool.fetch(_CHECKPOINTS)}


async def projection_stalls(pool: Pool) -> dict[str, Record]:
    """The stalled projections: the event each stopped at, the error, since when."""
    return {row["projection"]: row for row in await pool.fetch(_STALLS)}


async def projection_status(
    pool: Pool, projections: Sequence[Projection[Any]], *, sample_seconds: float = 0.0
) -> ProjectionStatus:
    """Lag of each projection and, when ``sample_seconds`` > 0, its events per second.

    Counting the store's events scans its table: fine for a status command, not for a
    tight loop.
    """
    first = await _applied(pool) if sample_seconds > 0 else {}
    if sample_seconds > 0:
        await asyncio.sleep(sample_seconds)
    applied = await _applied(pool)
    stalls = await projection_stalls(pool)
    by_type = {row["stream_type"]: row for row in await pool.fetch(_STORE)}
    head = max((row["head"] for row in by_type.values()), default=0)
    lags: list[ProjectionLag] = []
    for projection in projections:
        row = applied.get(projection.name)
        events = sum(by_type[kind]["events"] for kind in projection.stream_types if kind in by_type)
        done = int(row["applied"]) if row else 0
        last_position = int(row["last_position"]) if row else 0
        rate = None
        if sample_seconds > 0:
            before = first.get(projection.name)
            rate = (done - (int(before["applied"]) if before else 0)) / sample_seconds
        lags.append(
            ProjectionLag(
                name=projection.name,
                streams=int(row["streams"]) if row else 0,
                events_applied=done,
                events_skipped=int(row["skipped"]) if row else 0,
                events_behind=max(events - done, 0),
                last_position=last_position,
                positions_behind=max(head - last_position, 0) if events > done else 0,
                events_per_second=rate,
                **_stall_fields(stalls.get(projection.name)),
            )
        )
    store_events = sum(int(row["events"]) for row in by_type.values())
    return ProjectionStatus(head_position=head, store_events=store_events, projections=lags)


def _stall_fields(row: Record | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {
        "stalled_event_id": row["event_id"],
        "stalled_error": row["error"],
        "stalled_since": row["since"].isoformat(),
        "stalled_attempts": row["attempts"],
    }
