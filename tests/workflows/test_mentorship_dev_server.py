"""The mentorship workflow on the real Temporal dev server and PostgreSQL.

The worker runs as a separate process (``mentorflow worker``) and is killed with SIGKILL
while an update is in flight; a second worker takes over. The event stream must come out
complete: contiguous versions, no duplicates, every fact once. Search attributes are checked
through a visibility query, which the time-skipping server cannot answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from devstack.stack import StackAddresses
from domain.mentorship import commands as c
from eventstore import PostgresEventStore
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.support import assert_eventually, create_database
from tests.workflows.scenario import MENTEE, MENTOR, onboard, program_terms
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import MentorshipWorkflowInput


@pytest.fixture(scope="module")
async def dev_client(stack: StackAddresses) -> Client:
    return await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )


@pytest.fixture(scope="module")
async def store_url(postgres_server_url: str) -> str:
    return await create_database(postgres_server_url, "devserver")


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[PostgresEventStore]:
    event_store = await PostgresEventStore.connect(store_url)
    yield event_store
    await event_store.close()


class WorkerProcesses:
    """``mentorflow worker`` processes on one task queue."""

    def __init__(self, stack: StackAddresses, database_url: str, state_dir: Path) -> None:
        self.task_queue = f"dev-{uuid.uuid4().hex[:10]}"
        self.environment = {
            **os.environ,
            "MENTORFLOW_STATE_DIR": str(state_dir),
            "MENTORFLOW_TEMPORAL_ADDRESS": stack.temporal_address,
            "MENTORFLOW_DATABASE_URL": database_url,
            "MENTORFLOW_TASK_QUEUE": self.task_queue,
            "MENTORFLOW_LOG_FORMAT": "json",
        }
        self.log_path = state_dir / "worker.log"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "mentorflow.cli.app", "worker"],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def workers(stack: StackAddresses, store_url: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(stack, store_url, tmp_path)
    yield processes
    processes.stop_all()


async def _visible(client: Client, query: str) -> int:
    return len([execution async for execution in client.list_workflows(query)])


async def test_a_relationship_survives_a_killed_worker_with_a_complete_event_stream(
    dev_client: Client, store: PostgresEventStore, workers: WorkerProcesses
) -> None:
    first_worker = workers.start()
    begin = _now()
    terms = program_terms(
        begin,
        ends_at=begin + timedelta(hours=1),
        conversation_cadence=timedelta(minutes=10),
        grace_period=timedelta(minutes=5),
        onboarding_window=timedelta(minutes=30),
        review_cycles=[],
    )
    workflow_id = f"mentorship-{terms.cohort_id}-{MENTEE}"
    handle = await dev_client.start_workflow(
        MentorshipWorkflow.run,
        MentorshipWorkflowInput(
            cohort_id=terms.cohort_id, mentor_id=MENTOR, mentee_id=MENTEE, terms=terms
        ),
        id=workflow_id,
        task_queue=workers.task_queue,
    )
    goals = await onboard(handle, _now())
    active_query = (
        f'WorkflowId = "{workflow_id}" AND MentorflowStage = "active" '
        f'AND MentorflowCohortId = "{terms.cohort_id}" AND MentorflowMenteeId = "{MENTEE}" '
        f'AND MentorflowMentorId = "{MENTOR}" AND MentorflowMissedConversations = 0'
    )
    await assert_eventually(lambda: _visible(dev_client, active_query), lambda n: n == 1)

    # Kill the worker with an update in flight; a second worker finishes the job.
    in_flight = asyncio.create_task(
        execute_command(
            handle,
            c.LogConversation(
                held_at=_now(),
                goal_ids=goals,
                action_items=[
                    c.ActionItemInput(
                        owner="mentor",
                        description="Introduce to the platform lead",
                        due_at=begin + timedelta(minutes=20),
                    )
                ],
            ),
        )
    )
    # Give the update a moment to reach the server first; whichever worker ends up handling
    # it, the assertions below must hold, so this pause affects coverage, not correctness.
    await asyncio.sleep(0.05)
    first_worker.send_signal(signal.SIGKILL)
    first_worker.wait()
    workers.start()
    await asyncio.wait_for(in_flight, timeout=60)

    await execute_command(handle, c.CloseMentorship(reason="mentee_left"))
    for person in (MENTOR, MENTEE):
        await execute_command(
            handle,
            c.SubmitSurvey(person_id=person, satisfaction=4, value=4, would_recommend=True),
        )
    result = await asyncio.wait_for(handle.result(), timeout=60)
    closed_query = f'WorkflowId = "{workflow_id}" AND MentorflowStage = "closed"'
    await assert_eventually(lambda: _visible(dev_client, closed_query), lambda n: n == 1)

    assert result.reason == "mentee_left"
    envelopes = await store.read_stream(workflow_id)
    assert [e.stream_version for e in envelopes] == list(range(1, len(envelopes) + 1))
    assert len({e.event_id for e in envelopes}) == len(envelopes)
    facts = [e.event_type for e in envelopes if not e.event_type.endswith("Due")]
    assert facts == [
        "MentorshipMatched",
        "OnboardingStarted",
        *["TrainingModuleCompleted"] * 6,
        "GoalSet",
        "GoalSet",
        "ConversationHeld",
        "OnboardingCompleted",
        "ConversationHeld",
        "ClosureStarted",
        "SurveySubmitted",
        "SurveySubmitted",
        "MentorshipClosed",
    ]
    memo = await (await handle.describe()).memo()
    assert memo == {"cohort_id": terms.cohort_id, "program": terms.program_name}


def _now() -> datetime:
    """The time as the workflow sees it (this machine's clock: the dev server runs here)."""
    return datetime.now(UTC)
