"""Pieces of a relationship's state that several read models need: who, which stage, items.

Each projection keeps its own copy in its own state (read models are independent). The
stage and the shifting of open items by a pause follow the domain's lifecycle rules
(`domain.mentorship.lifecycle`), the same functions the workflow's state folds with, so a
read model and the workflow agree on where a relationship stands; an item is the domain's
action-item fields and statuses (`domain.mentorship.values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.mentorship.lifecycle import STAGE_RULES, shift_open_items
from domain.mentorship.values import ActionItemStatus
from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers
from events.mentorship import ItemOwner

_MATCHED = m.MentorshipMatched


@dataclass(slots=True)
class Relationship:
    """Who is in a relationship and the stage it is in (the contract's stage names).

    The stage is stored as its name (JSON of the projection's state), empty until the
    relationship is matched.
    """

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
        STAGE_RULES.apply(self, event, None)
        if type(event) is _MATCHED:
            self.cohort_id, self.mentor_id, self.mentee_id = (
                event.cohort_id,
                event.mentor_id,
                event.mentee_id,
            )
            self.rematch_of = event.rematch_of
            self.mentor_capacity = event.mentor_capacity


@dataclass(slots=True)
class TrackedItem:
    """An action item as read models follow it (keyed by its id in `ActionItems`).

    The fields of `domain.mentorship.values.ActionItemFields` (owner, description, due date)
    and their follow-up, as a slots dataclass rather than that pydantic model: items are
    created and updated on the hot path of a rebuild, where a pydantic model costs about
    three times as much to build and to change.
    """

    owner: ItemOwner
    conversation_number: int
    due_at: datetime
    status: ActionItemStatus = "open"
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
    """Whether items keep their description (only read models that show it do)."""

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


_ITEMS = EventHandlers[ActionItems, datetime]()


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
    shift_open_items(state.items.values(), event.paused_for)
