"""Cohort dashboard: one row per cohort and one per relationship, aggregated when read.

A cohort's figures (pairs per stage, adherence, completion rates, at-risk pairs) are sums
over its relationships. Keeping one row per relationship, rather than a counter row per
cohort that every relationship updates, means no two streams ever write the same row:
events of a cohort's pairs apply concurrently, and a row never needs a read-modify-write
across streams. `projections.queries.cohort_dashboard` does the sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from events import DomainEvent
from events import cohort as k
from events import mentorship as m
from events.handlers import EventHandlers
from projections.base import Projection, stream_type_of
from projections.dispatch import StateCodec
from projections.relationship import ActionItems, Relationship
from projections.tables import Rows, Table

COHORTS = Table(
    "dashboard_cohorts",
    (
        "stream_id",
        "cohort_id",
        "program_name",
        "starts_at",
        "ends_at",
        "participant_count",
        "unmatched_mentees",
        "launched_at",
        "closed_at",
    ),
)
PAIRS = Table(
    "dashboard_pairs",
    (
        "stream_id",
        "cohort_id",
        "stage",
        "onboarding_completed",
        "onboarding_overdue",
        "conversations_held",
        "conversations_due",
        "conversations_on_time",
        "conversations_missed",
        "consecutive_misses",
        "action_items_created",
        "action_items_completed",
        "action_items_overdue",
        "escalations",
        "surveys_received",
        "satisfaction_total",
        "rematch_requested",
        "is_rematch",
        "at_risk",
        "training_completed",
        "goals_set",
        "kickoff_held",
    ),
)
STAGE_CHANGES = Table(
    "dashboard_stage_changes",
    ("stream_id", "change_number", "cohort_id", "stage", "changed_at"),
    key_size=2,
)
CONVERSATIONS = Table(
    "dashboard_conversations",
    ("stream_id", "conversation_number", "cohort_id", "due_at", "outcome"),
    key_size=2,
)
SURVEYS = Table(
    "dashboard_surveys", ("stream_id", "person_id", "cohort_id", "satisfaction"), key_size=2
)


@dataclass(slots=True)
class CohortFacts:
    """A cohort stream's part of the dashboard."""

    cohort_id: str = ""
    program_name: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    participant_count: int = 0
    unmatched_mentees: int = 0
    launched_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(slots=True)
class StageChange:
    """A stage a relationship entered, and when."""

    stage: str
    at: datetime


@dataclass(slots=True)
class ConversationOutcome:
    """A conversation that had a due date: ``on_time``, ``late`` or ``missed``."""

    due_at: datetime
    outcome: str


@dataclass(slots=True)
class PairFacts:
    """A relationship's part of the dashboard."""

    relationship: Relationship = field(default_factory=Relationship)
    onboarding_completed: bool = False
    onboarding_overdue: bool = False
    conversations_held: int = 0
    conversations_due: int = 0
    conversations_on_time: int = 0
    conversations_missed: int = 0
    consecutive_misses: int = 0
    escalations: int = 0
    items: ActionItems = field(default_factory=ActionItems)
    satisfaction: dict[str, int] = field(default_factory=dict)
    rematch_requested: bool = False
    stage_changes: list[StageChange] = field(default_factory=list)
    conversations: dict[int, ConversationOutcome] = field(default_factory=dict)
    training_modules: list[str] = field(default_factory=list)
    trained: dict[str, list[str]] = field(default_factory=dict)
    goal_horizons: list[str] = field(default_factory=list)
    kickoff_held: bool = False

    @property
    def training_completed(self) -> bool:
        """Both sides completed every module of the program's training."""
        people = (self.relationship.mentor_id, self.relationship.mentee_id)
        return all(
            module in self.trained.get(person, [])
            for person in people
            for module in self.training_modules
        )

    @property
    def goals_set(self) -> bool:
        """The mentee set a short-term and a long-term goal (onboarding asks for both)."""
        return {"short", "long"} <= set(self.goal_horizons)

    @property
    def at_risk(self) -> bool:
        """Running and behind: a missed conversation in a row, or an overdue item."""
        running = self.relationship.stage not in {"closing", "closed"}
        return running and (self.consecutive_misses >= 1 or self.items.overdue > 0)


