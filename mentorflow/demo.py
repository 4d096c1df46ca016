"""``mentorflow demo``: one relationship on an accelerated calendar, end to end, for real.

Starts the local stack and a worker, runs a mentorship through onboarding, conversations
with action plans, a missed conversation, a review cycle and closure (seconds instead of
weeks), then prints its event stream from the store and where to look in the Temporal UI.
The cohort demo of the HTTP API issue builds on this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowHandle

from domain.mentorship import commands as c
from domain.mentorship.terms import ProgramTerms
from eventstore import PostgresEventStore
from mentorflow.settings import Settings, load_settings, state_dir
from mentorflow.stack import LocalStack, StackAddresses, StackConfig
from worker import build_worker, connect_client
from workflows.ids import mentorship_workflow_id
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_models import MentorshipWorkflowInput, MentorshipWorkflowResult

CADENCE = timedelta(seconds=8)
GRACE = timedelta(seconds=3)
MENTOR, MENTEE = "p-001", "p-002"
Handle = WorkflowHandle[MentorshipWorkflow, MentorshipWorkflowResult]


async def run_demo(console: Console, *, stop: bool) -> MentorshipWorkflowResult:
    """Run the demo; with ``stop``, stop the servers the demo started at the end."""
    local_stack = LocalStack(StackConfig.from_settings(load_settings(), state_dir()))
    console.rule("mentorflow demo")
    with console.status("Starting the local stack (Temporal, NATS JetStream, PostgreSQL)…"):
        addresses = await local_stack.up()
    console.print(
        f"Stack up: Temporal {addresses.temporal_address}, UI {addresses.temporal_ui_url}"
    )
    try:
        result = await _play(console, load_settings(), addresses)
    finally:
        if stop:
            await local_stack.down()
            console.print("Stopped the servers the demo started.")
    return result


async def _play(
    console: Console, settings: Settings, addresses: StackAddresses
) -> MentorshipWorkflowResult:
    store = await PostgresEventStore.connect(settings.database_url)
    client = await connect_client(settings)
    started = datetime.now(UTC)
    cohort_id = f"demo-{started:%Y%m%d-%H%M%S}"
    terms = ProgramTerms(
        cohort_id=cohort_id,
        program_name="Engineering Mentorship (demo calendar)",
        starts_at=started,
        ends_at=started + 6 * CADENCE,
        conversation_cadence=CADENCE,
        grace_period=GRACE,
        onboarding_window=4 * CADENCE,
        review_cycles=[started + 3 * CADENCE],
    )
    try:
        async with build_worker(client, store, settings.task_queue):
            handle = await client.start_workflow(
                MentorshipWorkflow.run,
                MentorshipWorkflowInput(
                    cohort_id=cohort_id,
                    mentor_id=MENTOR,
                    mentee_id=MENTEE,
                    terms=terms,
                    match_score=0.86,
                    match_reasons=["covers 3 of 4 wanted skills", "same career track"],
                ),
                id=mentorship_workflow_id(cohort_id, MENTEE),
                task_queue=settings.task_queue,
            )
            await _relationship(console, handle)
            result = await handle.result()
        await _print_stream(console, store, handle.id)
    finally:
        await store.close()
    _print_where_to_look(console, addresses, cohort_id)
    return result


async def _step(console: Console, text: str, action: Callable[[], Awaitable[object]]) -> None:
    await action()
    console.print(f"  [green]✓[/] {text}")


async def _relationship(console: Console, handle: Handle) -> None:
    console.print(f"Relationship {handle.id}: onboarding")
    for person in (MENTOR, MENTEE):
        for module in ("active-listening", "constructive-feedback", "career-goal-setting"):
            await handle.execute_update(
                MentorshipWorkflow.complete_training,
                c.CompleteTraining(person_id=person, module=module),
            )
    console.print("  [green]✓[/] both participants completed the three training modules")
    short = await handle.execute_update(
        MentorshipWorkflow.add_goal,
        c.AddGoal(horizon="short", description="Run a design review", motivation="visibility"),
    )
    long = await handle.execute_update(
        MentorshipWorkflow.add_goal,
        c.AddGoal(horizon="long", description="Become a staff engineer", motivation="impact"),
    )
    goals = short.created_ids + long.created_ids
    console.print("  [green]✓[/] the mentee set a short- and a long-term career goal")
    await _converse(handle, goals)
    console.print("  [green]✓[/] kickoff conversation held with an action plan: active")

    await _wait(console, CADENCE, "conversation 2 on time")
    await _complete_items(handle)
    await _converse(handle, goals)
    await _wait(console, CADENCE + GRACE + timedelta(seconds=1), "no conversation this time")
    state = await handle.query(MentorshipWorkflow.state)
    console.print(
        f"  [yellow]![/] conversation missed (consecutive misses: {state['consecutive_misses']})"
    )
    await _converse(handle, goals)
    console.print("  [green]✓[/] back on track: conversation held")
    await _approve_reviews(console, handle)
    state = await handle.query(MentorshipWorkflow.state)
    ends_at = datetime.fromisoformat(state["terms"]["ends_at"])
    while ends_at - datetime.now(UTC) > CADENCE:
        await _wait(console, CADENCE - timedelta(seconds=1), "next conversation")
        await _complete_items(handle)
        await _converse(handle, goals)
        console.print("  [green]✓[/] conversation held, previous action items completed")
    await _wait(
        console,
        max(ends_at - datetime.now(UTC), timedelta(0)) + timedelta(seconds=1),
        "program end date",
    )
    for person, satisfaction in ((MENTOR, 5), (MENTEE, 4)):
        await handle.execute_update(
            MentorshipWorkflow.submit_survey,
            c.SubmitSurvey(
                person_id=person, satisfaction=satisfaction, value=5, would_recommend=True
            ),
        )
    console.print("  [green]✓[/] both closing surveys in: relationship closed")


async def _converse(handle: Handle, goals: list[str]) -> None:
    now = datetime.now(UTC)
    await handle.execute_update(
        MentorshipWorkflow.log_conversation,
        c.LogConversation(
            held_at=now,
            goal_ids=goals,
            skills=["stakeholder-management"],
            feedback_to_mentee="Clear structure; name the trade-offs earlier.",
            feedback_to_mentor="More concrete examples would help.",
            notes="(private notes stay in the relationship)",
            action_items=[
                c.ActionItemInput(
                    owner="mentee", description="Draft the proposal", due_at=now + CADENCE / 2
                )
            ],
        ),
    )


async def _complete_items(handle: Handle) -> None:
    state = await handle.query(MentorshipWorkflow.state)
    for item_id, item in state["action_items"].items():
        if item["status"] == "open":
            await handle.execute_update(
                MentorshipWorkflow.complete_action_item, c.CompleteActionItem(item_id=item_id)
            )


async def _approve_reviews(console: Console, handle: Handle) -> None:
    deadline = datetime.now(UTC) + 3 * CADENCE
    while datetime.now(UTC) < deadline:
        state = await handle.query(MentorshipWorkflow.state)
        waiting = [cid for cid, r in state["reviews"].items() if r["status"] == "awaiting_mentee"]
        for cycle_id in waiting:
            await handle.execute_update(
                MentorshipWorkflow.approve_review_summary, c.ApproveReviewSummary(cycle_id=cycle_id)
            )
            console.print(f"  [green]✓[/] review summary for cycle {cycle_id} approved and shared")
            return
        await asyncio.sleep(0.5)


async def _wait(console: Console, duration: timedelta, what: str) -> None:
    with console.status(f"waiting {duration.total_seconds():.0f}s of demo calendar: {what}…"):
        await asyncio.sleep(duration.total_seconds())


async def _print_stream(console: Console, store: PostgresEventStore, stream_id: str) -> None:
    table = Table(title=f"Event stream {stream_id}")
    for column in ("version", "event", "occurred at"):
        table.add_column(column)
    for envelope in await store.read_stream(stream_id):
        table.add_row(
            str(envelope.stream_version), envelope.event_type, f"{envelope.occurred_at:%H:%M:%S}"
        )
    console.print(table)


def _print_where_to_look(console: Console, addresses: StackAddresses, cohort_id: str) -> None:
    query = f'MentorflowCohortId="{cohort_id}"'
    if addresses.temporal_ui_url:
        link = f"{addresses.temporal_ui_url}/namespaces/default/workflows?query={quote(query)}"
        console.print(f"Temporal UI: {link}")
    console.print(f'Search-attribute query: {query} AND MentorflowStage="closed"')
