"""One bad update never wedges a relationship (trust-boundary issue, finding 2).

The API and the workflow's own rules refuse control characters; the first test shows the
rules do it for an update sent straight to the workflow. The others take the rules' text check
out (as a gap in validation would) to show the last depth: data PostgreSQL refuses is a
non-retryable append failure, the update is rejected cleanly and the next change works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.mentorship import commands as c
from domain.mentorship import decisions
from domain.mentorship.commands import Command
from eventstore import PostgresEventStore
from tests.workflows.scenario import (
    Handle,
    log_conversation,
    onboard,
    program_terms,
    running_worker,
    start_mentorship,
)
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import CommandResult

DAY = timedelta(days=1)
PoisonedUpdate = Callable[[Handle], Awaitable[CommandResult]]
PROMPT = 30.0
"""Seconds within which an answer must come (a wedged relationship never answers)."""


def handle_update(command: Command) -> PoisonedUpdate:
    """Runs ``command`` on the handle it is given."""

    async def run(handle: Handle) -> CommandResult:
        return await execute_command(handle, command)

    return run


def _poisoned_conversation(held_at: datetime, goals: list[str]) -> PoisonedUpdate:
    return handle_update(
        c.LogConversation(
            held_at=held_at,
            goal_ids=goals[:1],
            skills=["python\x00"],
            action_items=[
                c.ActionItemInput(owner="mentee", description="Draft", due_at=held_at + 7 * DAY)
            ],
        ),
    )


def _poisoned_challenge(held_at: datetime, goals: list[str]) -> PoisonedUpdate:
    return handle_update(
        c.SetChallenge(skill="python\x00", description="Run a retro", due_at=held_at + 7 * DAY),
    )


@pytest.mark.parametrize(
    "poisoned",
    [
        pytest.param(_poisoned_conversation, id="nul-in-conversation-skills"),
        pytest.param(_poisoned_challenge, id="nul-in-challenge-skill"),
    ],
)
async def test_a_poison_value_past_validation_is_rejected_and_the_next_change_succeeds(
    time_skipping_env: WorkflowEnvironment,
    session_store: PostgresEventStore,
    poisoned: Callable[[datetime, list[str]], PoisonedUpdate],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decisions, "text_problem", lambda text: None)  # a validation gap
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        goals = await onboard(handle, start)
        before = await session_store.stream_version(handle.id)
        update = poisoned(await env.get_current_time(), goals)

        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await asyncio.wait_for(update(handle), timeout=PROMPT)
        cause = raised.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == "CommandRejected"
        assert "cannot be stored" in cause.message
        assert await session_store.stream_version(handle.id) == before

        accepted = await asyncio.wait_for(
            log_conversation(handle, await env.get_current_time(), goals[:1]), timeout=PROMPT
        )
        assert accepted.recorded == ["ConversationHeld"]
        assert await session_store.stream_version(handle.id) == before + 1


async def test_the_workflow_rules_refuse_control_characters_themselves(
    time_skipping_env: WorkflowEnvironment, session_store: PostgresEventStore
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, session_store) as harness:
        start = await env.get_current_time()
        handle = await start_mentorship(harness, program_terms(start))
        goals = await onboard(handle, start)
        update = _poisoned_conversation(await env.get_current_time(), goals)

        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await asyncio.wait_for(update(handle), timeout=PROMPT)

    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "CommandRejected"
    assert cause.details[0] == ["skills[0] contains the control character U+0000"]
