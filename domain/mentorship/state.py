"""The state of a relationship and `evolve(state, event) -> state`.

The state is a left fold of the relationship's events: the workflow folds the events it
records, and anything else (projections, a review-summary draft, tests) can rebuild it from
the store with `replay`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.mentorship.lifecycle import STAGE_RULES, shift_open_items
from domain.mentorship.lifecycle import Stage as Stage
from domain.mentorship.terms import ProgramTerms
from domain.mentorship.values import ActionItemFields, ActionItemStatus, GoalProgress
from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers


# The id comes from a base listed last so that it stays the first field (pydantic collects
# fields in reverse MRO order): the state query and continue-as-new payloads keep their shape.
class _GoalId(BaseModel):
    goal_id: str


class Goal(GoalProgress, _GoalId):
    """A career goal of the mentee."""


class _ItemId(BaseModel):
    item_id: str


class ActionItemState(ActionItemFields, _ItemId):
    """An action item and its follow-up."""

    conversation_number: int
    status: ActionItemStatus = "open"
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


class PrivateNote(BaseModel):
    """A conversation's private notes and the participant who wrote them."""

    conversation_number: int
    author_id: str
    text: str


class Survey(BaseModel):
    """A closing-survey answer."""

    person_id: str
    satisfaction: int
    value: int
    would_recommend: bool
    comment: str = ""


class Parties(BaseModel):
    """A relationship's stream and its two people (the cohort's view of it shares these)."""

    stream_id: str
    mentor_id: str
    mentee_id: str


class MentorshipState(Parties):
    """Everything the relationship's rules need, as a fold of its events."""

    model_config = ConfigDict(validate_assignment=False)

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
    authored_notes: list[PrivateNote] = Field(
        default_factory=list,
        description="Private notes whose author is known (ConversationHeld v2): shown to that "
        "author only, never in the snapshot",
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

    def action_items_overdue_at(self, now: datetime) -> list[ActionItemState]:
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
    """The state after ``event``; ``state`` itself is left untouched.

    The stage follows the lifecycle rules the read models share (`STAGE_RULES`); the rest
    follows this module's handlers. Events neither knows (reminders, check-ins) change
    nothing the rules need.
    """
    new_state = state.model_copy(deep=True)
    STAGE_RULES.apply(new_state, event, None)
    _HANDLERS.apply(new_state, event, None)
    return new_state


_HANDLERS = EventHandlers[MentorshipState, None]()


@_HANDLERS.on(m.MentorshipMatched)
def _(state: MentorshipState, event: m.MentorshipMatched, _: None) -> None:
    state.match_score = event.match_score
    state.match_reasons = list(event.reasons)
    state.rematch_of = event.rematch_of


@_HANDLERS.on(m.OnboardingStarted)
def _(state: MentorshipState, event: m.OnboardingStarted, _: None) -> None:
    state.onboarding_deadline = event.deadline


@_HANDLERS.on(m.TrainingModuleCompleted)
def _(state: MentorshipState, event: m.TrainingModuleCompleted, _: None) -> None:
    state.training_completed.setdefault(event.person_id, []).append(event.module)


@_HANDLERS.on(m.OnboardingReminderDue)
def _(state: MentorshipState, event: m.OnboardingReminderDue, _: None) -> None:
    state.onboarding_reminded = True


@_HANDLERS.on(m.OnboardingOverdue)
def _(state: MentorshipState, event: m.OnboardingOverdue, _: None) -> None:
    state.onboarding_overdue = True


@_HANDLERS.on(m.OnboardingCompleted)
def _(state: MentorshipState, event: m.OnboardingCompleted, _: None) -> None:
    state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.GoalSet)
def _(state: MentorshipState, event: m.GoalSet, _: None) -> None:
    state.goals_created += 1
    state.goals[event.goal_id] = Goal(
        goal_id=event.goal_id,
        horizon=event.horizon,
        description=event.description,
        motivation=event.motivation,
        strengths=list(event.strengths),
        target_date=event.target_date,
    )


@_HANDLERS.on(m.GoalRevised)
def _(state: MentorshipState, event: m.GoalRevised, _: None) -> None:
    goal = state.goals[event.goal_id]
    if event.description is not None:
        goal.description = event.description
    if event.target_date is not None:
        goal.target_date = event.target_date
    if event.progress is not None:
        goal.progress = event.progress


@_HANDLERS.on(m.GoalAchieved)
def _(state: MentorshipState, event: m.GoalAchieved, _: None) -> None:
    goal = state.goals[event.goal_id]
    goal.status = "achieved"
    goal.progress = 100


@_HANDLERS.on(m.GoalDropped)
def _(state: MentorshipState, event: m.GoalDropped, _: None) -> None:
    state.goals[event.goal_id].status = "dropped"


@_HANDLERS.on(m.ConversationHeld)
def _(state: MentorshipState, event: m.ConversationHeld, _: None) -> None:
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
        if event.logged_by is not None:
            state.authored_notes.append(
                PrivateNote(
                    conversation_number=event.conversation_number,
                    author_id=event.logged_by,
                    text=event.notes,
                )
            )
    for item in event.action_items:
        _add_action_item(state, item, event.conversation_number)


