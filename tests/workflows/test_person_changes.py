"""The leaver and mover flows on real servers: the Temporal dev server, PostgreSQL, a worker
and the people reactor tailing the store, driven only by directory facts.

* A mentor deactivated during an active cohort has their relationship paused at once; back
  within the grace period, it resumes.
* A mentor who stays away past the grace period: the relationship closes with
  ``mentor_left`` and the mentee is matched again with their goal carried over.
* A manager change that puts a mentor in their mentee's reporting line is flagged with a
  proposed rematch, and nothing changes for the pair.
* The reactor signalling everything again records nothing twice, and the workflow's history
  replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.worker import Replayer

from devstack.stack import StackAddresses
from domain.cohort_spec import parse_cohort_spec
from domain.mentorship import commands as c
from domain.person import DesiredPerson
from events.person import PersonProfile
from eventstore import PostgresEventStore
from mentorflow.cohorts import launch_cohort
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.directory.reactor import NAME, PeopleReactor, run_people_reactor
from mentorflow.telemetry import temporal_interceptors
from projections import SCHEMA, migrate_read_models
from projections.people import People
from projections.runner import ProjectionRunner, RunnerOptions
from tests.support import assert_eventually, create_database, open_vault
from tests.workflows.scenario import fixture_client, save_history
from worker import WORKFLOWS, build_worker
from workflows.ids import person_changes_workflow_id
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command

TIMEOUT = 90


@dataclass
class Flow:
    """What the tests drive: the directory, the cohort launcher and the store."""

    client: Client
    store: PostgresEventStore
    directory: PeopleDirectory
    task_queue: str


@pytest.fixture(scope="module")
async def flow(stack: StackAddresses, postgres_server_url: str) -> AsyncIterator[Flow]:
    database_url = await create_database(postgres_server_url, "leavers")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    await migrate_directory(store.pool)
    vault = await open_vault(store.pool)
    # The fixtures' payload key: the runs' histories are this flow's replay fixtures.
    client = fixture_client(
        await Client.connect(stack.temporal_address, interceptors=temporal_interceptors())
    )
    task_queue = f"leavers-{uuid.uuid4().hex[:8]}"
    stop = asyncio.Event()
    options = RunnerOptions(poll_interval=0.2, retry_initial=0.1, retry_maximum=1.0)
    async with build_worker(client, store, task_queue, vault):
        reactor = asyncio.create_task(
            run_people_reactor(store, database_url, client, task_queue, stop, options=options)
        )
        try:
            yield Flow(client, store, PeopleDirectory(store.pool, vault), task_queue)
        finally:
            stop.set()
            await asyncio.wait_for(reactor, timeout=30)
            query = f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"'
            async for execution in client.list_workflows(query):
                with contextlib.suppress(RPCError):
                    await client.get_workflow_handle(execution.id).terminate("tests finished")
    await store.close()


def _ids() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {name: f"{name}-{suffix}" for name in ("ma", "mb", "mc", "ea", "eb", "mgr")}


def _spec(cohort_id: str, ids: dict[str, str], grace: str) -> Any:
    now = datetime.now(UTC)

    def person(key: str, roles: list[str], seniority: int, **more: object) -> dict[str, object]:
        return {
            "id": ids[key],
            "name": key.upper(),
            "roles": roles,
            "seniority": seniority,
            "timezone": "Europe/Berlin",
            "languages": ["en"],
            **more,
        }

    return parse_cohort_spec(
        {
            "cohort_id": cohort_id,
            "program": {
                "name": "Leavers",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(days=120)).isoformat(),
                "leaver_grace_period": grace,
                "default_mentor_capacity": 1,
            },
            "participants": [
                person("ma", ["mentor"], 8, skills={"python": 5}),
                person("mb", ["mentor"], 8, skills={"go": 5}),
                person("mc", ["mentor"], 7, skills={"rust": 5}),
                person("ea", ["mentee"], 2, wants_to_develop=["python"]),
                person("eb", ["mentee"], 2, wants_to_develop=["go"]),
            ],
        }
    )


async def _profile(flow: Flow, person_id: str, manager_id: str | None = None) -> None:
    profile = PersonProfile(
        name=person_id.upper(), timezone="Europe/Berlin", languages=["en"], manager_id=manager_id
    )
    await flow.directory.apply(person_id, DesiredPerson(profile), source="scim")


async def _set_active(flow: Flow, person_id: str, *, active: bool) -> None:
    state = await flow.directory.get(person_id)
    assert state is not None
    assert state.profile is not None
    desired = DesiredPerson(state.profile, active=active)
    await flow.directory.apply(person_id, desired, source="scim")


async def _launch(flow: Flow, grace: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A cohort whose mentees each have a running relationship; their mentors by mentee."""
    ids = _ids()
    cohort_id = f"lv-{uuid.uuid4().hex[:8]}"
    for key in ("ma", "mb", "mc", "ea", "eb"):
        await _profile(flow, ids[key])
    result = await launch_cohort(flow.client, _spec(cohort_id, ids, grace), flow.task_queue)
    mentors = {pair.mentee_id: pair.mentor_id for pair in result.outcome.pairs}
    assert set(mentors) == {ids["ea"], ids["eb"]}
    for mentee_id in mentors:
        await _stage(flow, f"mentorship-{cohort_id}-{mentee_id}", "onboarding")
    return cohort_id, ids, mentors


