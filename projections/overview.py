"""Mentorship overview: one row per relationship for HR lists and the mentorship endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers
from projections.base import SingleStateProjection
from projections.dispatch import StateCodec
from projections.relationship import ActionItems, Relationship
from projections.tables import Rows, Table

OVERVIEW = Table(
    "mentorship_overview",
    (
        "stream_id",
        "cohort_id",
        "mentor_id",
        "mentee_id",
        "stage",
        "match_score",
        "rematch_of",
        "matched_at",
        "conversations_held",
        "conversations_missed",
        "conversations_expected",
        "consecutive_misses",
        "last_conversation_at",
        "next_conversation_due",
        "action_items_open",
        "action_items_overdue",
        "action_items_completed",
        "escalations",
        "closure_reason",
        "updated_at",
    ),
)

# The next conversation is only meaningful while the cadence runs: a paused relationship
# gets a new due date when it resumes, a closing one has none.
_CADENCE_STAGES = frozenset({"onboarding", "active"})


@dataclass(slots=True)
class OverviewState:
    """What the overview row of one relationship is made of."""

    relationship: Relationship = field(default_factory=Relationship)
    match_score: float | None = None
    matched_at: datetime | None = None
    conversations_held: int = 0
    conversations_missed: int = 0
    consecutive_misses: int = 0
    last_conversation_at: datetime | None = None
    next_conversation_due: datetime | None = None
    escalations: int = 0
    items: ActionItems = field(default_factory=ActionItems)
    closure_reason: str | None = None
    updated_at: datetime | None = None


_CODEC = StateCodec(OverviewState)
_HANDLERS = EventHandlers[OverviewState, datetime]()


@_HANDLERS.on(m.MentorshipMatched)
def _matched(state: OverviewState, event: m.MentorshipMatched, at: datetime) -> None:
    state.match_score, state.matched_at = event.match_score, at


@_HANDLERS.on(m.OnboardingCompleted)
def _active(state: OverviewState, event: m.OnboardingCompleted, _: datetime) -> None:
    state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.ConversationHeld)
def _held(state: OverviewState, event: m.ConversationHeld, _: datetime) -> None:
    state.conversations_held += 1
    state.consecutive_misses = 0
    state.last_conversation_at = event.held_at
    if event.next_conversation_due is not None:
        state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.ConversationMissed)
def _missed(state: OverviewState, event: m.ConversationMissed, _: datetime) -> None:
    state.conversations_missed += 1
    state.consecutive_misses = event.consecutive_misses
    state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.MentorshipEscalated)
def _escalated(state: OverviewState, event: m.MentorshipEscalated, _: datetime) -> None:
    state.escalations += 1


@_HANDLERS.on(m.MentorshipResumed)
def _resumed(state: OverviewState, event: m.MentorshipResumed, _: datetime) -> None:
    state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.DeadlineExtended)
def _extended(state: OverviewState, event: m.DeadlineExtended, _: datetime) -> None:
    if event.deadline == "conversation":
        state.next_conversation_due = event.new_deadline


@_HANDLERS.on(m.ClosureStarted, m.MentorshipClosed)
def _closing(
    state: OverviewState, event: m.ClosureStarted | m.MentorshipClosed, _: datetime
) -> None:
    state.closure_reason = event.reason


class MentorshipOverview(SingleStateProjection[OverviewState]):
    """Cohort, people, stage, match score, conversation rhythm and action items."""

    name = "mentorship_overview"
    description = "One row per relationship: stage, conversations, action items."
    stream_types = frozenset({"mentorship"})
    tables = (OVERVIEW,)

    def __init__(self) -> None:
        super().__init__(OverviewState, _CODEC)

    def apply(self, state: OverviewState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        state.relationship.follow(event, occurred_at)
        state.items.follow(event, occurred_at)
        state.updated_at = occurred_at
        _HANDLERS.apply(state, event, occurred_at)

    def rows(self, stream_id: str, state: OverviewState) -> Rows:
        """The overview row, once the relationship is matched."""
        relationship = state.relationship
        if not relationship.known or state.updated_at is None:
            return {OVERVIEW.name: []}
        next_due = state.next_conversation_due if relationship.stage in _CADENCE_STAGES else None
        row = (
            stream_id,
            relationship.cohort_id,
            relationship.mentor_id,
            relationship.mentee_id,
            relationship.stage,
            state.match_score,
            relationship.rematch_of,
            state.matched_at,
            state.conversations_held,
            state.conversations_missed,
            state.conversations_held + state.conversations_missed,
            state.consecutive_misses,
            state.last_conversation_at,
            next_due,
            state.items.open,
            state.items.overdue,
            state.items.completed,
            state.escalations,
            state.closure_reason,
            state.updated_at,
        )
        return {OVERVIEW.name: [row]}
