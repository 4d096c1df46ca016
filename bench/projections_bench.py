"""Projections: rebuild throughput next to the raw read rate, and append-to-row latency.

Run ``python -m bench.projections_bench [--database-url URL] [--events N] [--rate R]
[--seconds S] [--only rebuild|latency] [--json]`` against a running PostgreSQL
(``mentorflow stack up``); each part uses a fresh database of its own.

* rebuild: ``--events`` realistic events (45 per relationship, a cohort per hundred) are
  copied into the event store; then, in the same run and database, the store's tail is read
  raw (a plain keyset ``SELECT``, then `read_all` pages), read and decoded, and all five
  projections are rebuilt (`rebuild_projections`: replay, fold, copy, swap).
* latency: a projector (all projections, in a process of its own, as ``mentorflow projector``
  runs) tails the store, woken by its LISTEN notifications. Events are appended one per
  append at ``--rate`` per second over 200 relationships; a watcher polls the checkpoints
  every 10 ms. Latency runs from the start of an append to the moment every projection's
  checkpoint holds the event, polling included. Each relationship's first event is a warm-up
  (the projector is starting meanwhile) and not timed.

Until issue 12 events reached the projector through the relay and JetStream (the relay
stand-in's publish added to the latency); the figures of that design are in the issue's
closing note, measured with the previous version of this file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from bench.eventstore_bench import fresh_database, progress
from bench.projections_workload import EVENTS_PER_RELATIONSHIP, Streams, copy_into_store, workload
from events import CATALOG, DomainEvent, NewEvent
from eventstore import Position, PostgresEventStore
from mentorflow.logging import configure_logging
from mentorflow.settings import LogFormat, load_settings
from projections import (
    all_projections,
    migrate_read_models,
    rebuild_projections,
    run_projector,
)

REBUILD_TARGET = 50_000.0
LATENCY_TARGET_MS = 50.0
LATENCY_STREAMS = 200
POLL_SECONDS = 0.01
PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Rate:
    """One measured rate."""

    measurement: str
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Events per second."""
        return self.events / self.seconds


async def read_rates(store: PostgresEventStore) -> list[Rate]:
    """Raw keyset SELECT, read_all pages, read_all + decode: the rebuild's reading side."""
    rates = []
    started, count, last = time.perf_counter(), 0, 0
    while rows := await store.pool.fetch(
        "SELECT global_position, event_id, stream_id, stream_version, event_type,"
        " schema_version, occurred_at, recorded_at, correlation_id, causation_id, data::text"
        " FROM eventstore.events WHERE global_position > $1 ORDER BY global_position LIMIT $2",
        last,
        PAGE,
    ):
        count, last = count + len(rows), rows[-1]["global_position"]
    rates.append(Rate("raw SELECT (keyset pages)", count, time.perf_counter() - started))
    for decode in (False, True):
        started, count, position = time.perf_counter(), 0, Position.START
        while page := await store.read_all(position, PAGE):
            if decode:
                for stored in page:
                    stored.decode(CATALOG)
            count, position = count + len(page), page[-1].position
        label = "read_all + decode" if decode else "read_all (raw)"
        rates.append(Rate(label, count, time.perf_counter() - started))
    return rates


async def bench_rebuild(server_url: str, event_count: int) -> list[Rate]:
    """Copy the events in, measure the reads, rebuild every projection."""
    async with fresh_database(server_url, "projections") as url:
        store = await PostgresEventStore.connect(url)
        try:
            progress(f"generating and copying {event_count:,} events")
            copied = await copy_into_store(url, workload(event_count))
            progress("reading")
            rates = await read_rates(store)
            progress("rebuilding all projections")
            result = await rebuild_projections(store, page_size=PAGE)
            if result.events != copied:
                raise RuntimeError(f"rebuilt {result.events} events of {copied}")
            rates.append(Rate("rebuild (all 5 projections)", result.events, result.seconds))
            return rates
        finally:
            await store.close()


