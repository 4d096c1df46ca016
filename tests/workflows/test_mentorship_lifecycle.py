"""The mentorship workflow on the time-skipping server, with a real PostgreSQL event store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.mentorship import commands as c
from eventstore import PostgresEventStore
from tests.workflows.scenario import (
    MENTEE,
    MENTOR,
    Handle,
    log_conversation,
    onboard,
    program_terms,
    record_history,
    running_worker,
    start_mentorship,
)
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command

DAY = timedelta(days=1)


async def _event_types(store: PostgresEventStore, stream_id: str) -> list[str]:
    envelopes = await store.read_stream(stream_id)
    assert [e.stream_version for e in envelopes] == list(range(1, len(envelopes) + 1))
    assert len({e.event_id for e in envelopes}) == len(envelopes)
    return [e.event_type for e in envelopes]


async def _state(handle: Handle) -> dict[str, Any]:
    return (await handle.query(MentorshipWorkflow.state)).model_dump(mode="json")


async def _complete_open_items(handle: Handle) -> None:
    for item_id, item in (await _state(handle))["action_items"].items():
        if item["status"] == "open":
            await execute_command(handle, c.CompleteActionItem(item_id=item_id))


async def _survey(handle: Handle, person: str, satisfaction: int = 5) -> None:
    await execute_command(
        handle,
        c.SubmitSurvey(person_id=person, satisfaction=satisfaction, value=4, would_recommend=True),
    )


async def test_a_healthy_year_runs_in_seconds_with_the_exact_event_sequence(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        goals = await onboard(handle, start)
        assert (await _state(handle))["stage"] == "active"

        for _ in range(26):
            await env.sleep(14 * DAY)
            await _complete_open_items(handle)
            for cycle_id, review in (await _state(handle))["reviews"].items():
                if review["status"] == "awaiting_mentee":
                    await execute_command(
                        handle,
                        c.ApproveReviewSummary(cycle_id=cycle_id),
                    )
            await log_conversation(handle, await env.get_current_time(), goals)

        await env.sleep(2 * DAY)  # past the program's end date
        assert (await _state(handle))["stage"] == "closing"
        await _survey(handle, MENTOR)
        await _survey(handle, MENTEE, satisfaction=4)
        result = await handle.result()
        await record_history(handle, "healthy_year")

    assert (result.reason, result.conversations_held, result.conversations_missed) == (
        "completed",
        27,
        0,
    )
    # The exact sequence: each fortnight the open item's check-in, the reminder two days
    # before the due date, the item's completion and the conversation; reviews on days 180
    # and 330 fall into fortnights 13 and 24 and are approved before the conversation.
    fortnight = [
        "ActionItemCheckInDue",
        "ConversationReminderDue",
        "ActionItemCompleted",
        "ConversationHeld",
    ]
    with_review = [
        "ActionItemCheckInDue",
        "ReviewSummaryDrafted",
        "ConversationReminderDue",
        "ActionItemCompleted",
        "ReviewSummaryShared",
        "ConversationHeld",
    ]
    expected = [
        "MentorshipMatched",
        "OnboardingStarted",
        *["TrainingModuleCompleted"] * 6,
        "GoalSet",
        "GoalSet",
        "ConversationHeld",
        "OnboardingCompleted",
    ]
    for number in range(1, 27):
        expected += with_review if number in (13, 24) else fortnight
    expected += ["ClosureStarted", "SurveySubmitted", "SurveySubmitted", "MentorshipClosed"]
    assert await _event_types(session_store, handle.id) == expected


async def test_a_neglected_relationship_records_misses_and_escalates(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        goals = await onboard(handle, start)

        await env.sleep(14 * DAY + 3 * DAY + DAY)  # first due date and grace period pass
        state = await _state(handle)
        assert (state["consecutive_misses"], state["escalations"]) == (1, 0)
        await env.sleep(14 * DAY)
        state = await _state(handle)
        assert (state["consecutive_misses"], state["escalations"]) == (2, 1)

        await log_conversation(handle, await env.get_current_time(), goals)
        assert (await _state(handle))["consecutive_misses"] == 0
        await record_history(handle, "neglected")

    types = await _event_types(session_store, handle.id)
    misses = [t for t in types if t in {"ConversationMissed", "MentorshipEscalated"}]
    assert misses == ["ConversationMissed", "ConversationMissed", "MentorshipEscalated"]


async def test_onboarding_that_never_completes_is_reported_overdue(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        await env.sleep(22 * DAY)
        state = await _state(handle)

    assert state["stage"] == "onboarding"
    types = await _event_types(session_store, handle.id)
    assert types == [
        "MentorshipMatched",
        "OnboardingStarted",
        "OnboardingReminderDue",
        "OnboardingOverdue",
    ]
    overdue = (await session_store.read_stream(handle.id))[-1]
    assert f"{MENTEE}: a long-term goal" in overdue.data["missing"]
    assert "kickoff conversation" in overdue.data["missing"]


async def test_a_pause_stops_the_clock_and_resume_continues(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        goals = await onboard(handle, start)
        await execute_command(handle, c.PauseMentorship(reason="parental leave"))
        await env.sleep(60 * DAY)
        paused = await _state(handle)
        await execute_command(handle, c.ResumeMentorship())
        resumed = await _state(handle)
        await env.sleep(13 * DAY)
        await log_conversation(handle, await env.get_current_time(), goals)
        await record_history(handle, "paused_and_resumed")

    assert paused["stage"] == "paused"
    assert paused["total_misses"] == 0
    assert resumed["stage"] == "active"
    types = await _event_types(session_store, handle.id)
    assert "ConversationMissed" not in types
    assert "ActionItemCheckInDue" not in types[types.index("MentorshipPaused") :][:2]
    assert types.count("ConversationHeld") == 2


async def test_early_closure_with_a_rematch_request(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        await onboard(handle, start)
        await execute_command(
            handle,
            c.RequestRematch(reason="different career track"),
        )
        await _survey(handle, MENTEE, satisfaction=2)
        await env.sleep(8 * DAY)  # the mentor never answers; the survey window closes
        result = await handle.result()
        await record_history(handle, "rematch")

    assert result.reason == "rematch"
    types = await _event_types(session_store, handle.id)
    assert types[-4:] == [
        "RematchRequested",
        "ClosureStarted",
        "SurveySubmitted",
        "MentorshipClosed",
    ]
    closed = (await session_store.read_stream(handle.id))[-1]
    assert closed.data["surveys_received"] == 1


async def test_invalid_updates_are_rejected_with_every_reason_and_record_nothing(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        await onboard(handle, start)
        before = await session_store.stream_version(handle.id)

        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await execute_command(
                handle,
                c.LogConversation(held_at=start + 30 * DAY, goal_ids=["g-404"], action_items=[]),
            )
        with pytest.raises(WorkflowUpdateFailedError):
            await execute_command(
                handle,
                c.CompleteTraining(person_id="p-999", module="juggling"),
            )
        with pytest.raises(WorkflowUpdateFailedError):
            await execute_command(handle, c.ResumeMentorship())

        assert await session_store.stream_version(handle.id) == before

    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "CommandRejected"
    problems = cause.details[0]
    assert problems == [
        "held_at is in the future",
        "goal_ids: unknown goal 'g-404'",
        "a conversation must conclude with an action plan of at least one item",
    ]


async def test_review_summary_is_withheld_without_approval_and_never_carries_notes(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start, review_cycles=[]))
        goals = await onboard(handle, start)
        await log_conversation(
            handle, await env.get_current_time(), goals, notes="Struggling with the new manager"
        )
        await handle.signal(MentorshipWorkflow.start_review_cycle, _cycle("2027-h1"))
        await env.sleep(DAY)
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await execute_command(
                handle,
                c.ApproveReviewSummary(
                    cycle_id="2027-h1", edited_text="Good year. Struggling with the new manager."
                ),
            )
        await env.sleep(15 * DAY)  # the approval window (one cadence) passes
        state = await _state(handle)
        await record_history(handle, "review_withheld")

    assert "private conversation notes" in str(raised.value.cause)
    assert state["reviews"]["2027-h1"]["status"] == "withheld"
    envelopes = await session_store.read_stream(handle.id)
    drafted = next(e for e in envelopes if e.event_type == "ReviewSummaryDrafted")
    assert "Struggling" not in str(drafted.data)
    assert "ReviewSummaryShared" not in [e.event_type for e in envelopes]
    assert "ReviewSummaryWithheld" in [e.event_type for e in envelopes]


def _cycle(cycle_id: str) -> Any:
    from workflows.mentorship_models import StartReviewCycle

    return StartReviewCycle(cycle_id=cycle_id)
