"""The state of a relationship and `evolve(state, event) -> state`.

The state is a left fold of the relationship's events: the workflow folds the events it
records, and anything else (projections, a review-summary draft, tests) can rebuild it from
the store with `replay`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from functools import singledispatch
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.mentorship.terms import ProgramTerms
from events import DomainEvent
from events import mentorship as m


class Stage(StrEnum):
    """Stages of the contract."""

    MATCHED = "matched"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSING = "closing"
    CLOSED = "closed"


class Goal(BaseModel):
    """A career goal of the mentee."""

    goal_id: str
    horizon: m.GoalHorizon
    description: str
    motivation: str
    strengths: list[str] = Field(default_factory=list)
    target_date: datetime | None = None
    status: Literal["active", "achieved", "dropped"] = "active"
    progress: int = 0


class ActionItemState(BaseModel):
    """An action item and its follow-up."""

    item_id: str
    owner: m.ItemOwner
    description: str
    due_at: datetime
    conversation_number: int
    status: Literal["open", "completed"] = "open"
    completed_at: datetime | None = None
    checked_in: bool = False


class Challenge(BaseModel):
    """A skill-development challenge set by the mentor."""

    challenge_id: str
    skill: str
    description: str
    due_at: datetime
    progress: int = 0


class ReviewState(BaseModel):
    """A review cycle's summary and where it stands."""

    cycle_id: str
    summary: m.ReviewSummary
    respond_by: datetime
    status: Literal["awaiting_mentee", "shared", "withheld"] = "awaiting_mentee"
    quote_refusals: int = Field(
        default=0, description="Edits refused for quoting private notes (not an event: a limit)"
    )


class Survey(BaseModel):
    """A closing-survey answer."""

    person_id: str
    satisfaction: int
    value: int
    would_recommend: bool
    comment: str = ""


class MentorshipState(BaseModel):
    """Everything the relationship's rules need, as a fold of its events."""

    model_config = ConfigDict(validate_assignment=False)

    stream_id: str
    mentor_id: str
    mentee_id: str
    terms: ProgramTerms
    stage: Stage = Stage.MATCHED
    version: int = 0
    match_score: float = 0.0
    match_reasons: list[str] = Field(default_factory=list)
    rematch_of: str | None = None

    onboarding_deadline: datetime | None = None
    onboarding_reminded: bool = False
    onboarding_overdue: bool = False
    training_completed: dict[str, list[str]] = Field(default_factory=dict)
    kickoff_held: bool = False

    goals: dict[str, Goal] = Field(default_factory=dict)
    goals_created: int = 0
    conversations_held: int = 0
    last_conversation_at: datetime | None = None
    next_conversation_due: datetime | None = None
    reminded_for_due: datetime | None = None
    consecutive_misses: int = 0
    total_misses: int = 0
    escalations: int = 0
    escalated_in_streak: bool = False
    skills_worked_on: list[str] = Field(default_factory=list)
    feedback_to_mentee_count: int = 0
    feedback_to_mentor_count: int = 0
    conversation_times: dict[int, datetime] = Field(
        default_factory=dict, description="When each held conversation took place, by number"
    )
    feedback_given: list[str] = Field(
        default_factory=list, description="'{conversation number}:{giver side}' of FeedbackGiven"
    )
    action_items: dict[str, ActionItemState] = Field(default_factory=dict)
    action_items_created: int = 0
    challenges: dict[str, Challenge] = Field(default_factory=dict)
    private_notes: list[str] = Field(
        default_factory=list, description="Kept to refuse them in shared summaries; never queried"
    )

    reviews: dict[str, ReviewState] = Field(default_factory=dict)
    review_cycles_started: list[str] = Field(default_factory=list)

    paused_at: datetime | None = None
    pause_reason: str | None = None
    stage_before_pause: Stage | None = None

    closure_reason: m.ClosureReason | None = None
    survey_closes_at: datetime | None = None
    surveys: dict[str, Survey] = Field(default_factory=dict)

    @property
    def participants(self) -> tuple[str, str]:
        """Mentor and mentee ids."""
        return (self.mentor_id, self.mentee_id)

    def open_action_items(self) -> list[ActionItemState]:
        """Action items not completed yet, by due date."""
        items = [item for item in self.action_items.values() if item.status == "open"]
        return sorted(items, key=lambda item: (item.due_at, item.item_id))

    def overdue_action_items(self, now: datetime) -> list[ActionItemState]:
        """Open action items past their due date."""
        return [item for item in self.open_action_items() if item.due_at < now]

    def missing_for_onboarding(self) -> list[str]:
        """What still keeps the relationship in onboarding, in plain words."""
        missing: list[str] = []
        for person_id in self.participants:
            done = set(self.training_completed.get(person_id, []))
            missing.extend(
                f"{person_id}: training {module}"
                for module in self.terms.training_modules
                if module not in done
            )
        horizons = {goal.horizon for goal in self.goals.values() if goal.status == "active"}
        if "short" not in horizons:
            missing.append(f"{self.mentee_id}: a short-term goal")
        if "long" not in horizons:
            missing.append(f"{self.mentee_id}: a long-term goal")
        if not self.kickoff_held:
            missing.append("kickoff conversation")
        return missing

    def conversations_expected(self) -> int:
        """How many conversations the cadence has asked for so far, misses included."""
        return self.conversations_held + self.total_misses