@dataclass
class LatencyDriver:
    """Appends at a steady rate and times each event until every projection has it."""

    store: PostgresEventStore
    streams: Streams
    appended: dict[tuple[str, int], float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    append_times: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def watch(self, projections: int) -> None:
        """Poll the checkpoints; an event counts once every projection has applied it."""
        while self.appended or not self.done.is_set():
            rows = await self.store.pool.fetch(
                "SELECT stream_id, min(version) AS version FROM read_models.checkpoints "
                "GROUP BY stream_id HAVING count(*) = $1",
                projections,
            )
            now = time.perf_counter()
            versions = {row["stream_id"]: row["version"] for row in rows}
            for key in [key for key in self.appended if versions.get(key[0], 0) >= key[1]]:
                started = self.appended.pop(key)
                self.latencies.append(now - started)
            await asyncio.sleep(POLL_SECONDS)

    async def append(self, stream_id: str, version: int, event: DomainEvent) -> None:
        """One event, one append."""
        new = NewEvent.from_domain(
            event, event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), correlation_id="bench"
        )
        await self.store.append(stream_id, version - 1, [new])

    async def run(self, rate: float, seconds: float) -> dict[str, float]:
        """Warm up, then append ``rate`` events a second for about ``seconds``."""
        projections = len(all_projections())
        for stream_id, events in self.streams:
            await self.append(stream_id, 1, events[0])
        warm = projections * len(self.streams)
        for _ in range(600):  # the projector process starts meanwhile: a minute at most
            if (
                await self.store.pool.fetchval("SELECT count(*) FROM read_models.checkpoints")
                >= warm
            ):
                break
            await asyncio.sleep(0.1)
        watching = asyncio.create_task(self.watch(projections))
        shortest = min(len(events) for _, events in self.streams)
        per_stream = min(int(rate * seconds) // len(self.streams), shortest - 1)
        started = time.perf_counter()

        async def paced(offset: int, stream_id: str, events: list[DomainEvent]) -> None:
            # One task per stream: a stream's appends never overtake each other.
            for version in range(2, per_stream + 2):
                slot = started + ((version - 2) * len(self.streams) + offset) / rate
                await asyncio.sleep(max(0.0, slot - time.perf_counter()))
                self.appended[(stream_id, version)] = before = time.perf_counter()
                await self.append(stream_id, version, events[version - 1])
                self.append_times.append(time.perf_counter() - before)

        await asyncio.gather(*(paced(i, *stream) for i, stream in enumerate(self.streams)))
        sent = time.perf_counter() - started
        self.done.set()
        await asyncio.wait_for(watching, timeout=120)
        latencies = sorted(self.latencies)
        return {
            "events": len(latencies),
            "rate_achieved": len(latencies) / sent,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "max_ms": 1000 * latencies[-1],
            "append_p50_ms": 1000 * statistics.median(self.append_times),
        }


async def bench_latency(server_url: str, rate: float, seconds: float) -> dict[str, float]:
    """Run the projector in a process of its own and drive it at ``rate``."""
    streams = [s for s in workload(LATENCY_STREAMS * EVENTS_PER_RELATIONSHIP) if "-p-" in s[0]]
    async with fresh_database(server_url, "latency") as url:
        store = await PostgresEventStore.connect(url, max_size=20)
        await migrate_read_models(store.pool)
        projector = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.projections_bench", "--run-projector", url
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            driver = LatencyDriver(store, streams[:LATENCY_STREAMS])
            figures = await driver.run(rate, seconds)
        finally:
            projector.send_signal(signal.SIGTERM)
            await projector.wait()
            await store.close()
        # The projector's own CPU time (the process, start-up included), per event timed: on a
        # shared machine a steadier figure of its cost than the latencies.
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return figures | {"projector_cpu_ms_per_event": 1000 * cpu / max(1, figures["events"])}


async def projector_process(url: str) -> None:
    """The projector subprocess: run until SIGTERM."""
    configure_logging(LogFormat.CONSOLE, "WARNING")
    store = await PostgresEventStore.connect(url, max_size=20)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await run_projector(store, url, stop)
    finally:
        await store.close()


def render(rates: list[Rate], latency: dict[str, float]) -> str:
    """The report as text, with the targets."""
    lines = [
        f"{rate.measurement:30} {rate.per_second:>10,.0f} events/s ({rate.events:,} events)"
        for rate in rates
    ]
    if rates:
        met = rates[-1].per_second >= REBUILD_TARGET
        lines.append(f"rebuild target >= {REBUILD_TARGET:,.0f} events/s: {_verdict(met)}")
    if latency:
        met = latency["p99_ms"] <= LATENCY_TARGET_MS
        lines.append(
            f"append to read-model row at {latency['rate_achieved']:.0f} events/s, "
            f"{latency['events']:,.0f} events: p50 {latency['p50_ms']:.1f} ms, "
            f"p99 {latency['p99_ms']:.1f} ms, max {latency['max_ms']:.1f} ms (the append "
            f"itself p50 {latency['append_p50_ms']:.1f} ms; projector CPU "
            f"{latency['projector_cpu_ms_per_event']:.2f} ms per event); "
            f"target p99 <= {LATENCY_TARGET_MS:.0f} ms: {_verdict(met)}"
        )
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmarks and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.projections_bench")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: settings)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to rebuild")
    parser.add_argument("--rate", type=float, default=500.0, help="appends per second")
    parser.add_argument("--seconds", type=float, default=18.0, help="length of the latency run")
    parser.add_argument("--only", choices=["rebuild", "latency"], help="run one benchmark")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--run-projector", nargs=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.run_projector:
        asyncio.run(projector_process(*arguments.run_projector))
        return
    settings = load_settings()
    server_url = arguments.database_url or settings.database_url
    rates: list[Rate] = []
    latency: dict[str, float] = {}
    if arguments.only != "latency":
        rates = asyncio.run(bench_rebuild(server_url, arguments.events))
    if arguments.only != "rebuild":
        latency = asyncio.run(bench_latency(server_url, arguments.rate, arguments.seconds))
    if arguments.json:
        rows = [asdict(rate) | {"per_second": rate.per_second} for rate in rates]
        print(json.dumps({"rates": rows, "latency": latency}, indent=2))
        return
    print(render(rates, latency))


if __name__ == "__main__":
    main()
