"""A cohort of relationships on an accelerated calendar while its worker is killed (-9).

One run serves both tests of this module. The cohort spec is launched from five
``mentorflow cohort launch`` processes at once; then the worker, a ``mentorflow worker``
process, is SIGKILLed at random moments (3 times in CI, 20 in the soak) and started again
each time, while the participants play their plans through workflow updates and the
calendar's timers do the rest.

Kills start once the launches have answered, i.e. after matching: a matching activity cut
off by a kill is retried only after its ten-minute timeout. A kill costs the relationships
it hits about ten seconds (their workflow tasks time out, or wait on the dead worker's sticky
queue), thirty when an append was in flight (its activity's timeout).

The cohort runs on a Temporal dev server of the module's own, in memory
(`tests.faults.servers`): the session's writes its SQLite file synchronously, which on two
cores holds 200 relationships to a few updates a second.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from mentorflow.cohorts import LaunchResult
from mentorflow.settings import Settings
from tests.faults.cohort import (
    Participants,
    Relationship,
    cohort_spec,
    launch_from_processes,
    relationship_results,
    relationships_of,
)
from tests.faults.figures import Report
from tests.faults.scale import FaultScale, fault_seed
from tests.faults.servers import own_temporal
from tests.faults.services import ServiceProcess, kill_repeatedly, worker_process
from tests.faults.verification import (
    audit_store,
    check_accepted_updates,
    check_workflow_results,
)
from tests.support import assert_eventually, create_database
from worker import connect_client
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import CohortWorkflowResult
from workflows.ids import cohort_workflow_id
from workflows.mentorship_models import MentorshipWorkflowResult

pytestmark = pytest.mark.slow


LAUNCHES = 5


@dataclass
class CohortRun:
    """What the run did and left behind."""

    cohort_id: str
    starts_at: datetime
    started_monotonic: float
    launch_seconds: float
    seed: int
    client: Client
    store: PostgresEventStore
    launches: list[LaunchResult]
    relationships: list[Relationship]
    participants: Participants
    worker: ServiceProcess
    results: dict[str, MentorshipWorkflowResult]
    cohort_result: CohortWorkflowResult


@pytest.fixture(scope="module")
async def cohort_run(
    stack: StackAddresses,
    postgres_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    scale: FaultScale,
) -> AsyncIterator[CohortRun]:
    """Launch five times at once, then play the cohort to its end through the kills."""
    directory: Path = tmp_path_factory.mktemp("worker-kills")
    temporal = own_temporal(directory / "temporal")
    await temporal.start()
    settings = Settings(
        temporal_address=temporal.address,
        task_queue=f"faults-{uuid.uuid4().hex[:10]}",
        database_url=await create_database(postgres_server_url, "faults_worker"),
        nats_url=stack.nats_url,
    )
    store = await PostgresEventStore.connect(settings.database_url, max_size=10)
    client = await connect_client(settings)
    worker = worker_process(settings, directory)
    worker.start()
    try:
        run = await _run(client, store, worker, directory, scale)
        yield run
    finally:
        worker.stop()
        await store.close()
        await temporal.stop()


async def _run(
    client: Client,
    store: PostgresEventStore,
    worker: ServiceProcess,
    directory: Path,
    scale: FaultScale,
) -> CohortRun:
    cohort_id = f"faults-{uuid.uuid4().hex[:8]}"
    starts_at, started_monotonic = datetime.now(UTC), time.monotonic()
    spec = cohort_spec(cohort_id, scale.relationships, scale.calendar, starts_at)
    launches = await launch_from_processes(spec, directory, worker.env, LAUNCHES)
    launch_seconds = time.monotonic() - started_monotonic
    relationships = relationships_of(launches[0])
    participants = Participants(client, scale.calendar, starts_at)
    seed = fault_seed()
    # Kills are spread over the program, ending a few seconds before it does.
    window = (starts_at + scale.calendar.program - datetime.now(UTC)).total_seconds() - 5
    kills = asyncio.create_task(
        kill_repeatedly(worker, scale.worker_kills, window, random.Random(seed))
    )
    await _all_started(store, cohort_id, len(relationships))
    await participants.play(relationships)
    await kills
    deadline = scale.calendar.program.total_seconds() + 300
    results = await relationship_results(client, relationships, deadline)
    cohort = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    cohort_result = await asyncio.wait_for(cohort.result(), deadline)
    worker.check_alive()
    return CohortRun(
        cohort_id=cohort_id,
        starts_at=starts_at,
        started_monotonic=started_monotonic,
        launch_seconds=launch_seconds,
        seed=seed,
        client=client,
        store=store,
        launches=launches,
        relationships=relationships,
        participants=participants,
        worker=worker,
        results=results,
        cohort_result=cohort_result,
    )


async def _all_started(store: PostgresEventStore, cohort_id: str, count: int) -> None:
    """Wait until the cohort recorded that it started every relationship."""

    async def started() -> int:
        events = await store.read_stream(f"cohort-{cohort_id}")
        return sum(
            len(e.data["stream_ids"]) for e in events if e.event_type == "MentorshipsStarted"
        )

    await assert_eventually(started, lambda n: n >= count, timeout=300, interval=0.5)


async def _workflow_ids(client: Client, cohort_id: str) -> list[str]:
    query = f'MentorflowCohortId = "{cohort_id}"'
    return [execution.id async for execution in client.list_workflows(query)]


async def _retries_after_kills(run: CohortRun) -> tuple[int, int]:
    """Activities that ran again, and workflow tasks that timed out (the kills' traces)."""
    retried = timed_out = 0
    ids = [cohort_workflow_id(run.cohort_id), *(r.stream_id for r in run.relationships)]
    for workflow_id in ids:
        history = await run.client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                retried += event.activity_task_started_event_attributes.attempt > 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                timed_out += 1
    return retried, timed_out


async def test_a_cohort_launched_five_times_at_once_starts_one_set_of_workflows(
    cohort_run: CohortRun, report: Report
) -> None:
    figures = report(f"{LAUNCHES} concurrent launches, {cohort_run.worker.kills} worker kill -9")
    run = cohort_run
    figures.seconds = run.launch_seconds
    expected = {
        cohort_workflow_id(run.cohort_id),
        *(relationship.stream_id for relationship in run.relationships),
    }

    ids = await assert_eventually(
        lambda: _workflow_ids(run.client, run.cohort_id),
        lambda found: set(found) == expected,
        timeout=60,
        interval=0.5,
        message="the cohort's workflows are visible",
    )

    launched = [launch for launch in run.launches if not launch.already_launched]
    assert len(launched) == 1
    outcomes = {json.dumps(launch.outcome.model_dump(mode="json")) for launch in run.launches}
    assert len(outcomes) == 1, "every launch answers with the one matching"
    assert len(run.relationships) == len(run.launches[0].outcome.pairs)
    relationship_runs = [i for i in ids if i != cohort_workflow_id(run.cohort_id)]
    duplicated = len(relationship_runs) - len(set(relationship_runs))
    assert duplicated == 0, "a relationship ran twice"
    cohort_stream = await run.store.read_stream(f"cohort-{run.cohort_id}")
    launched_events = [e for e in cohort_stream if e.event_type == "CohortLaunched"]
    assert len(launched_events) == 1
    figures.events_checked = len(cohort_stream)
    figures.duplicated = duplicated + len(launched_events) - 1
    figures.notes = {
        "launches": LAUNCHES,
        "launched": len(launched),
        "workflows": len(set(ids)),
        "relationships": len(run.relationships),
    }


async def test_every_relationship_survives_worker_kills_with_every_event_once(
    cohort_run: CohortRun, report: Report, scale: FaultScale
) -> None:
    run = cohort_run
    figures = report(f"{run.worker.kills} worker kill -9")
    expected_streams = [f"cohort-{run.cohort_id}", *(r.stream_id for r in run.relationships)]
    expected_reasons = run.participants.expected_reasons(run.relationships)

    audit = await audit_store(run.store, expected_streams)
    check_accepted_updates(audit, run.participants.accepted)
    check_workflow_results(audit, run.results, expected_reasons)
    started = time.monotonic()
    retried, timed_out = await _retries_after_kills(run)

    figures.events_checked = audit.events
    figures.lost = audit.lost
    figures.duplicated = audit.duplicated
    figures.seconds = time.monotonic() - run.started_monotonic  # the run is the fixture's
    figures.notes = {
        "seed": run.seed,
        "kills at s": [round(at - run.started_monotonic) for at in run.worker.killed_at],
        "relationships closed": sum(
            audit.streams[s][-1].event_type == "MentorshipClosed" for s in expected_reasons
        ),
        "updates accepted": len(run.participants.accepted),
        "updates rejected (too late)": sum(map(len, run.participants.rejected.values())),
        "rejections": dict(run.participants.rejections.most_common(3)),
        "last update accepted at s": max(
            ((a.at - run.starts_at).total_seconds() for a in run.participants.accepted), default=0
        ),
        "update calls retried": run.participants.transport_retries,
        "activities retried": retried,
        "workflow tasks timed out": timed_out,
        "history scan s": round(time.monotonic() - started, 1),
    }
    assert run.worker.kills == scale.worker_kills
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    assert run.cohort_result.relationships == len(run.relationships)
