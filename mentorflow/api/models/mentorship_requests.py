"""Request bodies of the mentorship routes.

They check shapes and types; the relationship's rules (at least one goal, an action plan, a
due date after the conversation, …) are checked by the workflow's update validators, which
name every problem at once. Unknown fields are rejected, as in a cohort spec.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.text import LIST_ITEMS, Label, SafeText, ShortText
from mentorflow.api.models.identifiers import LocalIdText, PersonIdText


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionItemRequest(_Request):
    """One step of the action plan a conversation concludes with."""

    owner: Literal["mentor", "mentee"] = Field(description="Who does it")
    description: SafeText = Field(examples=["Draft the design-review proposal"])
    due_at: AwareDatetime = Field(description="ISO 8601 with offset, after held_at")


class ConversationRequest(_Request):
    """A career conversation (contract: "Request bodies that integrations rely on")."""

    held_at: AwareDatetime = Field(description="When it took place, ISO 8601 with offset")
    goal_ids: list[LocalIdText] = Field(
        default_factory=list,
        max_length=LIST_ITEMS,
        description="The mentee's goals discussed: at least one",
    )
    skills: list[Label] = Field(
        default_factory=list, max_length=20, description="Skills worked on (≤ 20)"
    )
    feedback_to_mentee: SafeText = Field(
        default="",
        description="The mentor's feedback to the mentee (the mentor's side only; deprecated "
        "in favour of the conversation feedback route)",
    )
    feedback_to_mentor: SafeText = Field(
        default="",
        description="The mentee's feedback to the mentor (the mentee's side only; deprecated "
        "in favour of the conversation feedback route)",
    )
    notes: SafeText = Field(default="", description="Private: never shown, never summarised")
    action_items: list[ActionItemRequest] = Field(
        default_factory=list, max_length=20, description="The action plan: at least one item"
    )


class GoalRequest(_Request):
    """A career goal of the mentee."""

    horizon: Literal["short", "long"]
    description: SafeText = Field(examples=["Lead a design review"])
    motivation: SafeText = ""
    strengths: list[ShortText] = Field(
        default_factory=list, max_length=20, description="Strengths to build on"
    )
    target_date: AwareDatetime | None = None


class TrainingRequest(_Request):
    """A participant completed one of the program's training modules."""

    person_id: PersonIdText = Field(
        description="The mentor or the mentee; participants give their own"
    )
    module: Label = Field(examples=["active-listening"])


class FeedbackRequest(_Request):
    """A participant's feedback on the relationship: the closing survey.

    Accepted while the relationship is closing (after a close or rematch request, or at the
    program's end). Feedback within a conversation goes in its ``feedback_to_mentee`` and
    ``feedback_to_mentor`` fields.
    """

    person_id: PersonIdText = Field(description="Who answers; participants give their own")
    satisfaction: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    value: int = Field(ge=1, le=5, description="How valuable the relationship was, 1 to 5")
    would_recommend: bool
    comment: SafeText = ""


class ChallengeRequest(_Request):
    """A skill-development challenge the mentor sets."""

    skill: Label = Field(examples=["stakeholder-management"])
    description: SafeText
    due_at: AwareDatetime


class ChallengeProgressRequest(_Request):
    """Progress on a challenge."""

    progress: int = Field(ge=0, le=100, description="Percent")
    note: SafeText = ""


class ReviewApprovalRequest(_Request):
    """The mentee shares a review summary, as drafted or in their own words."""

    edited_text: SafeText | None = Field(
        default=None,
        max_length=3000,
        description="The mentee's wording (≤ 3,000 characters); null keeps the draft",
    )


class PauseRequest(_Request):
    """Put the relationship on hold."""

    reason: ShortText = Field(examples=["parental leave"])


class CloseRequest(_Request):
    """End the relationship (a rematch has its own route)."""

    reason: Literal["completed", "mentor_left", "mentee_left", "mismatch"]


class RematchRequest(_Request):
    """End the relationship so that the mentee is matched with another mentor."""

    reason: ShortText = Field(examples=["different time zones after a move"])


class ReviseGoalRequest(_Request):
    """New wording, target date or progress of one of the mentee's goals."""

    description: SafeText | None = None
    target_date: AwareDatetime | None = None
    progress: int | None = Field(default=None, ge=0, le=100, description="Percent")


class DropGoalRequest(_Request):
    """The mentee abandons a goal."""

    reason: ShortText = ""


class RescheduleRequest(_Request):
    """A new due date for an action item (its owner only)."""

    due_at: AwareDatetime = Field(description="ISO 8601 with offset, in the future")
    reason: ShortText = ""


Rating = Annotated[int, Field(ge=1, le=5)]


class ConversationFeedbackRequest(_Request):
    """One side's own feedback to the other after a conversation.

    The mentee rates the mentor (usefulness, listening, clarity); the mentor rates the mentee
    (preparation, follow-through). Within one cadence of the conversation, once per side.
    """

    usefulness: Rating | None = Field(default=None, description="Mentor, rated by the mentee")
    listening: Rating | None = Field(default=None, description="Mentor, rated by the mentee")
    clarity: Rating | None = Field(default=None, description="Mentor, rated by the mentee")
    preparation: Rating | None = Field(default=None, description="Mentee, rated by the mentor")
    follow_through: Rating | None = Field(default=None, description="Mentee, rated by the mentor")
    comment: SafeText = Field(default="", description="Optional; personal data of its author")


class ExtendDeadlineRequest(_Request):
    """HR moves a deadline: the onboarding window or the next conversation."""

    deadline: Literal["onboarding", "conversation"]
    new_deadline: AwareDatetime = Field(description="ISO 8601 with offset, in the future")
    reason: ShortText = Field(examples=["the mentor was on leave"])
