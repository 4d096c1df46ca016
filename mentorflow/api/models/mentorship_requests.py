"""Request bodies of the mentorship routes.

They check shapes and types; the relationship's rules (at least one goal, an action plan, a
due date after the conversation, …) are checked by the workflow's update validators, which
name every problem at once. Unknown fields are rejected, as in a cohort spec.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mentorflow.api.models.identifiers import LocalIdText


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionItemRequest(_Request):
    """One step of the action plan a conversation concludes with."""

    owner: Literal["mentor", "mentee"] = Field(description="Who does it")
    description: str = Field(examples=["Draft the design-review proposal"])
    due_at: AwareDatetime = Field(description="ISO 8601 with offset, after held_at")


class ConversationRequest(_Request):
    """A career conversation (contract: "Request bodies that integrations rely on")."""

    held_at: AwareDatetime = Field(description="When it took place, ISO 8601 with offset")
    goal_ids: list[LocalIdText] = Field(
        default_factory=list, description="The mentee's goals discussed: at least one"
    )
    skills: list[str] = Field(default_factory=list, description="Skills worked on (≤ 20)")
    feedback_to_mentee: str = Field(default="", description="Shown in the mentee's plan")
    feedback_to_mentor: str = Field(default="", description="Shown in the mentee's plan")
    notes: str = Field(default="", description="Private: never shown, never summarised")
    action_items: list[ActionItemRequest] = Field(
        default_factory=list, description="The action plan: at least one item"
    )


class GoalRequest(_Request):
    """A career goal of the mentee."""

    horizon: Literal["short", "long"]
    description: str = Field(examples=["Lead a design review"])
    motivation: str = ""
    strengths: list[str] = Field(default_factory=list, description="Strengths to build on")
    target_date: AwareDatetime | None = None


class TrainingRequest(_Request):
    """A participant completed one of the program's training modules."""

    person_id: str = Field(description="The mentor or the mentee; participants give their own")
    module: str = Field(examples=["active-listening"])


class FeedbackRequest(_Request):
    """A participant's feedback on the relationship: the closing survey.

    Accepted while the relationship is closing (after a close or rematch request, or at the
    program's end). Feedback within a conversation goes in its ``feedback_to_mentee`` and
    ``feedback_to_mentor`` fields.
    """

    person_id: str = Field(description="Who answers; participants give their own")
    satisfaction: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    value: int = Field(ge=1, le=5, description="How valuable the relationship was, 1 to 5")
    would_recommend: bool
    comment: str = ""


class ChallengeRequest(_Request):
    """A skill-development challenge the mentor sets."""

    skill: str = Field(examples=["stakeholder-management"])
    description: str
    due_at: AwareDatetime


class ChallengeProgressRequest(_Request):
    """Progress on a challenge."""

    progress: int = Field(ge=0, le=100, description="Percent")
    note: str = ""


class ReviewApprovalRequest(_Request):
    """The mentee shares a review summary, as drafted or in their own words."""

    edited_text: str | None = Field(
        default=None, description="The mentee's wording (≤ 3,000 characters); null keeps the draft"
    )


class PauseRequest(_Request):
    """Put the relationship on hold."""

    reason: str = Field(examples=["parental leave"])


class CloseRequest(_Request):
    """End the relationship (a rematch has its own route)."""

    reason: Literal["completed", "mentor_left", "mentee_left", "mismatch"]


class RematchRequest(_Request):
    """End the relationship so that the mentee is matched with another mentor."""

    reason: str = Field(examples=["different time zones after a move"])
