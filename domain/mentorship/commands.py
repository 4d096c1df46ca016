"""What participants, HR and ops ask of a relationship (the workflow's update inputs).

Models check types only; the rules (at least one goal, an action plan, …) live in
`domain.mentorship.decisions`, which names every problem at once, whoever sent the command.
Each field also says what it accepts where it arrives from outside (`AtEdge`): the request
bodies and CLI options generated from these models (`domain.mentorship.catalog`) refuse
early what the rules would refuse, and document it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from domain.edge import (
    AtEdge,
    ItemId,
    Name,
    OptionalRating,
    Percent,
    PersonIdText,
    Rating,
    Short,
    Text,
)
from domain.mentorship.values import ActionItemFields, GoalFields
from domain.text import LIST_ITEMS, Label, LocalId, SafeText
from events.mentorship import ClosureReason


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
    """A participant completed one of the program's training modules."""

    person_id: Annotated[str, AtEdge(PersonIdText)] = Field(
        description="The mentor or the mentee; participants give their own"
    )
    module: Name = Field(examples=["active-listening"])


class AddGoal(GoalFields, Command):
    """The mentee records a short- or long-term career goal."""


class ReviseGoal(Command):
    """New wording, target date or progress of one of the mentee's goals."""

    goal_id: ItemId
    description: Annotated[str | None, AtEdge(SafeText | None)] = None
    target_date: AwareDatetime | None = None
    progress: Annotated[int | None, AtEdge(Annotated[int, Field(ge=0, le=100)] | None)] = Field(
        default=None, description="Percent"
    )


class AchieveGoal(Command):
    """The goal was reached."""

    goal_id: ItemId


class DropGoal(Command):
    """The mentee abandons a goal."""

    goal_id: ItemId
    reason: Short = ""


