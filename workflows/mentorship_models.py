"""Inputs and results of the mentorship workflow (pydantic, so fields can be added safely)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.mentorship.state import MentorshipState, PrivateNote
from domain.mentorship.terms import ProgramTerms
from domain.mentorship.values import GoalFields
from events.mentorship import ActionItem, ClosureReason

DEFAULT_HISTORY_LIMIT = 5_000
"""Continue as new once a run's history has this many events (or when Temporal suggests)."""


class CarriedGoal(GoalFields):
    """An open goal the mentee takes into a new relationship after a rematch."""


class MentorshipWorkflowInput(BaseModel):
    """How a relationship starts (or continues, with ``state`` set, after continue-as-new)."""

    model_config = ConfigDict(frozen=True)

    cohort_id: str
    mentor_id: str
    mentee_id: str
    terms: ProgramTerms
    match_score: float = Field(default=0.0, ge=0, le=1)
    match_reasons: list[str] = Field(default_factory=list)
    rematch_of: str | None = None
    mentor_capacity: int | None = Field(default=None, ge=1)
    carried_goals: list[CarriedGoal] = Field(default_factory=list)
    carried_action_items: list[ActionItem] = Field(default_factory=list)
    history_limit: int = Field(default=DEFAULT_HISTORY_LIMIT, ge=100)
    state: MentorshipState | None = None


class MentorshipWorkflowResult(BaseModel):
    """How the relationship ended."""

    stream_id: str
    reason: ClosureReason
    conversations_held: int
    conversations_missed: int
    goals_achieved: int
    stream_version: int


class CommandResult(BaseModel):
    """The outcome of an accepted update: what was recorded and the ids it created."""

    stream_version: int
    recorded: list[str] = Field(description="Event types recorded, in order")
    created_ids: list[str] = Field(
        default_factory=list, description="Ids of goals, action items or challenges created"
    )
    conversation_number: int | None = Field(
        default=None, description="The number of the conversation recorded, if one was"
    )


class StartReviewCycle(BaseModel):
    """HR starts a review cycle outside the program's calendar."""

    cycle_id: str = Field(min_length=1, max_length=64)


class RematchRequestedSignal(BaseModel):
    """Sent to the cohort workflow when a relationship ends for a rematch.

    Carries the mentee's open goals and action items (never private notes) for the next one.
    """

    stream_id: str
    mentee_id: str
    previous_mentor_id: str
    reason: str
    open_goals: list[CarriedGoal] = Field(default_factory=list)
    open_action_items: list[ActionItem] = Field(default_factory=list)


class StageChangedSignal(BaseModel):
    """Sent to the cohort workflow when a relationship changes stage."""

    stream_id: str
    stage: str


class MentorshipSnapshot(MentorshipState):
    """What the ``state`` query answers: the relationship's state as the workflow holds it,
    without private notes, with the action items overdue now and the current details."""

    private_notes: list[str] = Field(default_factory=list, exclude=True)
    """Never answered: the notes stay in the workflow (and sealed in the store)."""
    authored_notes: list[PrivateNote] = Field(default_factory=list, exclude=True)
    """Never in the snapshot: an author reads their own with the ``private_notes`` query."""
    overdue_action_items: list[str] = Field(default_factory=list)
    details: str = ""


class PrivateNotesInput(BaseModel):
    """Whose private notes to answer: the asking participant's own."""

    person_id: str


class PrivateNotesResult(BaseModel):
    """A participant's own private notes, by conversation."""

    notes: list[PrivateNote] = Field(default_factory=list)