def replay(initial: MentorshipState, events: Iterable[DomainEvent]) -> MentorshipState:
    """Fold events into a state."""
    state = initial
    for event in events:
        state = evolve(state, event)
    return state


def evolve(state: MentorshipState, event: DomainEvent) -> MentorshipState:
    """The state after ``event``; ``state`` itself is left untouched."""
    new_state = state.model_copy(deep=True)
    _apply(event, new_state)
    return new_state


@singledispatch
def _apply(event: DomainEvent, state: MentorshipState) -> None:
    """Events that change nothing the rules need (reminders, check-ins) fall through here."""


@_apply.register
def _(event: m.MentorshipMatched, state: MentorshipState) -> None:
    state.stage = Stage.MATCHED
    state.match_score = event.match_score
    state.match_reasons = list(event.reasons)
    state.rematch_of = event.rematch_of


@_apply.register
def _(event: m.OnboardingStarted, state: MentorshipState) -> None:
    state.stage = Stage.ONBOARDING
    state.onboarding_deadline = event.deadline


@_apply.register
def _(event: m.TrainingModuleCompleted, state: MentorshipState) -> None:
    state.training_completed.setdefault(event.person_id, []).append(event.module)


@_apply.register
def _(event: m.OnboardingReminderDue, state: MentorshipState) -> None:
    state.onboarding_reminded = True


@_apply.register
def _(event: m.OnboardingOverdue, state: MentorshipState) -> None:
    state.onboarding_overdue = True


@_apply.register
def _(event: m.OnboardingCompleted, state: MentorshipState) -> None:
    state.stage = Stage.ACTIVE
    state.next_conversation_due = event.next_conversation_due


@_apply.register
def _(event: m.GoalSet, state: MentorshipState) -> None:
    state.goals_created += 1
    state.goals[event.goal_id] = Goal(
        goal_id=event.goal_id,
        horizon=event.horizon,
        description=event.description,
        motivation=event.motivation,
        strengths=list(event.strengths),
        target_date=event.target_date,
    )


@_apply.register
def _(event: m.GoalRevised, state: MentorshipState) -> None:
    goal = state.goals[event.goal_id]
    if event.description is not None:
        goal.description = event.description
    if event.target_date is not None:
        goal.target_date = event.target_date
    if event.progress is not None:
        goal.progress = event.progress


@_apply.register
def _(event: m.GoalAchieved, state: MentorshipState) -> None:
    goal = state.goals[event.goal_id]
    goal.status = "achieved"
    goal.progress = 100


@_apply.register
def _(event: m.GoalDropped, state: MentorshipState) -> None:
    state.goals[event.goal_id].status = "dropped"


@_apply.register
def _(event: m.ConversationHeld, state: MentorshipState) -> None:
    state.conversations_held += 1
    state.kickoff_held = state.kickoff_held or event.kickoff
    state.last_conversation_at = event.held_at
    state.conversation_times[event.conversation_number] = event.held_at
    if event.next_conversation_due is not None:
        state.next_conversation_due = event.next_conversation_due
    state.consecutive_misses = 0
    state.escalated_in_streak = False
    for skill in event.skills:
        if skill not in state.skills_worked_on:
            state.skills_worked_on.append(skill)
    state.feedback_to_mentee_count += bool(event.feedback_to_mentee.strip())
    state.feedback_to_mentor_count += bool(event.feedback_to_mentor.strip())
    if event.notes.strip():
        state.private_notes.append(event.notes)
    for item in event.action_items:
        _add_action_item(state, item, event.conversation_number)


@_apply.register
def _(event: m.FeedbackGiven, state: MentorshipState) -> None:
    giver = "mentee" if event.to == "mentor" else "mentor"
    state.feedback_given.append(f"{event.conversation_number}:{giver}")
    if event.to == "mentee":
        state.feedback_to_mentee_count += 1
    else:
        state.feedback_to_mentor_count += 1