async def _stage(flow: Flow, workflow_id: str, stage: str) -> None:
    handle = flow.client.get_workflow_handle_for(MentorshipWorkflow.run, workflow_id)

    async def current() -> str | None:
        try:
            return (await handle.query(MentorshipWorkflow.state)).stage.value
        except RPCError:
            return None  # not started yet

    await assert_eventually(
        current,
        lambda current_stage: current_stage == stage,
        timeout=TIMEOUT,
        message=f"{workflow_id} never reached {stage}",
    )


async def _person_events(flow: Flow, person_id: str) -> list[Any]:
    return await flow.store.read_stream(f"person-{person_id}")


async def _wait_for(flow: Flow, person_id: str, event_type: str, count: int = 1) -> list[Any]:
    events = await assert_eventually(
        lambda: _person_events(flow, person_id),
        lambda events: sum(e.event_type == event_type for e in events) >= count,
        timeout=TIMEOUT,
        message=f"no {event_type} on person-{person_id}",
    )
    return [e for e in events if e.event_type == event_type]


async def test_a_mentor_who_leaves_and_comes_back_within_the_grace_period_resumes(
    flow: Flow,
) -> None:
    cohort_id, ids, mentors = await _launch(flow, "P7D")
    mentee_id = ids["ea"]
    mentor_id = mentors[mentee_id]
    relationship = f"mentorship-{cohort_id}-{mentee_id}"

    await _set_active(flow, mentor_id, active=False)

    started_event = (await _wait_for(flow, mentor_id, "DepartureStarted"))[0]
    started = started_event.data
    await _stage(flow, relationship, "paused")
    # The flow continues the deactivation's chain, caused by it; so does the pause it sent.
    [deactivated] = [
        e for e in await _person_events(flow, mentor_id) if e.event_type == "PersonDeactivated"
    ]
    [pause] = [
        e for e in await flow.store.read_stream(relationship) if e.event_type == "MentorshipPaused"
    ]
    assert started_event.correlation_id == deactivated.correlation_id
    assert started_event.causation_id == str(deactivated.event_id)
    assert pause.correlation_id == deactivated.correlation_id
    assert pause.causation_id == f"{deactivated.event_id}/pause"  # the command it sent
    other = next(m for m in mentors if m != mentee_id)
    await _stage(flow, f"mentorship-{cohort_id}-{other}", "onboarding")  # not theirs
    [held] = started["relationships"]
    assert (held["stream_id"], held["side"], held["other_id"]) == (
        relationship,
        "mentor",
        mentee_id,
    )
    assert held["paused"] is True
    deactivated_at = datetime.fromisoformat(started["deactivated_at"])
    assert datetime.fromisoformat(held["resume_by"]) - deactivated_at == timedelta(days=7)

    await _set_active(flow, mentor_id, active=True)

    concluded = (await _wait_for(flow, mentor_id, "DepartureConcluded"))[0].data
    assert concluded["outcome"] == "returned"
    assert concluded["relationships"] == [
        {"stream_id": relationship, "cohort_id": cohort_id, "outcome": "resumed"}
    ]
    await _stage(flow, relationship, "onboarding")
    await _save(flow, mentor_id, "person_changes_returned")
    # The cohort heard they were away (no rematch chose them meanwhile), then back.
    history = await flow.client.get_workflow_handle(f"cohort-{cohort_id}").fetch_history()
    signals = [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals.count("participant_departure") == 2
    types = [e.event_type for e in await flow.store.read_stream(relationship)]
    assert (types.count("MentorshipPaused"), types.count("MentorshipResumed")) == (1, 1)


async def test_a_mentor_who_stays_away_closes_with_mentor_left_and_the_mentee_is_rematched(
    flow: Flow,
) -> None:
    cohort_id, ids, mentors = await _launch(flow, "PT3S")
    mentee_id = ids["eb"]
    mentor_id = mentors[mentee_id]
    relationship = f"mentorship-{cohort_id}-{mentee_id}"
    handle = flow.client.get_workflow_handle(relationship)
    await execute_command(
        handle,
        c.AddGoal(horizon="short", description="Ship a Go service", motivation="Own a service"),
    )

    await _set_active(flow, mentor_id, active=False)

    concluded = (await _wait_for(flow, mentor_id, "DepartureConcluded"))[0].data
    assert concluded["outcome"] == "left"
    assert concluded["relationships"] == [
        {"stream_id": relationship, "cohort_id": cohort_id, "outcome": "rematch_requested"}
    ]
    closing = await flow.store.read_stream(relationship)
    closure = next(e for e in closing if e.event_type == "ClosureStarted")
    assert closure.data["reason"] == "mentor_left"
    rematched = f"{relationship}-r1"
    await _stage(flow, rematched, "onboarding")
    new = await flow.client.get_workflow_handle_for(MentorshipWorkflow.run, rematched).query(
        MentorshipWorkflow.state
    )
    assert new.mentor_id not in (mentor_id, "")
    assert [goal.description for goal in new.goals.values()] == ["Ship a Go service"]
    await _save(flow, mentor_id, "person_changes_left")


async def test_a_manager_change_putting_the_mentor_above_the_mentee_is_flagged_not_applied(
    flow: Flow,
) -> None:
    cohort_id, ids, mentors = await _launch(flow, "P7D")
    mentee_id = ids["ea"]
    mentor_id = mentors[mentee_id]
    relationship = f"mentorship-{cohort_id}-{mentee_id}"
    # The mentee's new manager reports to their mentor: the mentor is now up their line.
    await _profile(flow, ids["mgr"], manager_id=mentor_id)
    await ProjectionRunner(People(), flow.store).catch_up()  # reports come from the read model
    state = await flow.directory.get(mentee_id)
    assert state is not None
    assert state.profile is not None
    changed = state.profile.model_copy(update={"manager_id": ids["mgr"]})

    await flow.directory.apply(mentee_id, DesiredPerson(changed), source="scim")

    [conflict] = await _wait_for(flow, mentee_id, "ReportingLineConflictFound")
    assert conflict.data["stream_id"] == relationship
    assert conflict.data["reporting_line"] == [ids["mgr"], mentor_id]
    assert (conflict.data["mentor_id"], conflict.data["mentee_id"]) == (mentor_id, mentee_id)
    assert conflict.data["proposed_mentor_id"] not in (None, mentor_id)
    await _stage(flow, relationship, "onboarding")  # nothing applied
    await _wait_finished(flow, mentee_id)


async def _save(flow: Flow, person_id: str, name: str) -> None:
    """The finished run's history as a replay fixture (with MENTORFLOW_RECORD_HISTORIES=1)."""
    await _wait_finished(flow, person_id)
    handle = flow.client.get_workflow_handle(person_changes_workflow_id(person_id))
    await save_history(await handle.fetch_history(), name)


async def _wait_finished(flow: Flow, person_id: str) -> None:
    handle = flow.client.get_workflow_handle(person_changes_workflow_id(person_id))
    await assert_eventually(
        handle.describe,
        lambda description: description.status == WorkflowExecutionStatus.COMPLETED,
        timeout=TIMEOUT,
    )


async def test_signalling_everything_again_records_nothing_twice_and_the_history_replays(
    flow: Flow,
) -> None:
    cohort_id, ids, mentors = await _launch(flow, "P7D")
    mentor_id = mentors[ids["ea"]]
    await _set_active(flow, mentor_id, active=False)
    await _wait_for(flow, mentor_id, "DepartureStarted")
    await _set_active(flow, mentor_id, active=True)
    await _wait_for(flow, mentor_id, "DepartureConcluded")
    await _wait_finished(flow, mentor_id)
    before = await _all_person_events(flow)
    history = await flow.client.get_workflow_handle(
        person_changes_workflow_id(mentor_id)
    ).fetch_history()

    # A reactor starts over from the beginning of the store: every trigger again.
    await flow.store.pool.execute(
        f"UPDATE {SCHEMA}.positions SET transaction_id = 0, global_position = 0 "
        "WHERE projection = $1",
        NAME,
    )
    again = PeopleReactor(flow.store, flow.client, flow.task_queue)
    assert await again.catch_up() >= len(before)
    await _wait_finished(flow, mentor_id)

    assert await _all_person_events(flow) == before
    relationship = f"mentorship-{cohort_id}-{ids['ea']}"
    pauses = [
        e for e in await flow.store.read_stream(relationship) if e.event_type == "MentorshipPaused"
    ]
    assert len(pauses) == 1
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=flow.client.data_converter)
    await replayer.replay_workflow(history)


async def _all_person_events(flow: Flow) -> list[Any]:
    rows = await flow.store.pool.fetch(
        "SELECT global_position FROM eventstore.events WHERE stream_id LIKE 'person-%' "
        "ORDER BY global_position"
    )
    return [row["global_position"] for row in rows]
