"""What participants, HR and ops ask of a relationship (the workflow's update inputs).

Models check types only; the rules (at least one goal, an action plan, …) live in
`domain.mentorship.decisions`, which names every problem at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.mentorship import ClosureReason, GoalHorizon, ItemOwner


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompleteTraining(_Command):
    """A participant finished a training module."""

    person_id: str
    module: str


class AddGoal(_Command):
    """The mentee records a career goal."""

    horizon: GoalHorizon
    description: str
    motivation: str = ""
    strengths: list[str] = Field(default_factory=list)
    target_date: AwareDatetime | None = None


class ReviseGoal(_Command):
    """Change a goal's wording, target date or progress."""

    goal_id: str
    description: str | None = None
    target_date: AwareDatetime | None = None
    progress: int | None = None


class AchieveGoal(_Command):
    """Mark a goal as reached."""

    goal_id: str


class DropGoal(_Command):
    """Abandon a goal."""

    goal_id: str
    reason: str = ""


class ActionItemInput(_Command):
    """One step of an action plan."""

    owner: ItemOwner
    description: str
    due_at: AwareDatetime


class LogConversation(_Command):
    """A career conversation, concluded with an action plan."""

    held_at: AwareDatetime
    goal_ids: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    feedback_to_mentee: str = ""
    feedback_to_mentor: str = ""
    notes: str = ""
    action_items: list[ActionItemInput] = Field(default_factory=list)


class CompleteActionItem(_Command):
    """An action item is done."""

    item_id: str


class RescheduleActionItem(_Command):
    """Give an action item a new due date."""

    item_id: str
    due_at: AwareDatetime
    reason: str = ""


class SetChallenge(_Command):
    """The mentor sets a skill-development challenge."""

    skill: str
    description: str
    due_at: AwareDatetime


class RecordChallengeProgress(_Command):
    """Progress on a challenge, 0..100 percent."""

    challenge_id: str
    progress: int
    note: str = ""


class ApproveReviewSummary(_Command):
    """The mentee approves a review summary, optionally with their own wording."""

    cycle_id: str
    edited_text: str | None = None


class PauseMentorship(_Command):
    """Put the relationship on hold."""

    reason: str


class ResumeMentorship(_Command):
    """Continue after a pause."""


class CloseMentorship(_Command):
    """End the relationship early (or as completed)."""

    reason: ClosureReason


class RequestRematch(_Command):
    """End the relationship so that the mentee is matched again."""

    reason: str


class SubmitSurvey(_Command):
    """A closing-survey answer."""

    person_id: str
    satisfaction: int
    value: int
    would_recommend: bool
    comment: str = ""


class ExtendDeadline(_Command):
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
    | ExtendDeadline
)