class ActionItemInput(ActionItemFields):
    """One step of the action plan a conversation concludes with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _recorded_without_actor(cls, data: Any) -> Any:
        # Until the command table, items were commands with an always-null actor; recorded
        # update arguments still hold it.
        if isinstance(data, dict) and "actor" in data and data["actor"] is None:
            return {key: value for key, value in data.items() if key != "actor"}
        return data


class LogConversation(Command):
    """A career conversation, concluded with an action plan.

    It must discuss at least one of the mentee's goals and conclude with at least one action
    item due after it. ``notes`` stay private: never shown, never summarised.
    """

    held_at: AwareDatetime = Field(description="When it took place, ISO 8601 with offset")
    goal_ids: Annotated[
        list[str], AtEdge(Annotated[list[LocalId], Field(max_length=LIST_ITEMS)])
    ] = Field(default_factory=list, description="The mentee's goals discussed: at least one")
    skills: Annotated[list[str], AtEdge(Annotated[list[Label], Field(max_length=20)])] = Field(
        default_factory=list, description="Skills worked on (≤ 20)"
    )
    feedback_to_mentee: Text = Field(
        default="",
        description="The mentor's feedback to the mentee (the mentor's side only; deprecated "
        "in favour of the conversation feedback route)",
    )
    feedback_to_mentor: Text = Field(
        default="",
        description="The mentee's feedback to the mentor (the mentee's side only; deprecated "
        "in favour of the conversation feedback route)",
    )
    notes: Text = Field(default="", description="Private: never shown, never summarised")
    action_items: Annotated[
        list[ActionItemInput], AtEdge(Annotated[list[ActionItemInput], Field(max_length=20)])
    ] = Field(default_factory=list, description="The action plan: at least one item")


class CompleteActionItem(Command):
    """The action item is done (its owner's call, or HR's for them)."""

    item_id: ItemId


class RescheduleActionItem(Command):
    """A new due date for an action item, set by its owner (or HR for them)."""

    item_id: ItemId
    due_at: AwareDatetime = Field(description="ISO 8601 with offset, in the future")
    reason: Short = ""


class SkipConversation(Command):
    """Skip the conversation due next (a holiday, a crunch), agreed by either side or HR.

    It counts as missed now, so the rhythm moves on by a cadence at once instead of reminders
    running until the grace period passes; consecutive misses still lead to an escalation.
    """


class SetChallenge(Command):
    """The mentor sets a skill-development challenge."""

    skill: Name = Field(examples=["stakeholder-management"])
    description: Text
    due_at: AwareDatetime


class RecordChallengeProgress(Command):
    """Progress on a challenge, in percent, with an optional note."""

    challenge_id: ItemId
    progress: Percent = Field(description="Percent")
    note: Text = ""


class ApproveReviewSummary(Command):
    """The mentee shares the drafted review summary, possibly in their own words.

    Their consent: nobody else can do it, not even HR.
    """

    cycle_id: ItemId
    edited_text: Annotated[
        str | None, AtEdge(Annotated[SafeText, Field(max_length=3000)] | None)
    ] = Field(
        default=None,
        description="The mentee's wording (≤ 3,000 characters); null keeps the draft",
    )


class DeclineReviewSummary(Command):
    """The mentee keeps the drafted review summary private: nothing is shared.

    Their consent, like sharing: nobody else can decide it. Waiting until the summary's date
    does the same; declining says so at once.
    """

    cycle_id: ItemId


class PauseMentorship(Command):
    """Put the relationship on hold: reminders, due dates and escalations stop until it
    resumes."""

    reason: Short = Field(examples=["parental leave"])


class ResumeMentorship(Command):
    """Continue after a pause: deadlines move on by the pause; the next conversation is due
    one cadence from now."""


class CloseMentorship(Command):
    """End the relationship: closing starts, surveys are open, then it is closed.

    A rematch has its own command.
    """

    reason: Annotated[
        ClosureReason,
        AtEdge(Literal["completed", "mentor_left", "mentee_left", "mismatch"]),
    ]
    rematch_mentee: bool = Field(
        default=False,
        description=(
            "Match the mentee again with another mentor, carrying over open goals and action "
            "items (with mentor_left or mismatch; HR and the leaver flow only)"
        ),
    )


class RequestRematch(Command):
    """End the relationship so that the mentee is matched with another mentor.

    The cohort matches the mentee again (never with a previous mentor) and starts a new
    relationship (``…-r1``) carrying over open goals and action items.
    """

    reason: Short = Field(examples=["different time zones after a move"])


class SubmitSurvey(Command):
    """A participant's closing-survey answer on the relationship.

    Open while the relationship is closing (after a close or a rematch request, or at the
    program's end, for half a cadence); once both answered it closes. Feedback between the
    two of them belongs with a conversation.
    """

    person_id: Annotated[str, AtEdge(PersonIdText)] = Field(
        description="Who answers; participants give their own"
    )
    satisfaction: Rating = Field(description="1 (poor) to 5 (excellent)")
    value: Rating = Field(description="How valuable the relationship was, 1 to 5")
    would_recommend: bool
    comment: Text = ""


class GiveFeedback(Command):
    """One side's own feedback to the other after a conversation, with ratings 1..5.

    The mentee rates the mentor's usefulness, listening and clarity; the mentor rates the
    mentee's preparation and follow-through. Within one cadence of the conversation, once
    per side; participants only, HR cannot give it for them.
    """

    conversation_number: Annotated[int, AtEdge(Annotated[int, Field(ge=1, le=10_000)])] = Field(
        description="Conversation number"
    )
    usefulness: OptionalRating = Field(default=None, description="Mentor, rated by the mentee")
    listening: OptionalRating = Field(default=None, description="Mentor, rated by the mentee")
    clarity: OptionalRating = Field(default=None, description="Mentor, rated by the mentee")
    preparation: OptionalRating = Field(default=None, description="Mentee, rated by the mentor")
    follow_through: OptionalRating = Field(default=None, description="Mentee, rated by the mentor")
    comment: Text = Field(default="", description="Optional; personal data of its author")


class ExtendDeadline(Command):
    """HR or ops move a deadline: the onboarding window or the next conversation's due date."""

    deadline: Literal["onboarding", "conversation"]
    new_deadline: AwareDatetime = Field(description="ISO 8601 with offset, in the future")
    reason: Short = Field(examples=["the mentor was on leave"])


MentorshipCommand = (
    CompleteTraining
    | AddGoal
    | ReviseGoal
    | AchieveGoal
    | DropGoal
    | LogConversation
    | SkipConversation
    | CompleteActionItem
    | RescheduleActionItem
    | SetChallenge
    | RecordChallengeProgress
    | ApproveReviewSummary
    | DeclineReviewSummary
    | PauseMentorship
    | ResumeMentorship
    | CloseMentorship
    | RequestRematch
    | SubmitSurvey
    | GiveFeedback
    | ExtendDeadline
)
