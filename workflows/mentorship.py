"""One long-lived workflow per mentor–mentee relationship.

The workflow is thin orchestration: every rule is a pure function of `domain.mentorship`
(`decide`, `due_events`, `next_wakeup`, `evolve`). It sleeps until the next due moment or
until an update changes the state, records every fact through the append activity with a
deterministic event id and the stream version it tracks, keeps search attributes and current
details up to date for ops, and continues as new before its history grows large.

Appends are serialised by a lock: updates and the timer loop never interleave their events,
so the stream version the workflow derives is always the store's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.review import DraftReviewSummaryInput, ReviewActivities
    from domain.mentorship import commands as c
    from domain.mentorship.catalog import COMMANDS, CommandEntry
    from domain.mentorship.decisions import (
        QUOTES_PRIVATE_NOTES,
        CommandRejected,
        NotPermitted,
        check,
        decide,
        permission_problems,
    )
    from domain.mentorship.schedule import due_events, next_wakeup, review_cycles_due
    from domain.mentorship.state import MentorshipState, Stage, replay
    from events import DomainEvent
    from events import mentorship as m
    from workflows import search_attributes as sa
    from workflows.ids import cohort_workflow_id
    from workflows.mentorship_models import (
        CarriedGoal,
        CommandResult,
        MentorshipSnapshot,
        MentorshipWorkflowInput,
        MentorshipWorkflowResult,
        PrivateNotesInput,
        PrivateNotesResult,
        RematchRequestedSignal,
        StageChangedSignal,
        StartReviewCycle,
    )
    from workflows.origin import Origin, timer_origin
    from workflows.recording import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, record_events

W = TypeVar("W")
REPORT_STAGES_PATCH = "report-stages-to-cohort"
"""Added after the first histories were recorded: relationships report stage changes."""


def _command_update(entry: CommandEntry) -> object:
    """The update (and its validator) that runs one command of the table."""

    async def run(self: MentorshipWorkflow, command: c.MentorshipCommand) -> CommandResult:
        return await self._execute(command)

    def validate(self: MentorshipWorkflow, command: c.MentorshipCommand) -> None:
        self._validate(command)

    for function in (run, validate):
        function.__name__ = function.__qualname__ = entry.update
        function.__doc__ = entry.command.__doc__
        function.__annotations__ = {"command": entry.command, "return": CommandResult}
    validate.__annotations__["return"] = None
    update = workflow.update(name=entry.update, description=entry.summary)(run)
    update.validator(validate)
    return update


def _command_updates(cls: type[W]) -> type[W]:
    """Give the workflow one update per command of the table (`catalog.COMMANDS`)."""
    for entry in COMMANDS:
        setattr(cls, entry.update, _command_update(entry))
    return cls


@workflow.defn
@_command_updates
class MentorshipWorkflow:
    """The lifecycle of one relationship: matched → onboarding → active ⇄ paused → closed."""

    @workflow.init
    def __init__(self, request: MentorshipWorkflowInput) -> None:
        info = workflow.info()
        self._input = request
        self._state = request.state or MentorshipState(
            stream_id=info.workflow_id,
            mentor_id=request.mentor_id,
            mentee_id=request.mentee_id,
            terms=request.terms,
        )
        self._lock = asyncio.Lock()
        self._changed = False
        self._review_requests: list[str] = []
        # The opening facts are recorded by whichever runs first, the main loop or an update
        # delivered with the start; until then, validators see the state they will create.
        self._pending_start: list[DomainEvent] = [] if request.state else _opening_events(request)

    def _current(self) -> MentorshipState:
        if self._pending_start:
            return replay(self._state, self._pending_start)
        return self._state

    async def _record_pending_start(self) -> None:
        """Record the opening facts if nobody has yet (the caller holds the lock)."""
        if self._pending_start:
            await self._append(self._pending_start)
            self._pending_start = []  # only now: validators meanwhile still need them

    @workflow.run
    async def run(self, request: MentorshipWorkflowInput) -> MentorshipWorkflowResult:
        """Drive the relationship until it is closed."""
        workflow.upsert_memo(
            {"cohort_id": request.cohort_id, "program": request.terms.program_name}
        )
        async with self._lock:
            await self._record_pending_start()
        self._publish_status()

        while self._state.stage is not Stage.CLOSED:
            if self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(request.model_copy(update={"state": self._state}))
            await self._sleep_until_something_is_due()
            await self._handle_due()

        await workflow.wait_condition(workflow.all_handlers_finished)
        return MentorshipWorkflowResult(
            stream_id=self._state.stream_id,
            reason=self._state.closure_reason or "completed",
            conversations_held=self._state.conversations_held,
            conversations_missed=self._state.total_misses,
            goals_achieved=sum(g.status == "achieved" for g in self._state.goals.values()),
            stream_version=self._state.version,
        )

    # -- the rhythm -------------------------------------------------------------------------

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_limit
        )

    async def _sleep_until_something_is_due(self) -> None:
        wakeup = next_wakeup(self._state)
        self._changed = False
        if self._review_requests:
            return
        timeout = None if wakeup is None else max(wakeup - workflow.now(), timedelta(0))
        if timeout == timedelta(0):
            return
        with contextlib.suppress(TimeoutError):  # the due moment came: nothing to report
            await workflow.wait_condition(
                lambda: self._changed or bool(self._review_requests) or self._history_is_long(),
                timeout=timeout,
                timeout_summary=self._details(wakeup),
            )

    async def _handle_due(self) -> None:
        async with self._lock:
            now = workflow.now()
            # What the rhythm records (reminders, misses, escalations, review cycles) is
            # caused by this wake-up of the workflow's own timer.
            fired = timer_origin(self._state.stream_id, now)
            events = due_events(self._state, now)
            if events:
                await self._append(events, origin=fired)
            cycles = review_cycles_due(self._state, now) + self._review_requests
            self._review_requests = []
            for cycle_id in dict.fromkeys(cycles):
                if cycle_id in self._state.review_cycles_started:
                    continue
                if self._state.stage not in (Stage.ONBOARDING, Stage.ACTIVE, Stage.PAUSED):
                    continue
                summary = await workflow.execute_activity_method(
                    ReviewActivities.draft_review_summary,
                    DraftReviewSummaryInput(
                        stream_id=self._state.stream_id,
                        mentor_id=self._state.mentor_id,
                        mentee_id=self._state.mentee_id,
                        terms=self._state.terms,
                        up_to_version=self._state.version,
                        as_of=now,
                    ),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                    summary=f"draft review summary for cycle {cycle_id}",
                )
                await self._append(
                    [
                        m.ReviewSummaryDrafted(
                            cycle_id=cycle_id,
                            summary=summary,
                            respond_by=now + self._state.terms.effective_review_window,
                        )
                    ],
                    origin=fired,
                )

    # -- recording --------------------------------------------------------------------------

    async def _record(self, events: Sequence[DomainEvent]) -> None:
        async with self._lock:
            await self._append(events)

    async def _append(self, events: Sequence[DomainEvent], *, origin: Origin | None = None) -> None:
        """Append under the lock held by the caller, then fold the events into the state.

        ``origin``: the ids the events carry when not those of the handler running
        (`workflows.recording.record_events`).
        """
        version = self._state.version
        await record_events(self._state.stream_id, version, events, origin=origin)
        previous_stage = self._state.stage
        state = replay(self._state, events)
        state.version = version + len(events)
        self._state = state
        self._changed = True
        self._publish_status()
        if state.stage is not previous_stage and workflow.patched(REPORT_STAGES_PATCH):
            await self._signal_cohort(
                "mentorship_stage_changed",
                StageChangedSignal(stream_id=state.stream_id, stage=state.stage.value),
            )

    def _publish_status(self) -> None:
        state = self._state
        workflow.upsert_search_attributes(
            [
                sa.COHORT_ID.value_set(self._input.cohort_id),
                sa.MENTOR_ID.value_set(state.mentor_id),
                sa.MENTEE_ID.value_set(state.mentee_id),
                sa.STAGE.value_set(state.stage.value),
                sa.MISSED_CONVERSATIONS.value_set(state.consecutive_misses),
                sa.NEXT_CONVERSATION_DUE.value_set(state.next_conversation_due)
                if state.next_conversation_due is not None and state.stage is Stage.ACTIVE
                else sa.NEXT_CONVERSATION_DUE.value_unset(),
            ]
        )
        workflow.set_current_details(self._details(next_wakeup(state)))

    def _details(self, wakeup: datetime | None) -> str:
        state = self._state
        number = state.conversations_held + state.total_misses + 1
        if state.stage is Stage.ACTIVE and state.next_conversation_due is not None:
            due = state.next_conversation_due
            waiting = f"waiting for conversation {number}, due {due:%Y-%m-%d %H:%M}"
        elif state.stage is Stage.ONBOARDING:
            waiting = f"onboarding, {len(state.missing_for_onboarding())} steps missing"
        elif state.stage is Stage.CLOSING and state.survey_closes_at is not None:
            waiting = f"closing, surveys open until {state.survey_closes_at:%Y-%m-%d %H:%M}"
        else:
            waiting = state.stage.value
        if wakeup is not None:
            waiting += f"; next check {wakeup:%Y-%m-%d %H:%M}"
        return waiting

    # -- updates: one per command of the table, generated by `_command_updates` --------------

    def _validate(self, command: c.MentorshipCommand) -> None:
        state = self._current()
        denied = permission_problems(state, command)
        if denied:
            raise ApplicationError(
                "; ".join(denied), denied, type="NotPermitted", non_retryable=True
            )
        problems = check(state, command, workflow.now())
        if isinstance(command, c.ApproveReviewSummary) and QUOTES_PRIVATE_NOTES in problems:
            return  # refused by the handler, which counts it (see QUOTE_ATTEMPTS)
        if problems:
            raise ApplicationError(
                "; ".join(problems), problems, type="CommandRejected", non_retryable=True
            )

    async def _execute(self, command: c.MentorshipCommand) -> CommandResult:
        async with self._lock:
            await self._record_pending_start()
            try:
                events = decide(self._state, command, workflow.now())
            except NotPermitted as denied:
                raise ApplicationError(
                    str(denied), denied.problems, type="NotPermitted", non_retryable=True
                ) from denied
            except CommandRejected as rejected:
                if QUOTES_PRIVATE_NOTES in rejected.problems and isinstance(
                    command, c.ApproveReviewSummary
                ):
                    self._count_quote_refusal(command.cycle_id)
                raise ApplicationError(
                    str(rejected), rejected.problems, type="CommandRejected", non_retryable=True
                ) from rejected
            try:
                await self._append(events)
            except ActivityError as failed:
                # The store refused the data itself (e.g. a NUL past validation): reject this
                # update cleanly; nothing was recorded and the relationship carries on.
                if _not_storable(failed):
                    raise ApplicationError(
                        "the change cannot be stored; nothing was recorded",
                        ["the change holds data the event store refuses"],
                        type="CommandRejected",
                        non_retryable=True,
                    ) from failed
                raise
        if any(isinstance(event, m.RematchRequested) for event in events):
            await self._report_rematch(command)
        return CommandResult(
            stream_version=self._state.version,
            recorded=[event.event_type for event in events],
            created_ids=_created_ids(events),
            conversation_number=next(
                (e.conversation_number for e in events if isinstance(e, m.ConversationHeld)),
                None,
            ),
        )

    def _count_quote_refusal(self, cycle_id: str) -> None:
        """Count an edit refused for quoting private notes (bounds that oracle per cycle)."""
        review = self._state.reviews.get(cycle_id)
        if review is not None:
            reviews = {
                **self._state.reviews,
                cycle_id: review.model_copy(update={"quote_refusals": review.quote_refusals + 1}),
            }
            self._state = self._state.model_copy(update={"reviews": reviews})

    async def _report_rematch(self, command: c.MentorshipCommand) -> None:
        state = self._state
        await self._signal_cohort(
            "mentorship_rematch_requested",
            RematchRequestedSignal(
                stream_id=state.stream_id,
                mentee_id=state.mentee_id,
                previous_mentor_id=state.mentor_id,
                reason=(
                    command.reason
                    if isinstance(command, c.RequestRematch)
                    else f"closed: {command.reason}"
                    if isinstance(command, c.CloseMentorship)
                    else ""
                ),
                open_goals=[
                    CarriedGoal(
                        horizon=goal.horizon,
                        description=goal.description,
                        motivation=goal.motivation,
                        strengths=list(goal.strengths),
                        target_date=goal.target_date,
                    )
                    for goal in state.goals.values()
                    if goal.status == "active"
                ],
                open_action_items=[
                    m.ActionItem(
                        item_id=item.item_id,
                        owner=item.owner,
                        description=item.description,
                        due_at=item.due_at,
                    )
                    for item in state.open_action_items()
                ],
            ),
        )

    async def _signal_cohort(self, signal: str, payload: object) -> None:
        cohort = workflow.get_external_workflow_handle(cohort_workflow_id(self._input.cohort_id))
        try:
            await cohort.signal(signal, payload)
        except Exception:
            # A relationship may run without a cohort workflow (an import, a test); its
            # events are in the store and on the bus either way.
            workflow.logger.warning("cohort workflow not reachable", extra={"signal": signal})

    # -- signals and queries ----------------------------------------------------------------

    @workflow.signal
    def start_review_cycle(self, request: StartReviewCycle) -> None:
        """HR starts a review cycle now."""
        self._review_requests.append(request.cycle_id)

    @workflow.query
    def private_notes(self, request: PrivateNotesInput) -> PrivateNotesResult:
        """One participant's own private notes (their author's only; HR asks for nobody's)."""
        return PrivateNotesResult(
            notes=[
                note for note in self._state.authored_notes if note.author_id == request.person_id
            ]
        )

    @workflow.query
    def state(self) -> MentorshipSnapshot:
        """The full snapshot, private notes excepted."""
        return MentorshipSnapshot.model_validate(
            {
                **self._state.model_dump(exclude={"private_notes", "authored_notes"}),
                "overdue_action_items": [
                    item.item_id for item in self._state.action_items_overdue_at(workflow.now())
                ],
                "details": self._details(next_wakeup(self._state)),
            }
        )


