"""Events of a mentoring relationship's stream (``mentorship-{cohort_id}-{mentee_id}[-rN]``).

Free-text fields (descriptions, motivation, feedback, notes, comments, summaries) are
personal data (typed `MenteeText` / `MentorText` / `AuthorText`, see `events.personal`): they
are never logged, are sealed with the person's data key in the store and on the bus, and the
API shows them only to the people entitled to them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent
from events.personal import AuthorText, MenteeText, MentorText

GoalHorizon = Literal["short", "long"]
ItemOwner = Literal["mentor", "mentee"]
ClosureReason = Literal["completed", "rematch", "mentor_left", "mentee_left", "mismatch"]


class _MentorshipEvent(DomainEvent):
    stream_type: ClassVar[str] = "mentorship"


class MentorshipMatched(_MentorshipEvent):
    """A mentor and a mentee were matched; the relationship starts.

    Version 2 added ``mentor_capacity`` (version 1 events read it as unknown, None).
    """

    schema_version: ClassVar[int] = 2
    event_type: Literal["MentorshipMatched"] = "MentorshipMatched"
    cohort_id: str
    mentor_id: str
    mentee_id: str
    match_score: float = Field(ge=0, le=1, description="Weighted compatibility, 0..1")
    reasons: list[str] = Field(default_factory=list, description="Top reasons, in plain words")
    program_ends_at: AwareDatetime | None = None
    conversation_cadence: timedelta | None = None
    rematch_of: str | None = Field(default=None, description="Stream id of the previous match")
    mentor_capacity: int | None = Field(
        default=None, ge=1, description="How many mentees the mentor takes in this cohort"
    )


class OnboardingStarted(_MentorshipEvent):
    """Onboarding began: training, kickoff conversation and first goals are due."""

    event_type: Literal["OnboardingStarted"] = "OnboardingStarted"
    deadline: AwareDatetime
    training_modules: list[str]


class TrainingModuleCompleted(_MentorshipEvent):
    """A participant completed a required training module."""

    event_type: Literal["TrainingModuleCompleted"] = "TrainingModuleCompleted"
    person_id: str
    module: str


class OnboardingReminderDue(_MentorshipEvent):
    """The onboarding deadline is near and something is still missing."""

    event_type: Literal["OnboardingReminderDue"] = "OnboardingReminderDue"
    deadline: AwareDatetime
    missing: list[str]


class OnboardingOverdue(_MentorshipEvent):
    """The onboarding deadline passed with something missing (for HR)."""

    event_type: Literal["OnboardingOverdue"] = "OnboardingOverdue"
    deadline: AwareDatetime
    missing: list[str]


class OnboardingCompleted(_MentorshipEvent):
    """Training, kickoff and first goals are done; the relationship is active."""

    event_type: Literal["OnboardingCompleted"] = "OnboardingCompleted"
    next_conversation_due: AwareDatetime


class GoalSet(_MentorshipEvent):
    """The mentee recorded a career goal."""

    event_type: Literal["GoalSet"] = "GoalSet"
    goal_id: str
    horizon: GoalHorizon
    description: MenteeText
    motivation: MenteeText
    strengths: list[MenteeText] = Field(default_factory=list)
    target_date: AwareDatetime | None = None


class GoalRevised(_MentorshipEvent):
    """A goal's wording, target date or progress changed."""

    event_type: Literal["GoalRevised"] = "GoalRevised"
    goal_id: str
    description: MenteeText | None = None
    target_date: AwareDatetime | None = None
    progress: int | None = Field(default=None, ge=0, le=100)


class GoalAchieved(_MentorshipEvent):
    """A goal was reached."""

    event_type: Literal["GoalAchieved"] = "GoalAchieved"
    goal_id: str


class GoalDropped(_MentorshipEvent):
    """A goal was abandoned."""

    event_type: Literal["GoalDropped"] = "GoalDropped"
    goal_id: str
    reason: MenteeText = ""


