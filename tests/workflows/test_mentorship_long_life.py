"""A three-year relationship continues as new and keeps each run's history bounded."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.mentorship import commands as c
from eventstore import PostgresEventStore
from tests.workflows.scenario import (
    MENTEE,
    MENTOR,
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
HISTORY_LIMIT = 300
# The limit is checked between wake-ups; one fortnight adds a few dozen events at most.
SLACK = 120


async def _history_lengths(client: Client, workflow_id: str) -> list[int]:
    """Lengths of every run's history, newest first, following continue-as-new links."""
    lengths: list[int] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return lengths
        run_id = started.continued_execution_run_id


async def test_three_years_of_fortnightly_conversations_keep_each_run_bounded(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        terms = program_terms(start, ends_at=start + 3 * 365 * DAY, review_cycles=[])
        handle = await start_mentorship(harness, terms, history_limit=HISTORY_LIMIT)
        goals = await onboard(handle, start)
        for _ in range(78):
            await env.sleep(14 * DAY)
            state = await handle.query(MentorshipWorkflow.state)
            for item_id, item in state.action_items.items():
                if item.status == "open":
                    await execute_command(
                        handle,
                        c.CompleteActionItem(item_id=item_id),
                    )
            await log_conversation(handle, await env.get_current_time(), goals)
        await env.sleep(4 * DAY)
        for person in (MENTOR, MENTEE):
            await execute_command(
                handle,
                c.SubmitSurvey(person_id=person, satisfaction=5, value=5, would_recommend=True),
            )
        result = await handle.result()
        lengths = await _history_lengths(env.client, handle.id)
        await record_history(handle, "three_years_final_run")

    assert result.conversations_held == 79
    assert result.conversations_missed == 0
    assert len(lengths) >= 5, lengths
    assert max(lengths) <= HISTORY_LIMIT + SLACK, lengths
    envelopes = await session_store.read_stream(handle.id)
    assert [e.stream_version for e in envelopes] == list(range(1, len(envelopes) + 1))
    assert result.stream_version == len(envelopes)
    assert sum(e.event_type == "ConversationHeld" for e in envelopes) == 79
