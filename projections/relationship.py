"""Pieces of a relationship's state that several read models need: who, which stage, items.

Each projection keeps its own copy in its own state (read models are independent), but the
rules for following a stage or an action item live here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from events import DomainEvent
from events import mentorship as m
from projections.dispatch import Handlers

ACTIVE_STAGES = frozenset({"matched", "onboarding", "active", "paused"})
"""Stages in which a relationship occupies its mentor (closing and closed free the place)."""


@dataclass(slots=True)
class Relationship:
    """Who is in a relationship and the stage it is in (the contract's stage names)."""

    cohort_id: str = ""
    mentor_id: str = ""
    mentee_id: str = ""
    stage: str = ""
    stage_before_pause: str | None = None
    rematch_of: str | None = None
    mentor_capacity: int | None = None

    @property
    def known(self) -> bool:
        """Whether ``MentorshipMatched`` was applied (rows exist from then on)."""
        return bool(self.cohort_id)

    def follow(self, event: DomainEvent, occurred_at: datetime) -> None:
        """Track ids and stage through ``event``; other events change nothing."""
        _RELATIONSHIP.apply(self, event, occurred_at)


_RELATIONSHIP = Handlers[Relationship]()


@_RELATIONSHIP.on(m.MentorshipMatched)
def _matched(state: Relationship, event: m.MentorshipMatched, _: datetime) -> None:
    state.cohort_id, state.mentor_id, state.mentee_id = (
        event.cohort_id,
        event.mentor_id,
        event.mentee_id,
    )
    state.rematch_of = event.rematch_of
    state.mentor_capacity = event.mentor_capacity
    state.stage = "matched"


@_RELATIONSHIP.on(m.OnboardingStarted)
def _onboarding(state: Relationship, event: m.OnboardingStarted, _: datetime) -> None:
    state.stage = "onboarding"


@_RELATIONSHIP.on(m.OnboardingCompleted)
def _active(state: Relationship, event: m.OnboardingCompleted, _: datetime) -> None:
    state.stage = "active"


@_RELATIONSHIP.on(m.MentorshipPaused)
def _paused(state: Relationship, event: m.MentorshipPaused, _: datetime) -> None:
    state.stage_before_pause, state.stage = state.stage, "paused"


@_RELATIONSHIP.on(m.MentorshipResumed)
def _resumed(state: Relationship, event: m.MentorshipResumed, _: datetime) -> None:
    state.stage, state.stage_before_pause = state.stage_before_pause or "active", None


@_RELATIONSHIP.on(m.ClosureStarted)
def _closing(state: Relationship, event: m.ClosureStarted, _: datetime) -> None:
    state.stage = "closing"


@_RELATIONSHIP.on(m.MentorshipClosed)
def _closed(state: Relationship, event: m.MentorshipClosed, _: datetime) -> None:
    state.stage = "closed"


@dataclass(slots=True)
class TrackedItem:
    """An action item as read models follow it."""

    owner: str
    conversation_number: int
    due_at: datetime
    status: Literal["open", "completed"] = "open"
    completed_at: datetime | None = None
    check_in_due: bool = False
    """The workflow reported the due date reached while the item was open."""
    description: str = ""
    """Kept only by read models that show it (the development plan)."""

    @property
    def overdue(self) -> bool:
        """Open past its due date, as the workflow's clock says (`ActionItemCheckInDue`).

        Read models follow the workflow's clock, not the reader's: a row must not change
        without an event, or a rebuild could not reproduce it.
        """
        return self.status == "open" and self.check_in_due


@dataclass(slots=True)
class ActionItems:
    """The action items of a relationship, by id."""

    items: dict[str, TrackedItem] = field(default_factory=dict)
    keep_descriptions: bool = False

    def follow(self, event: DomainEvent, occurred_at: datetime) -> None:
        """Track the items through ``event``; other events change nothing."""
        _ITEMS.apply(self, event, occurred_at)

    @property
    def created(self) -> int:
        """Every item ever agreed."""
        return len(self.items)

    @property
    def open(self) -> int:
        """Items not completed."""
        return sum(item.status == "open" for item in self.items.values())

    @property
    def overdue(self) -> int:
        """Open items past their due date."""
        return sum(item.overdue for item in self.items.values())

    @property
    def completed(self) -> int:
        """Completed items."""
        return sum(item.status == "completed" for item in self.items.values())


_ITEMS = Handlers[ActionItems]()


@_ITEMS.on(m.ConversationHeld)
def _agreed(state: ActionItems, event: m.ConversationHeld, _: datetime) -> None:
    for agreed in event.action_items:
        state.items[agreed.item_id] = TrackedItem(
            owner=agreed.owner,
            conversation_number=event.conversation_number,
            due_at=agreed.due_at,
            description=agreed.description if state.keep_descriptions else "",
        )


@_ITEMS.on(m.ActionItemCompleted)
def _completed(state: ActionItems, event: m.ActionItemCompleted, _: datetime) -> None:
    if item := state.items.get(event.item_id):
        item.status, item.completed_at = "completed", event.completed_at


@_ITEMS.on(m.ActionItemRescheduled)
def _rescheduled(state: ActionItems, event: m.ActionItemRescheduled, _: datetime) -> None:
    if item := state.items.get(event.item_id):
        item.due_at, item.check_in_due = event.due_at, False


@_ITEMS.on(m.ActionItemCheckInDue)
def _check_in(state: ActionItems, event: m.ActionItemCheckInDue, _: datetime) -> None:
    if item := state.items.get(event.item_id):
        item.check_in_due = True


@_ITEMS.on(m.MentorshipResumed)
def _shifted(state: ActionItems, event: m.MentorshipResumed, _: datetime) -> None:
    # The workflow shifts open items by the pause (domain evolve does the same).
    for item in state.items.values():
        if item.status == "open":
            item.due_at += event.paused_for
