"""Review summaries: per relationship (hence per mentee) and review cycle, with its status.

A draft awaits the mentee; once shared, the row holds the summary as the mentee approved it
(the text the performance-review system receives); a withheld summary keeps its draft, which
only the mentee may read (the API decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers
from projections.base import SingleStateProjection
from projections.dispatch import StateCodec
from projections.relationship import Relationship
from projections.tables import Rows, Table

SUMMARIES = Table(
    "review_summaries",
    (
        "stream_id",
        "cycle_id",
        "cohort_id",
        "mentee_id",
        "mentor_id",
        "status",
        "drafted_at",
        "respond_by",
        "decided_at",
        "edited_by_mentee",
        "goals",
        "skills_developed",
        "action_items_completed",
        "action_items_overdue",
        "conversations_held",
        "conversations_expected",
        "feedback_themes",
        "summary",
    ),
    key_size=2,
)


@dataclass(slots=True)
class CycleSummary:
    """One review cycle's summary and where it stands."""

    drafted_at: datetime
    respond_by: datetime
    summary: m.ReviewSummary
    status: Literal["awaiting_mentee", "shared", "withheld"] = "awaiting_mentee"
    decided_at: datetime | None = None
    edited_by_mentee: bool = False


@dataclass(slots=True)
class ReviewState:
    """The relationship and its review cycles."""

    relationship: Relationship = field(default_factory=Relationship)
    cycles: dict[str, CycleSummary] = field(default_factory=dict)


_CODEC = StateCodec(ReviewState)
_HANDLERS = EventHandlers[ReviewState, datetime]()


@_HANDLERS.on(m.ReviewSummaryDrafted)
def _drafted(state: ReviewState, event: m.ReviewSummaryDrafted, at: datetime) -> None:
    state.cycles[event.cycle_id] = CycleSummary(
        drafted_at=at, respond_by=event.respond_by, summary=event.summary
    )


@_HANDLERS.on(m.ReviewSummaryShared)
def _shared(state: ReviewState, event: m.ReviewSummaryShared, at: datetime) -> None:
    if cycle := state.cycles.get(event.cycle_id):
        cycle.status, cycle.decided_at = "shared", at
        cycle.summary, cycle.edited_by_mentee = event.summary, event.edited_by_mentee


@_HANDLERS.on(m.ReviewSummaryWithheld)
def _withheld(state: ReviewState, event: m.ReviewSummaryWithheld, at: datetime) -> None:
    if cycle := state.cycles.get(event.cycle_id):
        cycle.status, cycle.decided_at = "withheld", at


class ReviewSummaries(SingleStateProjection[ReviewState]):
    """Drafted, shared and withheld summaries per review cycle."""

    name = "review_summaries"
    description = "Per relationship and review cycle: the summary and its status."
    stream_types = frozenset({"mentorship"})
    tables = (SUMMARIES,)

    def __init__(self) -> None:
        super().__init__(ReviewState, _CODEC)

    def apply(self, state: ReviewState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        state.relationship.follow(event, occurred_at)
        _HANDLERS.apply(state, event, occurred_at)

    def rows(self, stream_id: str, state: ReviewState) -> Rows:
        """One row per cycle."""
        relationship = state.relationship
        return {
            SUMMARIES.name: [
                (
                    stream_id,
                    cycle_id,
                    relationship.cohort_id,
                    relationship.mentee_id,
                    relationship.mentor_id,
                    cycle.status,
                    cycle.drafted_at,
                    cycle.respond_by,
                    cycle.decided_at,
                    cycle.edited_by_mentee,
                    list(cycle.summary.goals),
                    list(cycle.summary.skills_developed),
                    cycle.summary.action_items_completed,
                    cycle.summary.action_items_overdue,
                    cycle.summary.conversations_held,
                    cycle.summary.conversations_expected,
                    list(cycle.summary.feedback_themes),
                    cycle.summary.text,
                )
                for cycle_id, cycle in state.cycles.items()
            ]
        }