def _add_action_item(state: MentorshipState, item: m.ActionItem, conversation_number: int) -> None:
    state.action_items_created += 1
    state.action_items[item.item_id] = ActionItemState(
        item_id=item.item_id,
        owner=item.owner,
        description=item.description,
        due_at=item.due_at,
        conversation_number=conversation_number,
    )


@_apply.register
def _(event: m.ActionItemsCarriedOver, state: MentorshipState) -> None:
    for item in event.items:
        _add_action_item(state, item, conversation_number=0)


@_apply.register
def _(event: m.ConversationReminderDue, state: MentorshipState) -> None:
    state.reminded_for_due = event.due_at


@_apply.register
def _(event: m.ConversationMissed, state: MentorshipState) -> None:
    state.consecutive_misses = event.consecutive_misses
    state.total_misses += 1
    state.next_conversation_due = event.next_conversation_due


@_apply.register
def _(event: m.MentorshipEscalated, state: MentorshipState) -> None:
    state.escalations += 1
    state.escalated_in_streak = True


@_apply.register
def _(event: m.ActionItemCheckInDue, state: MentorshipState) -> None:
    state.action_items[event.item_id].checked_in = True


@_apply.register
def _(event: m.ActionItemCompleted, state: MentorshipState) -> None:
    item = state.action_items[event.item_id]
    item.status = "completed"
    item.completed_at = event.completed_at


@_apply.register
def _(event: m.ActionItemRescheduled, state: MentorshipState) -> None:
    item = state.action_items[event.item_id]
    item.due_at = event.due_at
    item.checked_in = False


@_apply.register
def _(event: m.ChallengeSet, state: MentorshipState) -> None:
    state.challenges[event.challenge_id] = Challenge(
        challenge_id=event.challenge_id,
        skill=event.skill,
        description=event.description,
        due_at=event.due_at,
    )


@_apply.register
def _(event: m.ChallengeProgressRecorded, state: MentorshipState) -> None:
    state.challenges[event.challenge_id].progress = event.progress


@_apply.register
def _(event: m.ReviewSummaryDrafted, state: MentorshipState) -> None:
    if event.cycle_id not in state.review_cycles_started:
        state.review_cycles_started.append(event.cycle_id)
    state.reviews[event.cycle_id] = ReviewState(
        cycle_id=event.cycle_id, summary=event.summary, respond_by=event.respond_by
    )


@_apply.register
def _(event: m.ReviewSummaryShared, state: MentorshipState) -> None:
    review = state.reviews[event.cycle_id]
    review.status = "shared"
    review.summary = event.summary


@_apply.register
def _(event: m.ReviewSummaryWithheld, state: MentorshipState) -> None:
    state.reviews[event.cycle_id].status = "withheld"


@_apply.register
def _(event: m.MentorshipPaused, state: MentorshipState) -> None:
    state.stage_before_pause = state.stage
    state.stage = Stage.PAUSED
    state.pause_reason = event.reason
    state.paused_at = event.paused_at


def _shift(moment: datetime | None, by: timedelta) -> datetime | None:
    return None if moment is None else moment + by


@_apply.register
def _(event: m.MentorshipResumed, state: MentorshipState) -> None:
    state.stage = state.stage_before_pause or Stage.ACTIVE
    state.stage_before_pause = None
    state.pause_reason = None
    state.paused_at = None
    state.onboarding_deadline = _shift(state.onboarding_deadline, event.paused_for)
    state.next_conversation_due = event.next_conversation_due
    for item in state.open_action_items():
        state.action_items[item.item_id].due_at = item.due_at + event.paused_for


@_apply.register
def _(event: m.DeadlineExtended, state: MentorshipState) -> None:
    if event.deadline == "onboarding":
        state.onboarding_deadline = event.new_deadline
        state.onboarding_overdue = False
        state.onboarding_reminded = False
    else:
        state.next_conversation_due = event.new_deadline


@_apply.register
def _(event: m.ClosureStarted, state: MentorshipState) -> None:
    state.stage = Stage.CLOSING
    state.closure_reason = event.reason
    state.survey_closes_at = event.survey_closes_at


@_apply.register
def _(event: m.SurveySubmitted, state: MentorshipState) -> None:
    state.surveys[event.person_id] = Survey(
        person_id=event.person_id,
        satisfaction=event.satisfaction,
        value=event.value,
        would_recommend=event.would_recommend,
        comment=event.comment,
    )


@_apply.register
def _(event: m.MentorshipClosed, state: MentorshipState) -> None:
    state.stage = Stage.CLOSED
