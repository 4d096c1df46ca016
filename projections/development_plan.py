"""Development plan of a mentee: goals, skills, challenges, action items and feedback.

One plan per relationship (a rematched mentee has one per relationship; the reader merges
them by ``mentee_id``). Free text is stored as written; who may read it is the API's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.mentorship.values import GoalProgress
from events import DomainEvent
from events import mentorship as m
from events.handlers import EventHandlers
from projections.base import SingleStateProjection
from projections.dispatch import StateCodec
from projections.relationship import ActionItems, Relationship
from projections.tables import Row, Rows, Table

PLANS = Table(
    "development_plans",
    (
        "stream_id",
        "cohort_id",
        "mentee_id",
        "mentor_id",
        "stage",
        "skills_worked_on",
        "conversations_held",
        "goals_active",
        "goals_achieved",
        "action_items_open",
        "action_items_completed",
        "feedback_received",
        "feedback_given",
        "updated_at",
    ),
)
GOALS = Table(
    "development_goals",
    (
        "stream_id",
        "goal_id",
        "horizon",
        "status",
        "progress",
        "description",
        "motivation",
        "target_date",
        "set_at",
        "closed_at",
    ),
    key_size=2,
)
CHALLENGES = Table(
    "development_challenges",
    ("stream_id", "challenge_id", "skill", "description", "due_at", "progress", "set_at"),
    key_size=2,
)
ITEMS = Table(
    "development_action_items",
    (
        "stream_id",
        "item_id",
        "owner",
        "description",
        "conversation_number",
        "due_at",
        "status",
        "overdue",
        "completed_at",
    ),
    key_size=2,
)
FEEDBACK = Table(
    "development_feedback",
    ("stream_id", "conversation_number", "direction", "feedback", "given_at"),
    key_size=3,
)
RATINGS = ("usefulness", "listening", "clarity", "preparation", "follow_through")
"""FeedbackGiven's ratings, in the column order of `FEEDBACK_GIVEN`."""
FEEDBACK_GIVEN = Table(
    "development_feedback_given",
    (
        "stream_id",
        "conversation_number",
        "direction",
        "author_id",
        *RATINGS,
        "comment",
        "given_at",
    ),
    key_size=3,
)


class GoalEntry(GoalProgress):
    """A goal as the plan shows it: the domain's goal, with when it was set and closed."""

    set_at: datetime
    closed_at: datetime | None = None


@dataclass(slots=True)
class ChallengeEntry:
    """A challenge set by the mentor."""

    skill: str
    description: str
    due_at: datetime
    set_at: datetime
    progress: int = 0


@dataclass(slots=True)
class FeedbackEntry:
    """Feedback written in a conversation."""

    conversation_number: int
    direction: Literal["to_mentee", "to_mentor"]
    text: str
    given_at: datetime


@dataclass(slots=True)
class GivenFeedback:
    """Feedback one side gave the other through its own route, with ratings."""

    conversation_number: int
    direction: Literal["to_mentee", "to_mentor"]
    author_id: str
    ratings: dict[str, int]
    comment: str
    given_at: datetime


@dataclass(slots=True)
class PlanState:
    """What a relationship's development plan is made of."""

    relationship: Relationship = field(default_factory=Relationship)
    goals: dict[str, GoalEntry] = field(default_factory=dict)
    skills: list[str] = field(default_factory=list)
    challenges: dict[str, ChallengeEntry] = field(default_factory=dict)
    items: ActionItems = field(default_factory=lambda: ActionItems(keep_descriptions=True))
    feedback: list[FeedbackEntry] = field(default_factory=list)
    given: list[GivenFeedback] = field(default_factory=list)
    conversations_held: int = 0
    updated_at: datetime | None = None


_CODEC = StateCodec(PlanState)
_HANDLERS = EventHandlers[PlanState, datetime]()


@_HANDLERS.on(m.GoalSet)
def _goal_set(state: PlanState, event: m.GoalSet, at: datetime) -> None:
    state.goals[event.goal_id] = GoalEntry(
        horizon=event.horizon,
        description=event.description,
        motivation=event.motivation,
        strengths=list(event.strengths),
        target_date=event.target_date,
        set_at=at,
    )


@_HANDLERS.on(m.GoalRevised)
def _goal_revised(state: PlanState, event: m.GoalRevised, _: datetime) -> None:
    if goal := state.goals.get(event.goal_id):
        goal.description = event.description or goal.description
        goal.target_date = event.target_date or goal.target_date
        goal.progress = goal.progress if event.progress is None else event.progress


@_HANDLERS.on(m.GoalAchieved)
def _goal_achieved(state: PlanState, event: m.GoalAchieved, at: datetime) -> None:
    if goal := state.goals.get(event.goal_id):
        goal.status, goal.progress, goal.closed_at = "achieved", 100, at


