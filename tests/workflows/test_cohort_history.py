"""The cohort workflow's replay fixtures: launch, approval, batches, continue-as-new, a rematch
and a late joiner, on the dev server.

With ``MENTORFLOW_RECORD_HISTORIES=1`` the runs' histories are saved (with the fixtures'
payload key) for `test_replay`, which replays them against today's code in every session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory

from activities.matching import RematchMenteeInput
from devstack.stack import StackAddresses
from domain.cohort_spec import ParticipantSpec, parse_cohort_spec
from domain.mentorship import commands as c
from eventstore import PostgresEventStore
from examples.generate_cohort import generate_cohort
from matching import assignment_violations
from tests.support import assert_eventually, create_database
from tests.workflows.scenario import RECORD_ENV, fixture_client, running_worker, save_history
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import (
    AddParticipant,
    ApproveMatches,
    CohortWorkflowInput,
    PairOverride,
)
from workflows.mentorship_client import execute_command

LATE_JOINER = {
    "id": "p-late",
    "name": "Late Joiner",
    "roles": ["mentee"],
    "seniority": 1,
    "timezone": "Europe/Berlin",
    "languages": ["en"],
    "wants_to_develop": ["python"],
}


@pytest.fixture
async def store(postgres_server_url: str) -> AsyncIterator[PostgresEventStore]:
    event_store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "cohorthistory")
    )
    yield event_store
    await event_store.close()


async def runs_of(client: Client, workflow_id: str, first_run_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow so far, following its continue-as-new chain from the first."""
    histories: list[WorkflowHistory] = []
    run_id = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return histories


async def test_a_cohort_continues_as_new_between_batches_and_rematches_in_its_next_run(
    stack: StackAddresses, store: PostgresEventStore
) -> None:
    connected = await Client.connect(stack.temporal_address)
    client = fixture_client(connected)
    now = datetime.now(UTC)
    raw = generate_cohort(24, 10, seed=21, cohort_id=f"h-{uuid.uuid4().hex[:10]}")
    raw["program"].update(
        {
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=90)).isoformat(),
            "review_cycles": [],
            "require_hr_approval": True,
        }
    )
    spec = parse_cohort_spec(raw)
    workflow_id = f"cohort-{spec.cohort_id}"

    async def cohort_state() -> dict[str, Any]:
        state: dict[str, Any] = await client.get_workflow_handle(workflow_id).query(
            CohortWorkflow.state, rpc_timeout=timedelta(seconds=30)
        )
        return state

    async with running_worker(client, store) as harness:
        handle = await client.start_workflow(
            CohortWorkflow.run,
            CohortWorkflowInput(spec=spec, batch_size=1, history_limit=200),
            id=workflow_id,
            task_queue=harness.task_queue,
        )
        harness.started.append(client.get_workflow_handle(workflow_id))
        draft = await handle.execute_update(CohortWorkflow.matching_outcome)
        harness.started.extend(
            client.get_workflow_handle(f"mentorship-{spec.cohort_id}-{pair.mentee_id}")
            for pair in draft.pairs
        )
        override = _override(spec, draft.pairs)
        approved = await handle.execute_update(
            CohortWorkflow.approve_matches, ApproveMatches(overrides=[override])
        )
        await assert_eventually(
            cohort_state,
            lambda state: state["relationships"] == len(approved.pairs),
            timeout=120,
            message="every relationship started",
        )
        first = client.get_workflow_handle(
            f"mentorship-{spec.cohort_id}-{approved.pairs[1].mentee_id}"
        )
        await execute_command(first, c.RequestRematch(reason="different track"))
        await assert_eventually(cohort_state, lambda state: state["rematches"] == 1, timeout=60)
        harness.started.append(client.get_workflow_handle(f"{first.id}-r1"))
        added = await client.get_workflow_handle(workflow_id).execute_update(
            CohortWorkflow.add_participant,
            AddParticipant(participant=ParticipantSpec.model_validate(LATE_JOINER)),
        )
        if added.stream_id:
            harness.started.append(client.get_workflow_handle(added.stream_id))
        runs = await runs_of(client, workflow_id, handle.first_execution_run_id or "")

    assert len(runs) >= 2, "the cohort continued as new while starting relationships"
    types = [e.event_type for e in await store.read_stream(workflow_id)]
    assert types[:3] == ["CohortLaunched", "MatchingCompleted", "MatchesApproved"]
    assert types.count("MentorshipsStarted") == len(approved.pairs)
    assert {"MenteeRematched", "ParticipantJoined"} <= set(types)
    if os.environ.get(RECORD_ENV) == "1":
        for name, history in (("cohort_first_run", runs[0]), ("cohort_last_run", runs[-1])):
            await save_history(history, name)
        return
    # Today's code continues as new with the spec once, in the state.
    started = runs[1].events[0].workflow_execution_started_event_attributes
    (continued,) = await client.data_converter.decode(started.input.payloads, [CohortWorkflowInput])
    assert continued.spec is None
    assert continued.state.spec.cohort_id == spec.cohort_id
    # And sends a rematch only the mentors, the mentee and their reporting line.
    (rematch,) = [
        event.activity_task_scheduled_event_attributes
        for run in runs
        for event in run.events
        if event.activity_task_scheduled_event_attributes.activity_type.name == "rematch_mentee"
    ][:1]
    (sent,) = await client.data_converter.decode(rematch.input.payloads, [RematchMenteeInput])
    assert sent.spec is None
    assert len(sent.participants) < len(spec.participants)
    assert {p.id for p in spec.mentors} <= {p.id for p in sent.participants}


def _override(spec: Any, pairs: list[Any]) -> PairOverride:
    """Another allowed mentor for one of the proposed pairs."""
    base = {pair.mentee_id: pair.mentor_id for pair in pairs}
    for mentee_id in base:
        for mentor in spec.mentors:
            proposal = {**base, mentee_id: mentor.id}
            if mentor.id != base[mentee_id] and not assignment_violations(
                spec, [(m, e) for e, m in proposal.items()]
            ):
                return PairOverride(mentor_id=mentor.id, mentee_id=mentee_id)
    raise AssertionError("no alternative mentor in the generated cohort")
