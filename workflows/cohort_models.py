"""Inputs and results of the cohort workflow."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.cohort_spec import CohortSpec, ParticipantSpec
from domain.cohort_state import CohortState
from domain.notification_spec import NotificationsSpec
from events.cohort import Pair, ScoreBreakdown, SolverReport, Unmatched

DEFAULT_BATCH_SIZE = 100
DEFAULT_COHORT_HISTORY_LIMIT = 10_000


class CohortWorkflowInput(BaseModel):
    """A cohort to run (or to continue, with ``state`` set, after continue-as-new).

    A launch gives the ``spec``. A continued run gets the ``state``, which holds the spec as
    it is now (late joiners included), and no second copy of it: runs that continued before
    that change carry both, and the state's wins.
    """

    model_config = ConfigDict(frozen=True)

    spec: CohortSpec | None = None
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=1000)
    history_limit: int = Field(default=DEFAULT_COHORT_HISTORY_LIMIT, ge=200)
    mentorship_history_limit: int | None = None
    state: CohortState | None = None
    departed: list[str] = Field(default_factory=list)
    """Participants away from the organisation (the leaver flow's `ParticipantDeparture`
    signals): never chosen as a mentor by a rematch or a proposal while away."""

    @model_validator(mode="after")
    def _spec_or_state(self) -> Self:
        if self.spec is None and self.state is None:
            raise ValueError("a cohort needs its spec (at launch) or its state (continuing)")
        return self


class CohortWorkflowResult(BaseModel):
    """How the cohort ended."""

    cohort_id: str
    relationships: int
    by_stage: dict[str, int]
    rematches: int
    unmatched: int


class MatchingOutcome(BaseModel):
    """The launch answer: who was matched with whom, and who could not be, and why."""

    cohort_id: str
    awaiting_approval: bool
    pairs: list[Pair] = Field(description="The engine's proposal")
    unmatched: list[Unmatched]
    total_score: float
    breakdowns: dict[str, ScoreBreakdown] = Field(
        default_factory=dict,
        description="Mentee id → the parts of the proposed pair's score (empty for matchings "
        "recorded before breakdowns were kept)",
    )
    solver: SolverReport | None = Field(default=None, description="How the optimum was found")
    approved_pairs: list[Pair] | None = Field(
        default=None, description="The pairs that start, with HR's overrides; null until approved"
    )


class PairOverride(BaseModel):
    """HR's choice of mentor for a mentee."""

    mentor_id: str
    mentee_id: str


class ApproveMatches(BaseModel):
    """HR accepts the proposed matches, optionally with overrides."""

    overrides: list[PairOverride] = Field(default_factory=list)


class AddParticipant(BaseModel):
    """A late joiner."""

    participant: ParticipantSpec


class ParticipantAdded(BaseModel):
    """What became of a late joiner."""

    participant_id: str
    stream_id: str | None = None
    unmatched_reason: str | None = None


MAX_CARDS = 50
"""The most people one ``participant_cards`` query asks for."""


class ParticipantCardsInput(BaseModel):
    """Whose cards to answer (a console page asks for the two people of one relationship,
    the notifier's contacts route for the recipients of one event)."""

    person_ids: list[str] = Field(max_length=MAX_CARDS)


class ParticipantCard(BaseModel):
    """How a participant is shown and reached: name, time zone, languages and email address
    from the cohort spec."""

    person_id: str
    name: str
    timezone: str
    languages: list[str] = Field(default_factory=list)
    email: str | None = None


class ParticipantCardsResult(BaseModel):
    """The cards of the asked people the spec knows (unknown ids are left out), and the
    spec's notification settings (None from workers older than them)."""

    cards: dict[str, ParticipantCard] = Field(default_factory=dict)
    notifications: NotificationsSpec | None = None


class DepartureTerms(BaseModel):
    """What the leaver flow needs of a cohort's program."""

    leaver_grace_period: timedelta


class ProposeRematch(BaseModel):
    """Ask what a rematch of ``mentee_id`` would choose now, without recording anything
    (HR decides on reporting-line conflicts)."""

    mentee_id: str = Field(max_length=64)
    excluded_mentor_ids: list[str] = Field(default_factory=list, max_length=200)


class RematchProposal(BaseModel):
    """The mentor a rematch would choose, or why there is none."""

    pair: Pair | None = None
    unmatched_reason: str | None = None


class ParticipantDeparture(BaseModel):
    """The leaver flow's news: a participant left the organisation, or came back."""

    person_id: str = Field(max_length=64)
    away: bool
