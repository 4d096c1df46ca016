"""An accelerated cohort for fault tests, and its participants acting through workflow updates.

Every mentee can be matched (mentors have the capacity and seniority), so the cohort has
exactly the number of relationships asked for. What drives a relationship to its end:

- the calendar: onboarding deadline, conversation reminders and misses, escalation, the
  program's end and the survey window are timers of the workflow;
- the participants (`Participants`): by plan, they do nothing, onboard and then go quiet,
  onboard and close early, or onboard, hold a mid-program conversation and answer the
  closing survey. Each update carries an id of its own, so a call retried after a worker
  crash is the same update (Temporal deduplicates it), never a second one.

Whatever the faults delay, every relationship ends ``closed``; which facts it recorded on the
way depends on what the participants' updates achieved in time, which the driver records.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.mentorship import commands as c
from domain.mentorship.commands import Command
from events.mentorship import GoalHorizon
from mentorflow.cohorts import LaunchResult
from tests.faults.scale import Calendar
from tests.faults.services import REPOSITORY
from tests.support import assert_eventually
from workflows.ids import mentorship_workflow_id
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import CommandResult, MentorshipWorkflowResult

MODULE = "active-listening"
GOALS: tuple[tuple[GoalHorizon, str], ...] = (
    ("short", "Lead a design review"),
    ("long", "Grow into a staff role"),
)

MentorshipHandle = WorkflowHandle[MentorshipWorkflow, MentorshipWorkflowResult]


def _duration(delta: timedelta) -> str:
    return f"PT{math.ceil(delta.total_seconds())}S"


def cohort_spec(
    cohort_id: str, pairs: int, calendar: Calendar, starts_at: datetime
) -> dict[str, Any]:
    """A cohort of ``pairs`` mentees and half as many mentors (capacity 2), all matchable."""
    traits = {
        "openness": 0.6,
        "conscientiousness": 0.7,
        "extraversion": 0.5,
        "agreeableness": 0.7,
        "emotional_stability": 0.6,
    }
    common = {
        "department": "Platform",
        "manager_id": None,
        "timezone": "Europe/Berlin",
        "languages": ["en"],
        "career_objectives": ["staff-engineering"],
        "traits": traits,
    }
    mentors = [
        {
            "id": f"m-{index:04d}",
            "name": f"Mentor {index}",
            "roles": ["mentor"],
            "seniority": 8,
            "skills": {"system-design": 5, "leadership": 4},
            "mentor_capacity": 2,
            **common,
        }
        for index in range(math.ceil(pairs / 2))
    ]
    mentees = [
        {
            "id": f"e-{index:04d}",
            "name": f"Mentee {index}",
            "roles": ["mentee"],
            "seniority": 3,
            "skills": {"system-design": 1},
            "wants_to_develop": ["system-design", "leadership"],
            **common,
        }
        for index in range(pairs)
    ]
    return {
        "cohort_id": cohort_id,
        "program": {
            "name": "Fault injection cohort",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + calendar.program).isoformat(),
            "conversation_cadence": _duration(calendar.cadence),
            "grace_period": _duration(calendar.grace),
            "onboarding_window": _duration(calendar.onboarding),
            "escalate_after_missed": 2,
            "training_modules": [MODULE],
            "review_cycles": [],
            "require_hr_approval": False,
            "min_seniority_gap": 1,
            "default_mentor_capacity": 2,
        },
        "participants": [*mentors, *mentees],
    }


async def launch_from_processes(
    spec: dict[str, Any], directory: Path, environment: dict[str, str], launches: int
) -> list[LaunchResult]:
    """``mentorflow cohort launch FILE --json`` from ``launches`` processes at once."""
    path = directory / f"{spec['cohort_id']}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    executable = str(Path(sys.executable).with_name("mentorflow"))
    processes = [
        await asyncio.create_subprocess_exec(
            executable,
            "cohort",
            "launch",
            str(path),
            "--json",
            cwd=REPOSITORY,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(launches)
    ]
    results: list[LaunchResult] = []
    for process in processes:
        output, errors = await asyncio.wait_for(process.communicate(), timeout=300)
        assert process.returncode == 0, errors.decode(errors="replace")[-3000:]
        results.append(LaunchResult.model_validate_json(output))
    return results


class Plan(StrEnum):
    """What a relationship's participants do."""

    IDLE = "idle"
    """Nothing: onboarding goes overdue; the calendar closes the relationship."""
    QUIET = "quiet"
    """Onboard, then never meet again: misses, an escalation; the calendar closes it."""
    ENDS_EARLY = "ends_early"
    """Onboard, then the mentee leaves (``close``); closed when the surveys close."""
    THROUGHOUT = "throughout"
    """Onboard, meet mid-program, and both answer the closing survey."""


