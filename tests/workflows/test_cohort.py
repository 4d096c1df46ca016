"""The cohort workflow on the time-skipping server with a real event store."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.cohort_spec import CohortSpec, ParticipantSpec, parse_cohort_spec
from domain.mentorship import commands as c
from eventstore import PostgresEventStore
from examples.generate_cohort import generate_cohort
from matching import assignment_violations, override_violations
from mentorflow.cohorts import launch_cohort
from tests.support import assert_eventually
from tests.workflows.scenario import Harness, running_worker
from workflows.cohort import CohortWorkflow
from workflows.cohort_models import (
    AddParticipant,
    ApproveMatches,
    CohortWorkflowResult,
    PairOverride,
)
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command

DAY = timedelta(days=1)


def _spec(start: datetime, mentees: int, mentors: int, seed: int, **program: Any) -> CohortSpec:
    raw = generate_cohort(mentees, mentors, seed=seed, cohort_id=f"c-{uuid.uuid4().hex[:10]}")
    raw["program"].update(
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + 60 * DAY).isoformat(),
            "review_cycles": [],
            **program,
        }
    )
    return parse_cohort_spec(raw)


def _cohort(client: Client, cohort_id: str) -> WorkflowHandle[CohortWorkflow, CohortWorkflowResult]:
    return client.get_workflow_handle_for(CohortWorkflow.run, f"cohort-{cohort_id}")


def _track_children(harness: Harness, cohort_id: str, mentee_ids: list[str]) -> None:
    """Relationships outlive their cohort (ABANDON): the harness must terminate them too, or
    their timers would keep the time-skipping server from skipping in later tests."""
    harness.started.extend(
        harness.client.get_workflow_handle(f"mentorship-{cohort_id}-{mentee_id}")
        for mentee_id in mentee_ids
    )


async def _cohort_state(client: Client, cohort_id: str) -> dict[str, Any]:
    state: dict[str, Any] = await _cohort(client, cohort_id).query(CohortWorkflow.state)
    return state


async def test_a_fifty_person_cohort_runs_from_launch_to_close(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    spec = _spec(await env.get_current_time(), mentees=35, mentors=15, seed=7)
    async with running_worker(env.client, session_store) as harness:
        launched = await launch_cohort(env.client, spec, harness.task_queue, batch_size=10)
        harness.started.append(_cohort(env.client, spec.cohort_id))
        pairs = launched.outcome.pairs
        _track_children(harness, spec.cohort_id, [pair.mentee_id for pair in pairs])
        await assert_eventually(
            lambda: _cohort_state(env.client, spec.cohort_id),
            lambda state: state["relationships"] == len(pairs),
            message="every relationship started",
        )
        for pair in pairs[:3]:
            child = env.client.get_workflow_handle(f"mentorship-{spec.cohort_id}-{pair.mentee_id}")
            assert (await child.query(MentorshipWorkflow.state)).mentor_id == pair.mentor_id
        # Skipped a week at a time: one 61-day skip makes the test server run every pair's
        # timers in one call, which outlasts its RPC deadline on a loaded machine.
        remaining = 61 * DAY + spec.program.conversation_cadence
        while remaining > timedelta(0):
            step = min(remaining, 7 * DAY)
            await env.sleep(step)
            remaining -= step
        result = await _cohort(env.client, spec.cohort_id).result()

    assert not launched.already_launched
    assert len(pairs) + len(launched.outcome.unmatched) == len(spec.mentees)
    assert result.relationships == len(pairs)
    assert result.by_stage == {"closed": len(pairs)}
    types = [e.event_type for e in await session_store.read_stream(f"cohort-{spec.cohort_id}")]
    assert types[:2] == ["CohortLaunched", "MatchingCompleted"]
    assert types.count("MentorshipsStarted") == -(-len(pairs) // 10)
    assert types[-1] == "CohortClosed"


async def test_launching_the_same_cohort_again_starts_nothing_and_says_so(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    spec = _spec(await env.get_current_time(), mentees=6, mentors=3, seed=3)
    async with running_worker(env.client, session_store) as harness:
        first = await launch_cohort(env.client, spec, harness.task_queue)
        harness.started.append(_cohort(env.client, spec.cohort_id))
        _track_children(harness, spec.cohort_id, [pair.mentee_id for pair in first.outcome.pairs])
        second = await launch_cohort(env.client, spec, harness.task_queue)
        await assert_eventually(  # every child exists, so the harness can terminate them all
            lambda: _cohort_state(env.client, spec.cohort_id),
            lambda state: state["relationships"] == len(first.outcome.pairs),
        )

    assert (first.already_launched, second.already_launched) == (False, True)
    assert second.outcome == first.outcome
    launched = [e for e in await session_store.read_stream(f"cohort-{spec.cohort_id}")]
    assert [e.event_type for e in launched].count("CohortLaunched") == 1


async def test_hr_approval_rejects_an_override_that_breaks_a_constraint_and_takes_a_valid_one(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    spec = _spec(
        await env.get_current_time(), mentees=8, mentors=4, seed=11, require_hr_approval=True
    )
    async with running_worker(env.client, session_store) as harness:
        launched = await launch_cohort(env.client, spec, harness.task_queue)
        cohort = _cohort(env.client, spec.cohort_id)
        harness.started.append(cohort)
        _track_children(harness, spec.cohort_id, [p.mentee_id for p in launched.outcome.pairs])
        assert launched.outcome.awaiting_approval
        pair = launched.outcome.pairs[0]

        invalid, reasons = _invalid_override(spec)
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await cohort.execute_update(
                CohortWorkflow.approve_matches, ApproveMatches(overrides=[invalid])
            )
        assert (await _cohort_state(env.client, spec.cohort_id))["relationships"] == 0

        valid = _valid_override(spec, launched.outcome.pairs, pair.mentee_id)
        approved = await cohort.execute_update(
            CohortWorkflow.approve_matches,
            ApproveMatches(overrides=[valid] if valid else []),
        )
        await assert_eventually(
            lambda: _cohort_state(env.client, spec.cohort_id),
            lambda state: state["relationships"] == len(launched.outcome.pairs),
        )

    assert all(reason in str(rejected.value.cause) for reason in reasons)
    assert not approved.awaiting_approval
    types = [e.event_type for e in await session_store.read_stream(f"cohort-{spec.cohort_id}")]
    assert types[:4] == [
        "CohortLaunched",
        "MatchingCompleted",
        "MatchesApproved",
        "MentorshipsStarted",
    ]


def _invalid_override(spec: CohortSpec) -> tuple[PairOverride, list[str]]:
    """A mentor for a mentee that breaks a hard constraint (seniority, reporting line…)."""
    for mentee in spec.mentees:
        for mentor in spec.mentors:
            if mentor.id != mentee.id and (
                reasons := override_violations(spec, mentor.id, mentee.id)
            ):
                return PairOverride(mentor_id=mentor.id, mentee_id=mentee.id), reasons
    raise AssertionError("the generated cohort has no forbidden pair")


def _valid_override(spec: CohortSpec, pairs: list[Any], mentee_id: str) -> PairOverride | None:
    base = {p.mentee_id: p.mentor_id for p in pairs}
    for mentor in spec.mentors:
        if mentor.id == base[mentee_id]:
            continue
        proposal = {**base, mentee_id: mentor.id}
        if not assignment_violations(spec, [(m, e) for e, m in proposal.items()]):
            return PairOverride(mentor_id=mentor.id, mentee_id=mentee_id)
    return None


async def test_a_rematch_starts_a_new_relationship_with_the_open_goals_and_another_mentor(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    spec = _spec(await env.get_current_time(), mentees=6, mentors=6, seed=5)
    async with running_worker(env.client, session_store) as harness:
        launched = await launch_cohort(env.client, spec, harness.task_queue)
        harness.started.append(_cohort(env.client, spec.cohort_id))
        _track_children(harness, spec.cohort_id, [p.mentee_id for p in launched.outcome.pairs])
        pair = launched.outcome.pairs[0]
        first = env.client.get_workflow_handle(f"mentorship-{spec.cohort_id}-{pair.mentee_id}")
        await assert_eventually(
            lambda: _cohort_state(env.client, spec.cohort_id),
            lambda state: state["relationships"] == len(launched.outcome.pairs),
        )
        await execute_command(
            first,
            c.AddGoal(horizon="long", description="Move into product management"),
        )
        await execute_command(first, c.RequestRematch(reason="different track"))
        await assert_eventually(
            lambda: _cohort_state(env.client, spec.cohort_id),
            lambda state: state["rematches"] == 1,
            message="the cohort rematched the mentee",
        )
        second = env.client.get_workflow_handle(f"{first.id}-r1")
        second_state = (await second.query(MentorshipWorkflow.state)).model_dump(mode="json")
        harness.started.append(second)

    assert second_state["mentor_id"] != pair.mentor_id
    assert [g["description"] for g in second_state["goals"].values()] == [
        "Move into product management"
    ]
    assert second_state["rematch_of"] == first.id
    cohort_events = await session_store.read_stream(f"cohort-{spec.cohort_id}")
    rematched = next(e for e in cohort_events if e.event_type == "MenteeRematched")
    assert rematched.data["previous_stream_id"] == first.id


async def test_a_late_joiner_is_matched_from_the_capacity_left(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    spec = _spec(await env.get_current_time(), mentees=4, mentors=4, seed=9)
    async with running_worker(env.client, session_store) as harness:
        launched = await launch_cohort(env.client, spec, harness.task_queue)
        cohort = _cohort(env.client, spec.cohort_id)
        harness.started.append(cohort)
        _track_children(harness, spec.cohort_id, [p.mentee_id for p in launched.outcome.pairs])
        joiner = ParticipantSpec.model_validate(
            {
                "id": "p-late",
                "name": "Late Joiner",
                "roles": ["mentee"],
                "seniority": 1,
                "timezone": "Europe/Berlin",
                "languages": ["en"],
                "wants_to_develop": ["python"],
            }
        )
        added = await cohort.execute_update(
            CohortWorkflow.add_participant, AddParticipant(participant=joiner)
        )
        with pytest.raises(WorkflowUpdateFailedError):  # the same id twice
            await cohort.execute_update(
                CohortWorkflow.add_participant, AddParticipant(participant=joiner)
            )
        if added.stream_id:
            harness.started.append(env.client.get_workflow_handle(added.stream_id))

    assert added.stream_id == f"mentorship-{spec.cohort_id}-p-late"
    types = Counter(
        e.event_type for e in await session_store.read_stream(f"cohort-{spec.cohort_id}")
    )
    assert types["ParticipantJoined"] == 1
    assert types["MenteeRematched"] == 1