class ActionItem(BaseModel):
    """One step of the action plan that concludes a conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    owner: ItemOwner
    description: MenteeText
    due_at: AwareDatetime


class ActionItemsCarriedOver(_MentorshipEvent):
    """Open action items taken over from the mentee's previous relationship (a rematch)."""

    event_type: Literal["ActionItemsCarriedOver"] = "ActionItemsCarriedOver"
    from_stream_id: str
    items: list[ActionItem]


class ConversationHeld(_MentorshipEvent):
    """A career conversation took place and ended with an action plan.

    Version 2 added ``logged_by``, so that private notes can be shown to their author
    (version 1 events read it as unknown, None: their notes are shown to nobody).
    """

    schema_version: ClassVar[int] = 2
    event_type: Literal["ConversationHeld"] = "ConversationHeld"
    conversation_number: int = Field(ge=1)
    kickoff: bool = False
    held_at: AwareDatetime
    due_at: AwareDatetime | None = None
    goal_ids: list[str] = Field(min_length=1)
    skills: list[str] = Field(default_factory=list)
    feedback_to_mentee: MenteeText = ""
    feedback_to_mentor: MentorText = ""
    notes: MenteeText = Field(default="", description="Private notes (personal data)")
    logged_by: str | None = Field(
        default=None,
        description="The participant who logged it, whose private notes these are; None when "
        "HR or an ops tool logged it",
    )
    action_items: list[ActionItem] = Field(min_length=1)
    next_conversation_due: AwareDatetime | None = None


class FeedbackGiven(_MentorshipEvent):
    """One participant's own feedback to the other after a conversation, with ratings 1..5.

    The mentee rates the mentor's usefulness, listening and clarity; the mentor rates the
    mentee's preparation and follow-through. The comment is personal data of its author.
    """

    event_type: Literal["FeedbackGiven"] = "FeedbackGiven"
    conversation_number: int = Field(ge=1)
    person_id: str = Field(description="Who gave the feedback (its author)")
    to: ItemOwner = Field(description="Who receives it: the mentor or the mentee")
    usefulness: int | None = Field(default=None, ge=1, le=5, description="Of the mentor")
    listening: int | None = Field(default=None, ge=1, le=5, description="Of the mentor")
    clarity: int | None = Field(default=None, ge=1, le=5, description="Of the mentor")
    preparation: int | None = Field(default=None, ge=1, le=5, description="Of the mentee")
    follow_through: int | None = Field(default=None, ge=1, le=5, description="Of the mentee")
    comment: AuthorText = ""


class ChangeMadeByHr(_MentorshipEvent):
    """HR made a change on a participant's behalf; the events recorded with it are HR's."""

    event_type: Literal["ChangeMadeByHr"] = "ChangeMadeByHr"
    token_id: str = Field(description="The id of the HR token that made the change")
    change: str = Field(description="What was changed, e.g. complete_action_item")
    recorded: list[str] = Field(description="Event types recorded by the change")


class ConversationReminderDue(_MentorshipEvent):
    """A conversation is due soon."""

    event_type: Literal["ConversationReminderDue"] = "ConversationReminderDue"
    conversation_number: int
    due_at: AwareDatetime


class ConversationMissed(_MentorshipEvent):
    """The grace period after a due conversation passed without one."""

    event_type: Literal["ConversationMissed"] = "ConversationMissed"
    conversation_number: int
    due_at: AwareDatetime
    consecutive_misses: int
    next_conversation_due: AwareDatetime


class MentorshipEscalated(_MentorshipEvent):
    """Too many consecutive conversations were missed (for HR)."""

    event_type: Literal["MentorshipEscalated"] = "MentorshipEscalated"
    consecutive_misses: int
    reason: str


class ActionItemCheckInDue(_MentorshipEvent):
    """An action item reached its due date: time to check in on it."""

    event_type: Literal["ActionItemCheckInDue"] = "ActionItemCheckInDue"
    item_id: str
    owner: ItemOwner
    due_at: AwareDatetime


class ActionItemCompleted(_MentorshipEvent):
    """An action item was done."""

    event_type: Literal["ActionItemCompleted"] = "ActionItemCompleted"
    item_id: str
    completed_at: AwareDatetime


