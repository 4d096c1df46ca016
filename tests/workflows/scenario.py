"""Building blocks for mentorship workflow tests: terms, a running worker, participants."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError

from domain.mentorship import commands as c
from domain.mentorship.terms import ProgramTerms
from eventstore import PostgresEventStore
from mentorflow.converter import data_converter
from mentorflow.keyring import KeyRing
from tests.support import open_vault
from worker import build_worker
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import (
    CommandResult,
    MentorshipWorkflowInput,
    MentorshipWorkflowResult,
)

HISTORIES = Path(__file__).parent / "histories"
RECORD_ENV = "MENTORFLOW_RECORD_HISTORIES"
FIXTURE_PAYLOAD_KEYS = KeyRing.parse(
    "replay fixtures", "fixtures-1=mUnO6XoNp5J+4Cn2BJokge4g6KitYSykuLWtp1UzINM=", None
)
"""The payload key of histories recorded after payloads were encrypted: a published test key,
so that the committed fixtures replay in any later session (it protects nothing real)."""

MENTOR = "p-001"
MENTEE = "p-002"
MODULES = ["active-listening", "constructive-feedback", "career-goal-setting"]


def program_terms(start: datetime, **overrides: Any) -> ProgramTerms:
    """A one-year program with a 14-day cadence starting at ``start``."""
    values: dict[str, Any] = {
        "cohort_id": f"test-{uuid.uuid4().hex[:8]}",
        "program_name": "Engineering Mentorship 2027",
        "starts_at": start,
        "ends_at": start + timedelta(days=365),
        "conversation_cadence": timedelta(days=14),
        "grace_period": timedelta(days=3),
        "onboarding_window": timedelta(days=21),
        "escalate_after_missed": 2,
        "training_modules": MODULES,
        "review_cycles": [start + timedelta(days=180), start + timedelta(days=330)],
    }
    values.update(overrides)
    return ProgramTerms(**values)


@dataclass
class Harness:
    """A worker on a task queue of its own, and the workflows a test started on it."""

    client: Client
    task_queue: str
    started: list[WorkflowHandle[Any, Any]] = field(default_factory=list)


@asynccontextmanager
async def running_worker(client: Client, store: PostgresEventStore) -> AsyncIterator[Harness]:
    """Run a worker; on exit, terminate what the test left running.

    A workflow left open keeps firing timers with no worker to take its tasks, and the
    time-skipping server does not skip time while such tasks are outstanding.
    """
    harness = Harness(client, f"test-{uuid.uuid4().hex[:10]}")
    async with build_worker(client, store, harness.task_queue, await open_vault(store.pool)):
        try:
            yield harness
        finally:
            for handle in harness.started:
                with contextlib.suppress(RPCError):  # already closed
                    await handle.terminate("test finished")


async def start_mentorship(
    harness: Harness, terms: ProgramTerms, **overrides: Any
) -> WorkflowHandle[MentorshipWorkflow, MentorshipWorkflowResult]:
    """Start a relationship between MENTOR and MENTEE."""
    request = MentorshipWorkflowInput(
        cohort_id=terms.cohort_id,
        mentor_id=MENTOR,
        mentee_id=MENTEE,
        terms=terms,
        match_score=0.82,
        match_reasons=["covers 3 of 4 wanted skills"],
        **overrides,
    )
    handle = await harness.client.start_workflow(
        MentorshipWorkflow.run,
        request,
        id=f"mentorship-{terms.cohort_id}-{MENTEE}",
        task_queue=harness.task_queue,
    )
    harness.started.append(handle)
    return handle


Handle = WorkflowHandle[MentorshipWorkflow, MentorshipWorkflowResult]


async def onboard(handle: Handle, now: datetime) -> list[str]:
    """Both participants train, the mentee sets two goals, the kickoff is held."""
    for person in (MENTOR, MENTEE):
        for module in MODULES:
            await execute_command(
                handle,
                c.CompleteTraining(person_id=person, module=module),
            )
    goals: list[str] = []
    for horizon, text in (("short", "Lead a design review"), ("long", "Become a staff engineer")):
        result = await execute_command(
            handle,
            c.AddGoal(horizon=horizon, description=text, motivation="growth"),  # type: ignore[arg-type]
        )
        goals.extend(result.created_ids)
    await log_conversation(handle, now, goals[:1])
    return goals


async def log_conversation(
    handle: Handle, held_at: datetime, goal_ids: list[str], notes: str = "private"
) -> CommandResult:
    """A valid conversation with a one-item action plan due in a week."""
    return await execute_command(
        handle,
        c.LogConversation(
            held_at=held_at,
            goal_ids=goal_ids,
            skills=["stakeholder-management"],
            feedback_to_mentee="Clear structure",
            feedback_to_mentor="More examples",
            notes=notes,
            action_items=[
                c.ActionItemInput(
                    owner="mentee",
                    description="Draft the proposal",
                    due_at=held_at + timedelta(days=7),
                )
            ],
        ),
    )


def fixture_client(client: Client) -> Client:
    """``client``'s connection with the fixtures' payload key (see `FIXTURE_PAYLOAD_KEYS`)."""
    config = client.config()
    config["data_converter"] = data_converter(FIXTURE_PAYLOAD_KEYS)
    return Client(**config)


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With MENTORFLOW_RECORD_HISTORIES=1, save the run's history as a replay fixture.

    The fixtures are committed; `test_replay` runs them through Temporal's Replayer so that a
    non-deterministic change to the workflow fails the build.
    """
    if os.environ.get(RECORD_ENV) != "1":
        return
    await save_history(await handle.fetch_history(), name)


async def save_history(history: WorkflowHistory, name: str) -> None:
    """With MENTORFLOW_RECORD_HISTORIES=1, save ``history`` as the replay fixture ``name``."""
    if os.environ.get(RECORD_ENV) != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
