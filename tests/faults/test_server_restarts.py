"""PostgreSQL crashes and NATS dies mid-run; everything retries, recovers and loses nothing.

The test runs a PostgreSQL and a NATS of its own (the session's serve other tests) and the
services as processes: ``mentorflow worker`` (on the session's Temporal dev server), the relay
and the projector. While a cohort plays on an accelerated calendar, PostgreSQL is crashed
(an immediate shutdown: open transactions lost, every connection broken, crash recovery at
restart) and NATS is killed (-9, its JetStream store kept), each down for a few seconds, at
random moments. Activities retry their appends, the relay and the projector wait and go on.
Afterwards every relationship has closed with intact streams, the bus holds every stored
event once, and the read models equal a rebuild.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack.stack import StackAddresses
from domain.cohort_spec import CohortSpec
from eventstore import PostgresEventStore
from mentorflow.cohorts import launch_cohort
from mentorflow.settings import Settings
from projections import migrate_read_models
from tests.bus.support import NatsProcess
from tests.faults.cohort import (
    Participants,
    cohort_spec,
    relationship_results,
    relationships_of,
)
from tests.faults.figures import Report
from tests.faults.pipeline import bus_and_read_models_match_the_store, isolated_bus
from tests.faults.scale import FaultScale, fault_seed
from tests.faults.servers import OwnServer, own_postgres
from tests.faults.services import projector_process, relay_process, worker_process
from tests.faults.verification import audit_store, check_accepted_updates, check_workflow_results
from worker import connect_client
from workflows.cohort import CohortWorkflow
from workflows.ids import cohort_workflow_id

pytestmark = pytest.mark.slow


OUTAGE_SECONDS = (1.0, 4.0)


async def _outages(
    postgres: OwnServer, nats: NatsProcess, rounds: int, seconds: float, rng: random.Random
) -> list[str]:
    """Crash PostgreSQL and kill NATS ``rounds`` times each within ``seconds``; a log."""
    started = time.monotonic()
    slot = seconds / (2 * rounds)
    log: list[str] = []
    for outage in range(2 * rounds):
        moment = started + slot * (outage + rng.uniform(0.1, 0.6))
        await asyncio.sleep(max(moment - time.monotonic(), 0.0))
        down = rng.uniform(*OUTAGE_SECONDS)
        at = round(time.monotonic() - started)
        if outage % 2 == 0:
            await postgres.crash(signal.SIGQUIT)
            await asyncio.sleep(down)
            await postgres.start()
            log.append(f"postgres@{at}s/{down:.1f}s")
        else:
            nats.kill()
            await asyncio.sleep(down)
            await nats.start()
            log.append(f"nats@{at}s/{down:.1f}s")
    return log


async def test_postgres_and_nats_restarted_mid_run_lose_nothing(
    stack: StackAddresses, tmp_path: Path, scale: FaultScale, report: Report
) -> None:
    figures = report(f"{scale.restart_rounds} PostgreSQL crash + {scale.restart_rounds} NATS kill")
    postgres = own_postgres(tmp_path / "postgres")
    nats = NatsProcess(tmp_path / "jetstream")
    await postgres.start()
    await nats.start()
    settings = Settings(
        temporal_address=stack.temporal_address,
        task_queue=f"faults-{uuid.uuid4().hex[:10]}",
        database_url=postgres.address,
        nats_url=nats.url,
    )
    store = await PostgresEventStore.connect(settings.database_url, max_size=5)
    await migrate_read_models(store.pool)
    bus = isolated_bus(nats.url)
    services = [
        worker_process(settings, tmp_path),
        relay_process(settings.database_url, bus, tmp_path),
        projector_process(settings.database_url, tmp_path),
    ]
    seed = fault_seed()
    try:
        for service in services:
            service.start()
        client = await connect_client(settings)
        starts_at = datetime.now(UTC)
        calendar = scale.restart_calendar
        spec = cohort_spec(
            f"faults-{uuid.uuid4().hex[:8]}", scale.restart_relationships, calendar, starts_at
        )
        launch = await launch_cohort(client, CohortSpec.model_validate(spec), settings.task_queue)
        relationships = relationships_of(launch)
        participants = Participants(client, calendar, starts_at)
        window = (starts_at + calendar.program - datetime.now(UTC)).total_seconds()
        _, outages = await asyncio.gather(
            participants.play(relationships),
            _outages(postgres, nats, scale.restart_rounds, window, random.Random(seed)),
        )
        deadline = calendar.program.total_seconds() + 300
        results = await relationship_results(client, relationships, deadline)
        # The cohort records its close after its relationships': the read models are
        # compared once nothing appends any more.
        cohort = client.get_workflow_handle_for(
            CohortWorkflow.run, cohort_workflow_id(launch.cohort_id)
        )
        await asyncio.wait_for(cohort.result(), deadline)
        audit = await audit_store(
            store, [f"cohort-{launch.cohort_id}", *(r.stream_id for r in relationships)]
        )
        check_accepted_updates(audit, participants.accepted)
        check_workflow_results(audit, results, participants.expected_reasons(relationships))
        events, bus_lost, bus_duplicated, differing = await bus_and_read_models_match_the_store(
            store, bus, services[1:], timeout=300
        )
    finally:
        for service in services:
            service.stop()
        await store.close()
        nats.kill()
        await postgres.stop()

    figures.events_checked = audit.events + events
    figures.lost = audit.lost + bus_lost
    figures.duplicated = audit.duplicated + bus_duplicated
    figures.notes = {
        "seed": seed,
        "outages": outages,
        "relationships closed": len(results),
        "updates accepted": len(participants.accepted),
        "updates rejected (too late)": sum(map(len, participants.rejected.values())),
        "read models equal to a rebuild": not differing,
    }
    assert audit.problems == []
    assert (figures.lost, figures.duplicated) == (0, 0)
    assert not differing, f"live and rebuilt read models differ in {differing}"