DashboardState = CohortFacts | PairFacts
_COHORT_CODEC = StateCodec(CohortFacts)
_PAIR_CODEC = StateCodec(PairFacts)
_COHORT = EventHandlers[CohortFacts, datetime]()
_PAIR = EventHandlers[PairFacts, datetime]()


@_COHORT.on(k.CohortLaunched)
def _launched(state: CohortFacts, event: k.CohortLaunched, at: datetime) -> None:
    state.cohort_id, state.program_name = event.cohort_id, event.program_name
    state.starts_at, state.ends_at = event.starts_at, event.ends_at
    state.participant_count, state.launched_at = event.participant_count, at


@_COHORT.on(k.MatchingCompleted)
def _matching(state: CohortFacts, event: k.MatchingCompleted, _: datetime) -> None:
    state.unmatched_mentees = len(event.unmatched)


@_COHORT.on(k.CohortClosed)
def _cohort_closed(state: CohortFacts, event: k.CohortClosed, at: datetime) -> None:
    state.closed_at = at


@_PAIR.on(m.OnboardingCompleted)
def _onboarded(state: PairFacts, event: m.OnboardingCompleted, _: datetime) -> None:
    state.onboarding_completed, state.onboarding_overdue = True, False


@_PAIR.on(m.OnboardingOverdue)
def _onboarding_overdue(state: PairFacts, event: m.OnboardingOverdue, _: datetime) -> None:
    state.onboarding_overdue = True


@_PAIR.on(m.DeadlineExtended)
def _extended(state: PairFacts, event: m.DeadlineExtended, _: datetime) -> None:
    if event.deadline == "onboarding":
        state.onboarding_overdue = False


@_PAIR.on(m.OnboardingStarted)
def _onboarding(state: PairFacts, event: m.OnboardingStarted, _: datetime) -> None:
    state.training_modules = list(event.training_modules)


@_PAIR.on(m.TrainingModuleCompleted)
def _trained(state: PairFacts, event: m.TrainingModuleCompleted, _: datetime) -> None:
    done = state.trained.setdefault(event.person_id, [])
    if event.module not in done:
        done.append(event.module)


@_PAIR.on(m.GoalSet)
def _goal(state: PairFacts, event: m.GoalSet, _: datetime) -> None:
    if event.horizon not in state.goal_horizons:
        state.goal_horizons.append(event.horizon)


@_PAIR.on(m.ConversationHeld)
def _held(state: PairFacts, event: m.ConversationHeld, _: datetime) -> None:
    state.conversations_held += 1
    state.consecutive_misses = 0
    state.kickoff_held = state.kickoff_held or event.kickoff
    if event.due_at is not None:
        state.conversations_due += 1
        on_time = event.held_at <= event.due_at
        state.conversations_on_time += on_time
        state.conversations[event.conversation_number] = ConversationOutcome(
            event.due_at, "on_time" if on_time else "late"
        )


@_PAIR.on(m.ConversationMissed)
def _missed(state: PairFacts, event: m.ConversationMissed, _: datetime) -> None:
    state.conversations_missed += 1
    state.consecutive_misses = event.consecutive_misses
    state.conversations[event.conversation_number] = ConversationOutcome(event.due_at, "missed")


@_PAIR.on(m.MentorshipEscalated)
def _escalated(state: PairFacts, event: m.MentorshipEscalated, _: datetime) -> None:
    state.escalations += 1


@_PAIR.on(m.SurveySubmitted)
def _survey(state: PairFacts, event: m.SurveySubmitted, _: datetime) -> None:
    state.satisfaction[event.person_id] = event.satisfaction


