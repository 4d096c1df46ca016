"""Events of a mentoring relationship's stream (``mentorship-{cohort_id}-{mentee_id}[-rN]``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent


class MentorshipMatched(DomainEvent):
    """A mentor and a mentee were matched; the relationship starts."""

    event_type: Literal["MentorshipMatched"] = "MentorshipMatched"
    stream_type: ClassVar[str] = "mentorship"

    cohort_id: str
    mentor_id: str
    mentee_id: str
    match_score: float = Field(ge=0, le=1, description="Weighted compatibility, 0..1")
    reasons: list[str] = Field(default_factory=list, description="Top reasons, in plain words")


class ActionItem(BaseModel):
    """One step of the action plan that concludes a conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    owner: Literal["mentor", "mentee"]
    description: str
    due_at: AwareDatetime


class ConversationHeld(DomainEvent):
    """A career conversation took place and ended with an action plan."""

    event_type: Literal["ConversationHeld"] = "ConversationHeld"
    stream_type: ClassVar[str] = "mentorship"

    conversation_number: int = Field(ge=1)
    held_at: AwareDatetime
    goal_ids: list[str] = Field(min_length=1)
    skills: list[str] = Field(default_factory=list)
    feedback_to_mentee: str = ""
    feedback_to_mentor: str = ""
    notes: str = Field(default="", description="Private notes (personal data)")
    action_items: list[ActionItem] = Field(min_length=1)
