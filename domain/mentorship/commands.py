"""What participants, HR and ops ask of a relationship (the workflow's update inputs).

Models check types only; the rules (at least one goal, an action plan, …) live in
`domain.mentorship.decisions`, which names every problem at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.mentorship import ClosureReason, GoalHorizon, ItemOwner


class Actor(BaseModel):
    """Who makes a change: a participant acting for their own side, or HR.

    The API sets it from the caller's token; the rules check it again (`decisions.permission
    _problems`). Commands without one come from holders of the payload key (ops tools,
    tests), who are trusted with everything.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["mentor", "mentee", "hr_admin"]
    person_id: str | None = None
    token_id: str | None = None


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor | None = None


class CompleteTraining(Command):
    """A participant finished a training module."""

    person_id: str
    module: str


class AddGoal(Command):
    """The mentee records a career goal."""

    horizon: GoalHorizon
    description: str
    motivation: str = ""
    strengths: list[str] = Field(default_factory=list)
    target_date: AwareDatetime | None = None


class ReviseGoal(Command):
    """Change a goal's wording, target date or progress."""

    goal_id: str
    description: str | None = None
    target_date: AwareDatetime | None = None
    progress: int | None = None


class AchieveGoal(Command):
    """Mark a goal as reached."""

    goal_id: str


class DropGoal(Command):
    """Abandon a goal."""

    goal_id: str
    reason: str = ""


class ActionItemInput(Command):
    """One step of an action plan."""

    owner: ItemOwner
    description: str
    due_at: AwareDatetime


class LogConversation(Command):
    """A career conversation, concluded with an action plan."""

    held_at: AwareDatetime
    goal_ids: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    feedback_to_mentee: str = ""
    feedback_to_mentor: str = ""
    notes: str = ""
    action_items: list[ActionItemInput] = Field(default_factory=list)


class CompleteActionItem(Command):
    """An action item is done."""

    item_id: str


class RescheduleActionItem(Command):
    """Give an action item a new due date."""

    item_id: str
    due_at: AwareDatetime
    reason: str = ""


class SetChallenge(Command):
    """The mentor sets a skill-development challenge."""

    skill: str
    description: str
    due_at: AwareDatetime


class RecordChallengeProgress(Command):
    """Progress on a challenge, 0..100 percent."""

    challenge_id: str
    progress: int
    note: str = ""


class ApproveReviewSummary(Command):
    """The mentee approves a review summary, optionally with their own wording."""

    cycle_id: str
    edited_text: str | None = None


class PauseMentorship(Command):
    """Put the relationship on hold."""

    reason: str


class ResumeMentorship(Command):
    """Continue after a pause."""


class CloseMentorship(Command):
    """End the relationship early (or as completed)."""

    reason: ClosureReason


class RequestRematch(Command):
    """End the relationship so that the mentee is matched again."""

    reason: str


class SubmitSurvey(Command):
    """A closing-survey answer."""

    person_id: str
    satisfaction: int
    value: int
    would_recommend: bool
    comment: str = ""


class GiveFeedback(Command):
    """A participant's own feedback to the other after a conversation, with ratings 1..5."""

    conversation_number: int
    usefulness: int | None = None
    listening: int | None = None
    clarity: int | None = None
    preparation: int | None = None
    follow_through: int | None = None
    comment: str = ""


class ExtendDeadline(Command):
    """Ops fix: move the onboarding deadline or the next conversation's due date."""

    deadline: Literal["onboarding", "conversation"]
    new_deadline: AwareDatetime
    reason: str


MentorshipCommand = (
    CompleteTraining
    | AddGoal
    | ReviseGoal
    | AchieveGoal
    | DropGoal
    | LogConversation
    | CompleteActionItem
    | RescheduleActionItem
    | SetChallenge
    | RecordChallengeProgress
    | ApproveReviewSummary
    | PauseMentorship
    | ResumeMentorship
    | CloseMentorship
    | RequestRematch
    | SubmitSurvey
    | GiveFeedback
    | ExtendDeadline
)