@_PAIR.on(m.RematchRequested)
def _rematch(state: PairFacts, event: m.RematchRequested, _: datetime) -> None:
    state.rematch_requested = True


class CohortDashboard(Projection[DashboardState]):
    """Pairs per stage, onboarding, cadence adherence, completion, satisfaction, risks."""

    name = "cohort_dashboard"
    description = "Per cohort and relationship: the figures HR dashboards sum up."
    stream_types = frozenset({"cohort", "mentorship"})
    tables = (COHORTS, PAIRS, STAGE_CHANGES, CONVERSATIONS, SURVEYS)

    def new_state(self, stream_id: str) -> DashboardState:
        """Cohort facts for a cohort stream, pair facts for a relationship."""
        return CohortFacts() if stream_type_of(stream_id) == "cohort" else PairFacts()

    def load_state(self, stream_id: str, text: str) -> DashboardState:
        """The stored state."""
        if stream_type_of(stream_id) == "cohort":
            return _COHORT_CODEC.load(text)
        return _PAIR_CODEC.load(text)

    def dump_state(self, state: DashboardState) -> str:
        """The state as JSON."""
        if isinstance(state, CohortFacts):
            return _COHORT_CODEC.dump(state)
        return _PAIR_CODEC.dump(state)

    def apply(self, state: DashboardState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        if isinstance(state, CohortFacts):
            _COHORT.apply(state, event, occurred_at)
            return
        stage = state.relationship.stage
        state.relationship.follow(event, occurred_at)
        if state.relationship.stage != stage:
            state.stage_changes.append(StageChange(state.relationship.stage, occurred_at))
        state.items.follow(event, occurred_at)
        _PAIR.apply(state, event, occurred_at)

    def rows(self, stream_id: str, state: DashboardState) -> Rows:
        """The cohort row or the pair row."""
        if isinstance(state, CohortFacts):
            return {COHORTS.name: _cohort_rows(stream_id, state)}
        return _pair_tables(stream_id, state)


def _cohort_rows(stream_id: str, state: CohortFacts) -> list[tuple[object, ...]]:
    if state.launched_at is None or state.starts_at is None or state.ends_at is None:
        return []
    return [
        (
            stream_id,
            state.cohort_id,
            state.program_name,
            state.starts_at,
            state.ends_at,
            state.participant_count,
            state.unmatched_mentees,
            state.launched_at,
            state.closed_at,
        )
    ]


def _pair_tables(stream_id: str, state: PairFacts) -> Rows:
    cohort_id = state.relationship.cohort_id
    known = state.relationship.known
    return {
        PAIRS.name: _pair_rows(stream_id, state),
        STAGE_CHANGES.name: [
            (stream_id, number, cohort_id, change.stage, change.at)
            for number, change in enumerate(state.stage_changes, start=1)
        ]
        if known
        else [],
        CONVERSATIONS.name: [
            (stream_id, number, cohort_id, conversation.due_at, conversation.outcome)
            for number, conversation in sorted(state.conversations.items())
        ]
        if known
        else [],
        SURVEYS.name: [
            (stream_id, person_id, cohort_id, satisfaction)
            for person_id, satisfaction in sorted(state.satisfaction.items())
        ]
        if known
        else [],
    }


def _pair_rows(stream_id: str, state: PairFacts) -> list[tuple[object, ...]]:
    relationship = state.relationship
    if not relationship.known:
        return []
    return [
        (
            stream_id,
            relationship.cohort_id,
            relationship.stage,
            state.onboarding_completed,
            state.onboarding_overdue,
            state.conversations_held,
            state.conversations_due,
            state.conversations_on_time,
            state.conversations_missed,
            state.consecutive_misses,
            state.items.created,
            state.items.completed,
            state.items.overdue,
            state.escalations,
            len(state.satisfaction),
            sum(state.satisfaction.values()),
            state.rematch_requested,
            relationship.rematch_of is not None,
            state.at_risk,
            state.training_completed,
            state.goals_set,
            state.kickoff_held,
        )
    ]