def _opening_events(request: MentorshipWorkflowInput) -> list[DomainEvent]:
    return [
        m.MentorshipMatched(
            cohort_id=request.cohort_id,
            mentor_id=request.mentor_id,
            mentee_id=request.mentee_id,
            match_score=request.match_score,
            reasons=list(request.match_reasons),
            program_ends_at=request.terms.ends_at,
            conversation_cadence=request.terms.conversation_cadence,
            rematch_of=request.rematch_of,
            mentor_capacity=request.mentor_capacity,
        ),
        m.OnboardingStarted(
            deadline=workflow.now() + request.terms.onboarding_window,
            training_modules=list(request.terms.training_modules),
        ),
        *(
            m.GoalSet(
                goal_id=f"g-{number}",
                horizon=goal.horizon,
                description=goal.description,
                motivation=goal.motivation,
                strengths=list(goal.strengths),
                target_date=goal.target_date,
            )
            for number, goal in enumerate(request.carried_goals, start=1)
        ),
        *(
            [
                m.ActionItemsCarriedOver(
                    from_stream_id=request.rematch_of or "",
                    items=[
                        item.model_copy(update={"item_id": f"a-{number}"})
                        for number, item in enumerate(request.carried_action_items, start=1)
                    ],
                )
            ]
            if request.carried_action_items
            else []
        ),
    ]


def _not_storable(failed: ActivityError) -> bool:
    cause = failed.cause
    return isinstance(cause, ApplicationError) and cause.type == "EventsNotStorable"


def _created_ids(events: Sequence[DomainEvent]) -> list[str]:
    ids: list[str] = []
    for event in events:
        if isinstance(event, m.GoalSet):
            ids.append(event.goal_id)
        elif isinstance(event, m.ConversationHeld):
            ids.extend(item.item_id for item in event.action_items)
        elif isinstance(event, m.ChallengeSet):
            ids.append(event.challenge_id)
    return ids
