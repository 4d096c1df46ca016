"""A mentee's development plan, one part per relationship."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PlanGoal(BaseModel):
    """A goal with its horizon, status and progress."""

    goal_id: str
    horizon: str
    status: str = Field(description="active, achieved or dropped")
    progress: int
    description: str
    motivation: str
    target_date: datetime | None
    set_at: datetime
    closed_at: datetime | None


class PlanChallenge(BaseModel):
    """A challenge the mentor set."""

    challenge_id: str
    skill: str
    description: str
    due_at: datetime
    progress: int
    set_at: datetime


class PlanActionItem(BaseModel):
    """An action item of a conversation's plan."""

    item_id: str
    owner: str
    description: str
    conversation_number: int
    due_at: datetime
    status: str
    overdue: bool
    completed_at: datetime | None


class PlanFeedback(BaseModel):
    """Feedback written in a conversation."""

    conversation_number: int
    direction: str = Field(description="to_mentee (received) or to_mentor (given)")
    feedback: str
    given_at: datetime
    author_id: str | None = Field(
        default=None,
        description="Who gave it, for feedback given through the conversation feedback route",
    )
    ratings: dict[str, int] = Field(
        default_factory=dict,
        description="1..5: usefulness, listening, clarity (of the mentor); preparation, "
        "follow_through (of the mentee)",
    )


class PlanPart(BaseModel):
    """The plan of one relationship."""

    mentorship_id: str
    cohort_id: str
    mentor_id: str
    stage: str
    skills_worked_on: list[str]
    conversations_held: int
    goals: list[PlanGoal]
    challenges: list[PlanChallenge]
    action_items: list[PlanActionItem]
    feedback: list[PlanFeedback]
    updated_at: datetime


class DevelopmentPlan(BaseModel):
    """A mentee's development plan over their relationships (a rematch adds one)."""

    person_id: str
    relationships: list[PlanPart] = Field(description="Oldest first, one page")
    next_after: str | None = Field(
        default=None, description="Pass as `after` for the next page; null on the last page"
    )
