"""A burst of realistic events, spread over a given time so that faults land inside it."""

from __future__ import annotations

import asyncio
import time

from events import NewEvent
from eventstore import PostgresEventStore
from tests.projections.streams import Stream, scenario

CHUNK = 3
"""Events per append, as workflows record them (a fact and its follow-ups)."""


def streams_of(events: int, seed: int) -> list[Stream]:
    """A cohort's streams holding exactly ``events`` events (the last relationship cut short)."""
    streams = scenario(max(events // 30, 1), seed=seed)
    while sum(len(stream.events) for stream in streams) < events:
        streams = scenario(len(streams) * 2, seed=seed)
    taken: list[Stream] = []
    for stream in streams:
        missing = events - sum(len(kept.events) for kept in taken)
        if missing <= 0:
            break
        stream.events = stream.events[:missing]
        taken.append(stream)
    return taken


async def paced_burst(
    store: PostgresEventStore, streams: list[Stream], seconds: float, writers: int = 4
) -> int:
    """Append every stream, ``writers`` at a time, at an even pace over ``seconds``.

    Returns the number of events appended.
    """
    plans = [_appends(streams[writer::writers]) for writer in range(writers)]
    started = time.monotonic()

    async def write(appends: list[tuple[str, int, list[NewEvent]]]) -> int:
        interval = seconds / max(len(appends), 1)
        for number, (stream_id, version, events) in enumerate(appends):
            await asyncio.sleep(max(started + number * interval - time.monotonic(), 0.0))
            await store.append(stream_id, version, events)
        return sum(len(events) for _, _, events in appends)

    return sum(await asyncio.gather(*(write(plan) for plan in plans)))


def _appends(streams: list[Stream]) -> list[tuple[str, int, list[NewEvent]]]:
    """The streams' appends, a few events at a time, round-robin over the streams."""
    pending = {stream.stream_id: stream.new_events() for stream in streams}
    versions = dict.fromkeys(pending, 0)
    appends: list[tuple[str, int, list[NewEvent]]] = []
    while pending:
        for stream_id in list(pending):
            events, pending[stream_id] = pending[stream_id][:CHUNK], pending[stream_id][CHUNK:]
            appends.append((stream_id, versions[stream_id], events))
            versions[stream_id] += len(events)
            if not pending[stream_id]:
                del pending[stream_id]
    return appends