@_HANDLERS.on(m.FeedbackGiven)
def _(state: MentorshipState, event: m.FeedbackGiven, _: None) -> None:
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


@_HANDLERS.on(m.ActionItemsCarriedOver)
def _(state: MentorshipState, event: m.ActionItemsCarriedOver, _: None) -> None:
    for item in event.items:
        _add_action_item(state, item, conversation_number=0)


@_HANDLERS.on(m.ConversationReminderDue)
def _(state: MentorshipState, event: m.ConversationReminderDue, _: None) -> None:
    state.reminded_for_due = event.due_at


@_HANDLERS.on(m.ConversationMissed)
def _(state: MentorshipState, event: m.ConversationMissed, _: None) -> None:
    state.consecutive_misses = event.consecutive_misses
    state.total_misses += 1
    state.next_conversation_due = event.next_conversation_due


@_HANDLERS.on(m.MentorshipEscalated)
def _(state: MentorshipState, event: m.MentorshipEscalated, _: None) -> None:
    state.escalations += 1
    state.escalated_in_streak = True


@_HANDLERS.on(m.ActionItemCheckInDue)
def _(state: MentorshipState, event: m.ActionItemCheckInDue, _: None) -> None:
    state.action_items[event.item_id].checked_in = True


@_HANDLERS.on(m.ActionItemCompleted)
def _(state: MentorshipState, event: m.ActionItemCompleted, _: None) -> None:
    item = state.action_items[event.item_id]
    item.status = "completed"
    item.completed_at = event.completed_at


@_HANDLERS.on(m.ActionItemRescheduled)
def _(state: MentorshipState, event: m.ActionItemRescheduled, _: None) -> None:
    item = state.action_items[event.item_id]
    item.due_at = event.due_at
    item.checked_in = False


@_HANDLERS.on(m.ChallengeSet)
def _(state: MentorshipState, event: m.ChallengeSet, _: None) -> None:
    state.challenges[event.challenge_id] = Challenge(
        challenge_id=event.challenge_id,
        skill=event.skill,
        description=event.description,
        due_at=event.due_at,
    )


@_HANDLERS.on(m.ChallengeProgressRecorded)
def _(state: MentorshipState, event: m.ChallengeProgressRecorded, _: None) -> None:
    state.challenges[event.challenge_id].progress = event.progress


@_HANDLERS.on(m.ReviewSummaryDrafted)
def _(state: MentorshipState, event: m.ReviewSummaryDrafted, _: None) -> None:
    if event.cycle_id not in state.review_cycles_started:
        state.review_cycles_started.append(event.cycle_id)
    state.reviews[event.cycle_id] = ReviewState(
        cycle_id=event.cycle_id, summary=event.summary, respond_by=event.respond_by
    )


@_HANDLERS.on(m.ReviewSummaryShared)
def _(state: MentorshipState, event: m.ReviewSummaryShared, _: None) -> None:
    review = state.reviews[event.cycle_id]
    review.status = "shared"
    review.summary = event.summary


@_HANDLERS.on(m.ReviewSummaryWithheld)
def _(state: MentorshipState, event: m.ReviewSummaryWithheld, _: None) -> None:
    state.reviews[event.cycle_id].status = "withheld"


@_HANDLERS.on(m.MentorshipPaused)
def _(state: MentorshipState, event: m.MentorshipPaused, _: None) -> None:
    state.pause_reason = event.reason
    state.paused_at = event.paused_at


def _shift(moment: datetime | None, by: timedelta) -> datetime | None:
    return None if moment is None else moment + by


@_HANDLERS.on(m.MentorshipResumed)
def _(state: MentorshipState, event: m.MentorshipResumed, _: None) -> None:
    state.pause_reason = None
    state.paused_at = None
    state.onboarding_deadline = _shift(state.onboarding_deadline, event.paused_for)
    state.next_conversation_due = event.next_conversation_due
    shift_open_items(state.action_items.values(), event.paused_for)


@_HANDLERS.on(m.DeadlineExtended)
def _(state: MentorshipState, event: m.DeadlineExtended, _: None) -> None:
    if event.deadline == "onboarding":
        state.onboarding_deadline = event.new_deadline
        state.onboarding_overdue = False
        state.onboarding_reminded = False
    else:
        state.next_conversation_due = event.new_deadline


@_HANDLERS.on(m.ClosureStarted)
def _(state: MentorshipState, event: m.ClosureStarted, _: None) -> None:
    state.closure_reason = event.reason
    state.survey_closes_at = event.survey_closes_at


@_HANDLERS.on(m.SurveySubmitted)
def _(state: MentorshipState, event: m.SurveySubmitted, _: None) -> None:
    state.surveys[event.person_id] = Survey(
        person_id=event.person_id,
        satisfaction=event.satisfaction,
        value=event.value,
        would_recommend=event.would_recommend,
        comment=event.comment,
    )
