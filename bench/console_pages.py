"""Console pages under a 1,000-pair cohort: server time next to the raw read-model query.

Run ``python -m bench.console_pages [--database-url URL] [--pairs N] [--requests R]
[--json]`` against a running PostgreSQL (``mentorflow stack up``); it uses a fresh database
of its own.

A cohort of ``--pairs`` relationships (the projections benchmark's realistic streams, cut
at random points so that every stage, open and overdue items, misses and surveys occur) is
copied into the event store and the read models are rebuilt from it. Then the API app, with
its console, serves requests in process (httpx's ASGI transport: routing, middleware, the
session lookup, the queries and the templates; no socket), signed in as HR, and each page is
timed ``--requests`` times after a warm-up. The baseline is the same run's raw read-model
query of the cohort's pair rows (``SELECT * FROM read_models.dashboard_pairs WHERE
cohort_id = $1``) on the same pool.

The matching and relationship pages read the cohort and mentorship workflows (Temporal
queries), which a benchmark cannot seed with 1,000 pairs in reasonable time; a stand-in
client answers those queries at once with a 1,000-pair matching and a relationship's real
state (folded from its events with the domain's ``evolve``). Their figures are therefore the
console's own server time without Temporal's query round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.eventstore_bench import fresh_database, progress
from bench.projections_workload import Streams, copy_into_store, relationship
from domain.mentorship.state import MentorshipState, replay
from domain.mentorship.terms import ProgramTerms
from events import DomainEvent
from events import cohort as k
from events import mentorship as m
from events.cohort import Pair, ScoreBreakdown, Unmatched
from eventstore import PostgresEventStore
from mentorflow.api.app import create_app
from mentorflow.api.codec_sessions import migrate_api_schema
from mentorflow.api.tokens import Role
from mentorflow.console.sessions import ConsoleSessionStore
from mentorflow.logging import configure_logging
from mentorflow.settings import LogFormat, Settings, load_settings
from projections import migrate_read_models, rebuild_projections
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import (
    MatchingOutcome,
    ParticipantCard,
    ParticipantCardsInput,
    ParticipantCardsResult,
)
from workflows.mentorship_models import MentorshipSnapshot

COHORT = "bench-console"
TARGET_P95_MS = 100.0
START = datetime(2027, 1, 11, 9, tzinfo=UTC)
BASE_URL = "http://console"


@dataclass
class Timing:
    """Server time of one page (or the baseline query), in milliseconds."""

    name: str
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def _with_misses(rng: random.Random, events: list[DomainEvent]) -> list[DomainEvent]:
    """The relationship cut at a random point, sometimes with missed conversations and
    overdue items at the cut: every stage and every risk occurs somewhere."""
    cut = rng.randrange(3, len(events) + 1)
    kept = events[:cut]
    if rng.random() < 0.15 and any(isinstance(event, m.OnboardingCompleted) for event in kept):
        due = START + timedelta(days=rng.randrange(14, 200))
        for number in (1, 2):
            kept.append(
                m.ConversationMissed(
                    conversation_number=100 + number,
                    due_at=due + timedelta(days=14 * number),
                    consecutive_misses=number,
                    next_conversation_due=due + timedelta(days=14 * (number + 1)),
                )
            )
        kept.append(m.MentorshipEscalated(consecutive_misses=2, reason="two missed"))
    return kept


def _occurred_at(stream_index: int, version: int) -> datetime:
    """Relationships start over the cohort's first weeks, an event every three days: the
    stage-over-time chart has months of weeks to draw."""
    return START + timedelta(hours=stream_index, days=3 * version)


def cohort_streams(pairs: int, seed: int = 13) -> Streams:
    """One cohort stream and ``pairs`` relationship streams."""
    rng = random.Random(seed)
    launched = k.CohortLaunched(
        cohort_id=COHORT,
        program_name="Bench cohort",
        participant_count=2 * pairs,
        starts_at=START,
        ends_at=START + timedelta(days=365),
    )
    streams: Streams = [(f"cohort-{COHORT}", [launched])]
    for index in range(pairs):
        events = _with_misses(rng, relationship(rng, COHORT, index))
        streams.append((f"mentorship-{COHORT}-p-{1000 + index}", events))
    return streams


def matching_outcome(streams: Streams) -> MatchingOutcome:
    """A final matching with every relationship of the cohort, with breakdowns."""
    pairs: list[Pair] = []
    breakdowns: dict[str, ScoreBreakdown] = {}
    for _, events in streams[1:]:
        matched = events[0]
        assert isinstance(matched, m.MentorshipMatched)
        pairs.append(
            Pair(
                mentor_id=matched.mentor_id,
                mentee_id=matched.mentee_id,
                score=matched.match_score,
                reasons=["shares 2 skills to develop", "same time zone"],
            )
        )
        breakdowns[matched.mentee_id] = ScoreBreakdown(
            skills=0.8, objectives=0.7, personality=0.6, logistics=0.9
        )
    unmatched = [Unmatched(mentee_id="p-9999", reason_code="capacity", reason="no mentor free")]
    return MatchingOutcome(
        cohort_id=COHORT,
        awaiting_approval=False,
        pairs=pairs,
        unmatched=unmatched,
        total_score=sum(pair.score for pair in pairs),
        breakdowns=breakdowns,
    )


def snapshot_of(stream_id: str, events: list[DomainEvent]) -> MentorshipSnapshot:
    """A relationship's live state as its workflow's ``state`` query answers it."""
    matched = events[0]
    assert isinstance(matched, m.MentorshipMatched)
    terms = ProgramTerms(
        cohort_id=COHORT,
        program_name="Bench cohort",
        starts_at=START,
        ends_at=START + timedelta(days=365),
        conversation_cadence=timedelta(days=14),
        grace_period=timedelta(days=3),
        onboarding_window=timedelta(days=21),
        escalate_after_missed=2,
        training_modules=["a", "b"],
        review_cycles=[],
    )
    state = replay(
        MentorshipState(
            stream_id=stream_id,
            mentor_id=matched.mentor_id,
            mentee_id=matched.mentee_id,
            terms=terms,
        ),
        events,
    )
    return MentorshipSnapshot.model_validate(state.model_dump())


class _Handle:
    def __init__(self, answer: object) -> None:
        self._answer = answer

    async def query(self, query: object, *args: object, **_kwargs: object) -> object:
        if query is CohortWorkflow.participant_cards:  # the relationship page's names
            (asked,) = args
            assert isinstance(asked, ParticipantCardsInput)
            return ParticipantCardsResult(
                cards={
                    person_id: ParticipantCard(
                        person_id=person_id,
                        name=f"Person {person_id}",
                        timezone="Europe/Berlin",
                        languages=["en"],
                    )
                    for person_id in asked.person_ids
                }
            )
        return self._answer


class StandInClient:
    """Answers the console's workflow queries at once (see the module's docstring)."""

    def __init__(self, matching: MatchingOutcome, snapshot: MentorshipSnapshot) -> None:
        self._matching = matching
        self._snapshot = snapshot

    def get_workflow_handle_for(self, _run: object, workflow_id: str) -> _Handle:
        """The cohort's matching, or the one relationship's state, whatever the id."""
        if workflow_id.startswith("cohort-"):
            return _Handle(self._matching)
        return _Handle(self._snapshot)


Call = Callable[[], Awaitable[object]]


async def _time(calls: dict[str, Call], requests: int) -> list[Timing]:
    """Time each call ``requests`` times, in rounds of one call each: a burst of load from
    elsewhere on the machine falls on every page alike, not on whichever ran then."""
    for call in calls.values():  # warm-up: caches, prepared statements, templates
        for _ in range(min(20, requests)):
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(requests):
        for name, call in calls.items():
            started = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - started) * 1000)
    timings: list[Timing] = []
    for name, values in samples.items():
        values.sort()
        timings.append(
            Timing(
                name,
                requests,
                round(statistics.median(values), 2),
                round(values[max(0, int(len(values) * 0.95) - 1)], 2),
                round(values[-1], 2),
            )
        )
    return timings


async def _signed_in(http: httpx.AsyncClient, store: PostgresEventStore) -> None:
    token = await ConsoleSessionStore(store.pool).create_link(Role.HR_ADMIN, None)
    response = await http.post("/sign-in", data={"token": token, "time_zone": "Europe/Berlin"})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def _page(http: httpx.AsyncClient, path: str, marker: str) -> Call:
    async def get() -> object:
        response = await http.get(path)
        if response.status_code != 200 or marker not in response.text:
            raise RuntimeError(f"{path}: {response.status_code}")
        return response

    return get


async def bench(server_url: str, pairs: int, requests: int) -> list[Timing]:
    """Seed the cohort, serve the console in process, time the pages and the baseline."""
    async with fresh_database(server_url, "console") as url:
        store = await PostgresEventStore.connect(url, max_size=10)
        try:
            await migrate_read_models(store.pool)
            await migrate_api_schema(store.pool)
            progress(f"seeding a cohort of {pairs:,} pairs")
            streams = cohort_streams(pairs)
            await copy_into_store(url, streams, _occurred_at)
            await rebuild_projections(store)
            counted = await store.pool.fetchval(
                "SELECT count(*) FROM read_models.dashboard_pairs WHERE cohort_id = $1", COHORT
            )
            if counted != pairs:
                raise RuntimeError(f"{counted} pairs in the read models, expected {pairs}")
            longest_id, longest = max(streams[1:], key=lambda stream: len(stream[1]))
            client = StandInClient(matching_outcome(streams), snapshot_of(longest_id, longest))
            with tempfile.TemporaryDirectory() as directory:
                settings = Settings(
                    database_url=url, api_tokens_file=Path(directory) / "tokens.json"
                )
                app = create_app(settings, client=client, pool=store.pool)  # type: ignore[arg-type]
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                    await _signed_in(http, store)
                    base = f"/hr/cohorts/{COHORT}"

                    async def raw() -> object:
                        return await store.pool.fetch(
                            "SELECT * FROM read_models.dashboard_pairs WHERE cohort_id = $1",
                            COHORT,
                        )

                    progress(f"timing each page {requests} times")
                    return await _time(
                        {
                            "baseline: raw read-model query": raw,
                            "dashboard": _page(http, f"{base}/dashboard", "Pairs by stage"),
                            "at risk": _page(http, f"{base}/at-risk", "at risk"),
                            "dashboard CSV": _page(http, f"{base}/dashboard.csv", "Key figures"),
                            "matching (stand-in Temporal)": _page(
                                http, f"{base}/matching", "Pairs"
                            ),
                            "relationship (stand-in Temporal)": _page(
                                http, f"/relationships/{longest_id}", "Where it stands"
                            ),
                        },
                        requests,
                    )
        finally:
            await store.close()


def render(timings: Sequence[Timing], pairs: int) -> str:
    """The report as a table."""
    lines = [
        f"Console pages, a cohort of {pairs:,} pairs (server time in process, ms; "
        f"target p95 < {TARGET_P95_MS:.0f}); load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores",
        f"{'page':<36} {'requests':>8} {'p50':>8} {'p95':>8} {'max':>8}",
    ]
    for timing in timings:
        lines.append(
            f"{timing.name:<36} {timing.requests:>8} {timing.p50_ms:>8.2f} "
            f"{timing.p95_ms:>8.2f} {timing.max_ms:>8.2f}"
        )
    pages = [timing for timing in timings if not timing.name.startswith("baseline")]
    worst = max(pages, key=lambda timing: timing.p95_ms)
    verdict = "met" if worst.p95_ms < TARGET_P95_MS else "MISSED"
    lines.append(f"target {verdict}: the slowest p95 is {worst.p95_ms:.2f} ms ({worst.name})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.console_pages")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: settings)")
    parser.add_argument("--pairs", type=int, default=1000, help="relationships in the cohort")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    arguments = parser.parse_args(argv)
    configure_logging(LogFormat.CONSOLE, "WARNING")  # no line per request
    server_url = arguments.database_url or load_settings().database_url
    timings = asyncio.run(bench(server_url, arguments.pairs, arguments.requests))
    if arguments.json:
        print(json.dumps([asdict(timing) for timing in timings], indent=2))
        return
    print(render(timings, arguments.pairs))


if __name__ == "__main__":
    main()