@_HANDLERS.on(m.GoalDropped)
def _goal_dropped(state: PlanState, event: m.GoalDropped, at: datetime) -> None:
    if goal := state.goals.get(event.goal_id):
        goal.status, goal.closed_at = "dropped", at


@_HANDLERS.on(m.ConversationHeld)
def _held(state: PlanState, event: m.ConversationHeld, _: datetime) -> None:
    state.conversations_held += 1
    for skill in event.skills:
        if skill not in state.skills:
            state.skills.append(skill)
    if event.feedback_to_mentee.strip():
        state.feedback.append(
            FeedbackEntry(
                event.conversation_number, "to_mentee", event.feedback_to_mentee, event.held_at
            )
        )
    if event.feedback_to_mentor.strip():
        state.feedback.append(
            FeedbackEntry(
                event.conversation_number, "to_mentor", event.feedback_to_mentor, event.held_at
            )
        )


@_HANDLERS.on(m.FeedbackGiven)
def _feedback_given(state: PlanState, event: m.FeedbackGiven, at: datetime) -> None:
    state.given.append(
        GivenFeedback(
            conversation_number=event.conversation_number,
            direction="to_mentee" if event.to == "mentee" else "to_mentor",
            author_id=event.person_id,
            ratings={
                name: rating for name in RATINGS if (rating := getattr(event, name)) is not None
            },
            comment=event.comment,
            given_at=at,
        )
    )


@_HANDLERS.on(m.ChallengeSet)
def _challenge_set(state: PlanState, event: m.ChallengeSet, at: datetime) -> None:
    state.challenges[event.challenge_id] = ChallengeEntry(
        skill=event.skill, description=event.description, due_at=event.due_at, set_at=at
    )


@_HANDLERS.on(m.ChallengeProgressRecorded)
def _challenge_progress(state: PlanState, event: m.ChallengeProgressRecorded, _: datetime) -> None:
    if challenge := state.challenges.get(event.challenge_id):
        challenge.progress = event.progress


def _count(state: PlanState, direction: str) -> int:
    return sum(entry.direction == direction for entry in state.feedback) + sum(
        given.direction == direction for given in state.given
    )


class DevelopmentPlan(SingleStateProjection[PlanState]):
    """Goals with horizon, status and progress; skills; challenges; items; feedback."""

    name = "development_plan"
    description = "Per mentee and relationship: goals, skills, challenges, items, feedback."
    stream_types = frozenset({"mentorship"})
    tables = (PLANS, GOALS, CHALLENGES, ITEMS, FEEDBACK, FEEDBACK_GIVEN)

    def __init__(self) -> None:
        super().__init__(PlanState, _CODEC)

    def apply(self, state: PlanState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        state.relationship.follow(event, occurred_at)
        state.items.follow(event, occurred_at)
        state.updated_at = occurred_at
        _HANDLERS.apply(state, event, occurred_at)

    def rows(self, stream_id: str, state: PlanState) -> Rows:
        """The plan row and its goals, challenges, items and feedback."""
        relationship = state.relationship
        if not relationship.known or state.updated_at is None:
            return {table.name: [] for table in self.tables}
        goals = state.goals.values()
        plan: Row = (
            stream_id,
            relationship.cohort_id,
            relationship.mentee_id,
            relationship.mentor_id,
            relationship.stage,
            list(state.skills),
            state.conversations_held,
            sum(goal.status == "active" for goal in goals),
            sum(goal.status == "achieved" for goal in goals),
            state.items.open,
            state.items.completed,
            _count(state, "to_mentee"),
            _count(state, "to_mentor"),
            state.updated_at,
        )
        return {
            PLANS.name: [plan],
            GOALS.name: [
                (
                    stream_id,
                    goal_id,
                    goal.horizon,
                    goal.status,
                    goal.progress,
                    goal.description,
                    goal.motivation,
                    goal.target_date,
                    goal.set_at,
                    goal.closed_at,
                )
                for goal_id, goal in state.goals.items()
            ],
            CHALLENGES.name: [
                (
                    stream_id,
                    challenge_id,
                    challenge.skill,
                    challenge.description,
                    challenge.due_at,
                    challenge.progress,
                    challenge.set_at,
                )
                for challenge_id, challenge in state.challenges.items()
            ],
            ITEMS.name: [
                (
                    stream_id,
                    item_id,
                    item.owner,
                    item.description,
                    item.conversation_number,
                    item.due_at,
                    item.status,
                    item.overdue,
                    item.completed_at,
                )
                for item_id, item in state.items.items.items()
            ],
            FEEDBACK.name: [
                (stream_id, entry.conversation_number, entry.direction, entry.text, entry.given_at)
                for entry in state.feedback
            ],
            FEEDBACK_GIVEN.name: [
                (
                    stream_id,
                    given.conversation_number,
                    given.direction,
                    given.author_id,
                    *(given.ratings.get(name) for name in RATINGS),
                    given.comment,
                    given.given_at,
                )
                for given in state.given
            ],
        }
