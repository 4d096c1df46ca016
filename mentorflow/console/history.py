"""A relationship's conversation history, from its snapshot.

Conversations are numbered in the order the cadence asked for them, misses included (a
missed conversation takes a number: the next held one gets the one after). So the numbers
up to ``held + missed`` that have no time were missed, and each held one's action plan is
the action items recorded with its number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.mentorship.state import ActionItemState
from workflows.mentorship_models import MentorshipSnapshot


@dataclass(frozen=True)
class ConversationEntry:
    """One conversation the cadence asked for: held (when, its action plan) or missed."""

    number: int
    held_at: datetime | None
    action_plan: list[ActionItemState] = field(default_factory=list)

    @property
    def held(self) -> bool:
        """Whether it took place."""
        return self.held_at is not None


def conversation_history(state: MentorshipSnapshot) -> list[ConversationEntry]:
    """Every conversation so far, newest first."""
    plans: dict[int, list[ActionItemState]] = {}
    for item in sorted(state.action_items.values(), key=lambda item: (item.due_at, item.item_id)):
        plans.setdefault(item.conversation_number, []).append(item)
    times = {int(number): at for number, at in state.conversation_times.items()}
    last = max([state.conversations_held + state.total_misses, *times], default=0)
    return [
        ConversationEntry(number, times.get(number), plans.get(number, []))
        for number in range(last, 0, -1)
    ]
