"""What the mentorship routes answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from events.mentorship import ReviewSummary

Stage = Literal["matched", "onboarding", "active", "paused", "closing", "closed"]


class CommandAccepted(BaseModel):
    """A change the relationship accepted and recorded."""

    mentorship_id: str
    stream_version: int = Field(description="The relationship's event stream version after it")
    recorded: list[str] = Field(description="Event types recorded, follow-ups included")
    created_ids: list[str] = Field(
        default_factory=list, description="Ids of goals, action items or challenges created"
    )
    conversation_number: int | None = Field(
        default=None, description="The number of the conversation recorded, if one was"
    )


class ConversationLogged(CommandAccepted):
    """A conversation was recorded with its action plan."""

    action_item_ids: list[str] = Field(description="Ids of the action plan's items, in order")


class GoalAdded(CommandAccepted):
    """A goal was recorded."""

    goal_id: str


class ChallengeSet(CommandAccepted):
    """A challenge was set."""

    challenge_id: str


class MentorshipOverview(BaseModel):
    """The relationship's figures from the read model (they may trail the live stage)."""

    stage: Stage
    match_score: float | None
    rematch_of: str | None
    matched_at: datetime | None
    conversations_held: int
    conversations_missed: int
    conversations_expected: int
    consecutive_misses: int
    last_conversation_at: datetime | None
    next_conversation_due: datetime | None
    action_items_open: int
    action_items_overdue: int
    action_items_completed: int
    escalations: int
    closure_reason: str | None
    updated_at: datetime


class MentorshipView(BaseModel):
    """A relationship: who, its live stage, and its figures."""

    mentorship_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str
    stage: Stage = Field(description="Live from the workflow when it answered, else projected")
    stage_source: Literal["workflow", "read_model"]
    details: str | None = Field(
        description="What the workflow waits for, e.g. 'waiting for conversation 7, due …'"
    )
    overview: MentorshipOverview | None = Field(
        description="Null until the relationship's first events are projected"
    )


class PersonMentorship(BaseModel):
    """One of a person's relationships, and their side in it."""

    mentorship_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str
    side: Literal["mentor", "mentee"]
    overview: MentorshipOverview


class PersonMentorships(BaseModel):
    """A person's relationships, a page at a time (mentor or mentee)."""

    person_id: str
    items: list[PersonMentorship]
    next_after: str | None = Field(
        default=None, description="Pass as `after` for the next page; null on the last page"
    )


class ReviewSummaryView(BaseModel):
    """A review cycle's summary as drafted (or shared), for the mentee to read first."""

    mentorship_id: str
    cycle_id: str
    status: Literal["awaiting_mentee", "shared", "withheld"]
    respond_by: datetime
    summary: ReviewSummary


class PrivateNoteView(BaseModel):
    """One conversation's private notes."""

    conversation_number: int
    text: str


class PrivateNotesView(BaseModel):
    """The caller's own private notes in a relationship (personal data: theirs alone)."""

    mentorship_id: str
    notes: list[PrivateNoteView]
