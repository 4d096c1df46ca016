"""What the notifier keeps of a relationship: its people and its conversation series.

Folded from the relationship's own events as they arrive on the bus (`follow`), stored with
the stream version it has taken into account (table ``notifications.pairs``). The series is
the pair's recurring calendar event: when the next conversation is due, the rhythm, the end,
and the iTIP ``SEQUENCE`` that every change of rhythm raises (a held or missed conversation
that moves the next due date, a pause, a resume, the close), so calendar clients update the
one series instead of collecting invitations.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from events import DomainEvent
from events import mentorship as m

SeriesChange = Literal["REQUEST", "CANCEL"]


class Series(BaseModel):
    """The pair's conversation series as last sent (or about to be)."""

    model_config = ConfigDict(extra="forbid")

    first_due: datetime
    until: datetime
    sequence: int = 0
    cancelled: bool = False


class PairState(BaseModel):
    """A relationship as the notifier knows it."""

    model_config = ConfigDict(extra="forbid")

    cohort_id: str = ""
    mentor_id: str = ""
    mentee_id: str = ""
    program_ends_at: datetime | None = None
    cadence: timedelta | None = None
    stage: str = "matched"
    series: Series | None = None

    @property
    def known(self) -> bool:
        """Whether the match (who the two people are) was seen."""
        return bool(self.mentor_id and self.mentee_id)

    def person(self, side: str) -> str:
        """The person id of ``side`` (``mentor`` or ``mentee``)."""
        return self.mentor_id if side == "mentor" else self.mentee_id

    def follow(self, event: DomainEvent, occurred_at: datetime) -> SeriesChange | None:
        """Fold ``event``; what the series needs sent because of it, if anything."""
        match event:
            case m.MentorshipMatched():
                self.cohort_id, self.mentor_id = event.cohort_id, event.mentor_id
                self.mentee_id = event.mentee_id
                self.program_ends_at, self.cadence = (
                    event.program_ends_at,
                    event.conversation_cadence,
                )
                return None
            case m.ConversationReminderDue():
                return self._due(event.due_at, announce_first=True)
            case m.ConversationHeld() | m.ConversationMissed():
                self.stage = "active"
                return self._due(event.next_conversation_due, announce_first=True)
            case m.MentorshipPaused():
                self.stage = "paused"
                return self._end_at(event.paused_at)
            case m.MentorshipResumed():
                self.stage = "active"
                if event.next_conversation_due is None or self.series is None:
                    return self._due(event.next_conversation_due, announce_first=True)
                return self._restart(event.next_conversation_due)
            case m.ClosureStarted():
                self.stage = "closing"
                return self._cancel()
            case m.MentorshipClosed():
                self.stage = "closed"
                return self._cancel()
        return None

    def _due(self, due: datetime | None, *, announce_first: bool) -> SeriesChange | None:
        if due is None or self.cadence is None or self.program_ends_at is None:
            return None
        if self.series is None:
            self.series = Series(first_due=due, until=self.program_ends_at)
            return "REQUEST" if announce_first else None
        if self.series.cancelled or self.stage == "paused" or due == self.series.first_due:
            return None
        if _on_rhythm(self.series.first_due, due, self.cadence):
            return None  # the next occurrence of the series as sent: nothing changed
        return self._restart(due)

    def _restart(self, due: datetime) -> SeriesChange | None:
        if self.series is None or self.series.cancelled or self.program_ends_at is None:
            return None
        self.series = Series(
            first_due=due, until=self.program_ends_at, sequence=self.series.sequence + 1
        )
        return "REQUEST"

    def _end_at(self, at: datetime) -> SeriesChange | None:
        if self.series is None or self.series.cancelled:
            return None
        self.series = self.series.model_copy(
            update={"until": min(at, self.series.until), "sequence": self.series.sequence + 1}
        )
        return "REQUEST"

    def _cancel(self) -> SeriesChange | None:
        if self.series is None or self.series.cancelled:
            return None
        self.series = self.series.model_copy(
            update={"cancelled": True, "sequence": self.series.sequence + 1}
        )
        return "CANCEL"


def _on_rhythm(first: datetime, due: datetime, cadence: timedelta) -> bool:
    """Whether ``due`` is an occurrence of the series starting at ``first`` every ``cadence``."""
    if due < first or cadence <= timedelta(0):
        return False
    return (due - first) % cadence == timedelta(0)