class ActionItemRescheduled(_MentorshipEvent):
    """An action item got a new due date."""

    event_type: Literal["ActionItemRescheduled"] = "ActionItemRescheduled"
    item_id: str
    due_at: AwareDatetime
    reason: MenteeText = ""


class ChallengeSet(_MentorshipEvent):
    """The mentor set a skill-development challenge."""

    event_type: Literal["ChallengeSet"] = "ChallengeSet"
    challenge_id: str
    skill: str
    description: MenteeText
    due_at: AwareDatetime


class ChallengeProgressRecorded(_MentorshipEvent):
    """Progress on a challenge, 0..100 percent."""

    event_type: Literal["ChallengeProgressRecorded"] = "ChallengeProgressRecorded"
    challenge_id: str
    progress: int = Field(ge=0, le=100)
    note: MenteeText = ""


class ReviewSummary(BaseModel):
    """A career-development summary for the mentee's performance review."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goals: list[MenteeText] = Field(description="Each goal with its horizon, status and progress")
    skills_developed: list[str]
    action_items_completed: int
    action_items_overdue: int
    conversations_held: int
    conversations_expected: int
    feedback_themes: list[MenteeText]
    text: MenteeText = Field(description="The summary as the mentee approved it")


class ReviewSummaryDrafted(_MentorshipEvent):
    """A summary was drafted for a review cycle and awaits the mentee's approval."""

    event_type: Literal["ReviewSummaryDrafted"] = "ReviewSummaryDrafted"
    cycle_id: str
    summary: ReviewSummary
    respond_by: AwareDatetime


class ReviewSummaryShared(_MentorshipEvent):
    """The mentee approved the summary; it goes to the performance-review system."""

    event_type: Literal["ReviewSummaryShared"] = "ReviewSummaryShared"
    cycle_id: str
    summary: ReviewSummary
    edited_by_mentee: bool


class ReviewSummaryWithheld(_MentorshipEvent):
    """The mentee declined, or did not approve in time; nothing is shared."""

    event_type: Literal["ReviewSummaryWithheld"] = "ReviewSummaryWithheld"
    cycle_id: str


class MentorshipPaused(_MentorshipEvent):
    """The relationship is on hold (leave, workload, …); timers stop counting."""

    event_type: Literal["MentorshipPaused"] = "MentorshipPaused"
    reason: MenteeText
    paused_at: AwareDatetime


class MentorshipResumed(_MentorshipEvent):
    """The relationship continues after a pause."""

    event_type: Literal["MentorshipResumed"] = "MentorshipResumed"
    paused_for: timedelta
    next_conversation_due: AwareDatetime | None


class DeadlineExtended(_MentorshipEvent):
    """Ops moved a deadline (onboarding or next conversation)."""

    event_type: Literal["DeadlineExtended"] = "DeadlineExtended"
    deadline: Literal["onboarding", "conversation"]
    new_deadline: AwareDatetime
    reason: MenteeText


class RematchRequested(_MentorshipEvent):
    """The relationship ends so that the mentee can be matched again."""

    event_type: Literal["RematchRequested"] = "RematchRequested"
    mentee_id: str
    previous_mentor_id: str
    reason: MenteeText


class ClosureStarted(_MentorshipEvent):
    """The relationship is closing; both participants get a survey window."""

    event_type: Literal["ClosureStarted"] = "ClosureStarted"
    reason: ClosureReason
    survey_closes_at: AwareDatetime


class SurveySubmitted(_MentorshipEvent):
    """A participant answered the closing survey."""

    event_type: Literal["SurveySubmitted"] = "SurveySubmitted"
    person_id: str
    satisfaction: int = Field(ge=1, le=5)
    value: int = Field(ge=1, le=5, description="Value of the relationship, 1..5")
    would_recommend: bool
    comment: AuthorText = ""


class MentorshipClosed(_MentorshipEvent):
    """The relationship ended."""

    event_type: Literal["MentorshipClosed"] = "MentorshipClosed"
    reason: ClosureReason
    conversations_held: int
    goals_achieved: int
    surveys_received: int
