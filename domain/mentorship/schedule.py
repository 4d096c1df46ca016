"""The relationship's rhythm: which timer-driven facts are due, and when to wake up next.

`due_events(state, now)` returns every fact whose time has come, in time order, chaining
through the state (a long sleep can pass several due dates: each miss moves the next due
date on). `next_wakeup(state)` is the earliest moment at which `due_events` would return
something new. The workflow sleeps until then, or until an update changes the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from domain.mentorship.decisions import closed_event
from domain.mentorship.state import MentorshipState, Stage, evolve
from events import DomainEvent
from events import mentorship as m

_Factory = Callable[[], DomainEvent]
_MAX_CHAINED = 10_000
"""Safety bound on facts per wake-up; a real program never comes close."""


def review_cycle_id(moment: datetime) -> str:
    """The id of a calendar review cycle: its date."""
    return moment.date().isoformat()


def review_cycles_due(state: MentorshipState, now: datetime) -> list[str]:
    """Calendar review cycles whose date has come and whose summary is not drafted yet."""
    if state.stage not in (Stage.ONBOARDING, Stage.ACTIVE, Stage.PAUSED):
        return []
    return [
        review_cycle_id(moment)
        for moment in sorted(state.terms.review_cycles)
        if moment <= now and review_cycle_id(moment) not in state.review_cycles_started
    ]


def due_events(state: MentorshipState, now: datetime) -> list[DomainEvent]:
    """Every timer-driven fact due at ``now``, in order."""
    events: list[DomainEvent] = []
    for _ in range(_MAX_CHAINED):
        event = _next_due_event(state, now)
        if event is None:
            return events
        events.append(event)
        state = evolve(state, event)
    raise RuntimeError("too many chained timer events")


def next_wakeup(state: MentorshipState) -> datetime | None:
    """When the next timer-driven fact falls due (None: only an update can move things)."""
    moments = [moment for moment, _ in _candidates(state)]
    if state.stage in (Stage.ONBOARDING, Stage.ACTIVE, Stage.PAUSED):
        moments += [
            moment
            for moment in state.terms.review_cycles
            if review_cycle_id(moment) not in state.review_cycles_started
        ]
    return min(moments, default=None)


def _next_due_event(state: MentorshipState, now: datetime) -> DomainEvent | None:
    if (
        state.stage is Stage.ACTIVE
        and state.consecutive_misses >= state.terms.escalate_after_missed
        and not state.escalated_in_streak
    ):
        return m.MentorshipEscalated(
            consecutive_misses=state.consecutive_misses,
            reason=f"{state.consecutive_misses} consecutive conversations missed",
        )
    due = [(moment, factory) for moment, factory in _candidates(state) if moment <= now]
    if not due:
        return None
    _, factory = min(due, key=lambda pair: pair[0])
    return factory()


def _candidates(state: MentorshipState) -> list[tuple[datetime, _Factory]]:
    """(moment, event factory) for every pending timer-driven fact of the current stage."""
    if state.stage is Stage.CLOSED:
        return []
    if state.stage is Stage.CLOSING:
        if state.survey_closes_at is None:
            return []
        return [(state.survey_closes_at, lambda: closed_event(state))]
    terms = state.terms
    candidates: list[tuple[datetime, _Factory]] = [
        (
            terms.ends_at,
            lambda: m.ClosureStarted(
                reason="completed",
                survey_closes_at=terms.ends_at + terms.effective_survey_window,
            ),
        )
    ]
    candidates += _review_deadlines(state)
    if state.stage is Stage.PAUSED:
        return candidates  # timers of the rhythm stop counting while paused
    candidates += _action_item_check_ins(state)
    if state.stage is Stage.ONBOARDING:
        candidates += _onboarding(state)
    if state.stage is Stage.ACTIVE:
        candidates += _conversation(state)
    return candidates


def _review_deadlines(state: MentorshipState) -> list[tuple[datetime, _Factory]]:
    return [
        (review.respond_by, partial(m.ReviewSummaryWithheld, cycle_id=review.cycle_id))
        for review in state.reviews.values()
        if review.status == "awaiting_mentee"
    ]


def _action_item_check_ins(state: MentorshipState) -> list[tuple[datetime, _Factory]]:
    return [
        (
            item.due_at,
            partial(
                m.ActionItemCheckInDue, item_id=item.item_id, owner=item.owner, due_at=item.due_at
            ),
        )
        for item in state.open_action_items()
        if not item.checked_in
    ]


def _onboarding(state: MentorshipState) -> list[tuple[datetime, _Factory]]:
    deadline = state.onboarding_deadline
    if deadline is None:
        return []
    missing = state.missing_for_onboarding()
    candidates: list[tuple[datetime, _Factory]] = []
    if not state.onboarding_reminded:
        candidates.append(
            (
                deadline - state.terms.effective_reminder_lead,
                lambda: m.OnboardingReminderDue(deadline=deadline, missing=missing),
            )
        )
    if not state.onboarding_overdue:
        candidates.append(
            (deadline, lambda: m.OnboardingOverdue(deadline=deadline, missing=missing))
        )
    return candidates


def _conversation(state: MentorshipState) -> list[tuple[datetime, _Factory]]:
    due = state.next_conversation_due
    if due is None:
        return []
    terms = state.terms
    number = state.conversations_held + state.total_misses + 1
    candidates: list[tuple[datetime, _Factory]] = []
    if state.reminded_for_due != due:
        candidates.append(
            (
                due - terms.effective_reminder_lead,
                lambda: m.ConversationReminderDue(conversation_number=number, due_at=due),
            )
        )
    misses = state.consecutive_misses + 1
    candidates.append(
        (
            due + terms.grace_period,
            lambda: m.ConversationMissed(
                conversation_number=number,
                due_at=due,
                consecutive_misses=misses,
                next_conversation_due=due + terms.conversation_cadence,
            ),
        )
    )
    return candidates