PLANS = (Plan.THROUGHOUT, Plan.IDLE, Plan.ENDS_EARLY, Plan.QUIET)


@dataclass(frozen=True)
class Relationship:
    """A pair of the cohort and what its participants will do."""

    stream_id: str
    mentor_id: str
    mentee_id: str
    plan: Plan


def relationships_of(launch: LaunchResult) -> list[Relationship]:
    """The launched pairs, each given a plan in turn."""
    return [
        Relationship(
            mentorship_workflow_id(launch.cohort_id, pair.mentee_id),
            pair.mentor_id,
            pair.mentee_id,
            PLANS[index % len(PLANS)],
        )
        for index, pair in enumerate(sorted(launch.outcome.pairs, key=lambda p: p.mentee_id))
    ]


@dataclass(frozen=True)
class Accepted:
    """An update the workflow accepted, with what it says it recorded."""

    stream_id: str
    update_id: str
    result: CommandResult
    at: datetime


@dataclass
class Participants:
    """Mentors and mentees playing their plans through workflow updates, through any fault."""

    client: Client
    calendar: Calendar
    starts_at: datetime
    accepted: list[Accepted] = field(default_factory=list)
    rejected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    rejections: Counter[str] = field(default_factory=Counter)
    """Why updates were rejected (a relationship's plan came too late for its stage)."""
    closed_early: set[str] = field(default_factory=set)
    transport_retries: int = 0

    def expected_reasons(self, relationships: list[Relationship]) -> dict[str, str]:
        """Why each relationship closes: its mentee left if they could, else the program ended."""
        return {
            r.stream_id: "mentee_left" if r.stream_id in self.closed_early else "completed"
            for r in relationships
        }

    @property
    def ends_at(self) -> datetime:
        """The program's end."""
        return self.starts_at + self.calendar.program

    async def play(self, relationships: list[Relationship]) -> None:
        """Play every relationship's plan to its end."""
        await asyncio.gather(*(self._play(relationship) for relationship in relationships))

    async def _play(self, relationship: Relationship) -> None:
        if relationship.plan is Plan.IDLE:
            return
        handle = self.client.get_workflow_handle_for(MentorshipWorkflow.run, relationship.stream_id)
        goals = await self._onboard(handle, relationship)
        if not goals:
            return  # too late for onboarding (the program ended meanwhile)
        if relationship.plan is Plan.ENDS_EARLY:
            closed = await self._update(handle, "close", c.CloseMentorship(reason="mentee_left"))
            if closed is not None:
                self.closed_early.add(relationship.stream_id)
        if relationship.plan is not Plan.THROUGHOUT:
            return
        await _until(self.starts_at + self.calendar.program / 2)
        await self._converse(handle, "midpoint", goals)
        await _until(self.ends_at)
        if await self._stage_after_the_end(handle) != "closing":
            return  # the survey window passed while a fault held the workflow up
        for person in (relationship.mentor_id, relationship.mentee_id):
            await self._update(
                handle,
                f"survey-{person}",
                c.SubmitSurvey(person_id=person, satisfaction=4, value=5, would_recommend=True),
            )

    async def _onboard(self, handle: MentorshipHandle, relationship: Relationship) -> list[str]:
        for person in (relationship.mentor_id, relationship.mentee_id):
            await self._update(
                handle,
                f"training-{person}",
                c.CompleteTraining(person_id=person, module=MODULE),
            )
        goals: list[str] = []
        for horizon, text in GOALS:
            result = await self._update(
                handle,
                f"goal-{horizon}",
                c.AddGoal(horizon=horizon, description=text, motivation="impact"),
            )
            if result is not None:
                goals.extend(result.created_ids)
        if goals:
            await self._converse(handle, "kickoff", goals)
        return goals

    async def _converse(self, handle: MentorshipHandle, name: str, goals: list[str]) -> None:
        held_at = datetime.now(UTC)
        await self._update(
            handle,
            f"conversation-{name}",
            c.LogConversation(
                held_at=held_at,
                goal_ids=goals[:1],
                skills=["system-design"],
                feedback_to_mentee="Name the trade-offs earlier.",
                notes="(private)",
                action_items=[
                    c.ActionItemInput(
                        owner="mentee",
                        description="Draft the proposal",
                        due_at=held_at + self.calendar.cadence / 2,
                    )
                ],
            ),
        )

    async def _stage_after_the_end(self, handle: MentorshipHandle) -> str:
        async def stage() -> str:
            try:
                state = await handle.query(MentorshipWorkflow.state)
            except RPCError:
                return "unknown"  # no worker to answer right now (or already closed)
            return state.stage.value

        async def closing_or_closed() -> str:
            if not await _still_open(handle):
                return "closed"
            return await stage()

        return await assert_eventually(
            closing_or_closed,
            lambda current: current in ("closing", "closed"),
            timeout=300,
            interval=0.5,
            message=f"{handle.id} reached its closing stage",
        )

    async def _update(
        self, handle: MentorshipHandle, update_id: str, command: Command
    ) -> CommandResult | None:
        """Run an update until it is accepted or rejected; None when rejected or too late.

        A transport failure (the worker died, the workflow is not started yet) is retried with
        the same update id: Temporal runs an update id once per workflow run.
        """
        while True:
            try:
                # One update at a time per relationship, and no limit across them: a shared
                # limit would let the relationships a kill holds up block all the others.
                result = await execute_command(handle, command, update_id=update_id)
            except WorkflowUpdateFailedError as failure:
                cause = failure.cause
                if isinstance(cause, ApplicationError) and cause.type == "CommandRejected":
                    self.rejected[handle.id].append(update_id)
                    self.rejections[cause.message.split(";")[0]] += 1
                    return None
                raise  # anything else would be a bug the fault exposed
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
                if not await _still_open(handle):
                    self.rejected[handle.id].append(update_id)
                    return None
                self.transport_retries += 1
                await asyncio.sleep(0.5)
                continue
            self.accepted.append(Accepted(handle.id, update_id, result, datetime.now(UTC)))
            return result


async def _until(moment: datetime) -> None:
    """The participants' calendar: act at ``moment``."""
    await asyncio.sleep(max((moment - datetime.now(UTC)).total_seconds(), 0.0))


async def _still_open(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the workflow runs, or is yet to be started; False once it completed."""
    try:
        description = await handle.describe()
    except RPCError:
        return True  # not started yet (NOT_FOUND), or the server is busy: still to be played
    return description.status is WorkflowExecutionStatus.RUNNING


async def relationship_results(
    client: Client, relationships: list[Relationship], timeout: float
) -> dict[str, MentorshipWorkflowResult]:
    """Wait until every relationship's workflow has completed; its result by stream id."""
    results = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.get_workflow_handle_for(MentorshipWorkflow.run, r.stream_id).result()
                for r in relationships
            )
        ),
        timeout,
    )
    return {r.stream_id: result for r, result in zip(relationships, results, strict=True)}
