"""The state of a cohort and `evolve(state, event) -> state`, plus the program terms a
relationship of the cohort runs under.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.cohort_spec import CohortSpec, ParticipantSpec
from domain.mentorship.lifecycle import ENDED_STAGES
from domain.mentorship.state import Parties
from domain.mentorship.terms import ProgramTerms
from events import DomainEvent
from events import cohort as k
from events.handlers import EventHandlers


class CohortStage(StrEnum):
    """Where the cohort stands."""

    LAUNCHED = "launched"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    CLOSED = "closed"


class Relationship(Parties):
    """A mentorship of the cohort, as the cohort knows it (the stage it last reported)."""

    stage: str = "matched"
    rematch: int = 0


class CohortState(BaseModel):
    """A fold of the cohort's events, plus the stages its relationships report."""

    cohort_id: str
    spec: CohortSpec
    stage: CohortStage = CohortStage.LAUNCHED
    version: int = 0
    matching: k.MatchingCompleted | None = None
    approved_pairs: list[k.Pair] | None = None
    relationships: dict[str, Relationship] = Field(default_factory=dict)
    unmatched: dict[str, k.Unmatched] = Field(default_factory=dict)
    rematches: int = 0

    def pairs_to_start(self) -> list[k.Pair]:
        """Approved pairs whose relationship was not started yet."""
        started = {r.mentee_id for r in self.relationships.values() if r.rematch == 0}
        return [pair for pair in self.approved_pairs or [] if pair.mentee_id not in started]

    def mentor_loads(self) -> dict[str, int]:
        """Relationships per mentor that are not closing or closed."""
        return dict(
            Counter(r.mentor_id for r in self.relationships.values() if r.stage not in ENDED_STAGES)
        )

    def counts_by_stage(self) -> dict[str, int]:
        """Relationships per stage."""
        return dict(sorted(Counter(r.stage for r in self.relationships.values()).items()))

    def previous_mentors(self, mentee_id: str) -> list[str]:
        """Every mentor the mentee has had in this cohort."""
        return sorted(
            {r.mentor_id for r in self.relationships.values() if r.mentee_id == mentee_id}
        )

    def rematch_count(self, mentee_id: str) -> int:
        """How many times the mentee was matched again."""
        return max(
            (r.rematch for r in self.relationships.values() if r.mentee_id == mentee_id), default=0
        )


def program_terms(spec: CohortSpec) -> ProgramTerms:
    """The terms every relationship of the cohort runs under."""
    program = spec.program
    return ProgramTerms(
        cohort_id=spec.cohort_id,
        program_name=program.name,
        starts_at=program.starts_at,
        ends_at=program.ends_at,
        conversation_cadence=program.conversation_cadence,
        grace_period=program.grace_period,
        onboarding_window=program.onboarding_window,
        escalate_after_missed=program.escalate_after_missed,
        training_modules=list(program.training_modules),
        review_cycles=list(program.review_cycles),
    )


def with_participant(spec: CohortSpec, participant: ParticipantSpec) -> CohortSpec:
    """The spec with a late joiner added (validated like the original)."""
    return CohortSpec.model_validate(
        {
            **spec.model_dump(),
            "participants": [*spec.model_dump()["participants"], participant.model_dump()],
        }
    )


def evolve(state: CohortState, event: DomainEvent) -> CohortState:
    """The state after ``event``; ``state`` itself is left untouched."""
    new_state = state.model_copy(deep=True)
    _HANDLERS.apply(new_state, event, None)
    return new_state


_HANDLERS = EventHandlers[CohortState, None]()
"""Events without a handler change nothing the cohort's rules need."""


@_HANDLERS.on(k.MatchingCompleted)
def _(state: CohortState, event: k.MatchingCompleted, _: None) -> None:
    state.matching = event
    state.unmatched = {u.mentee_id: u for u in event.unmatched}
    if not state.spec.program.require_hr_approval:
        state.approved_pairs = list(event.pairs)
        state.stage = CohortStage.RUNNING
    else:
        state.stage = CohortStage.AWAITING_APPROVAL


@_HANDLERS.on(k.MatchesApproved)
def _(state: CohortState, event: k.MatchesApproved, _: None) -> None:
    state.approved_pairs = list(event.pairs)
    approved = {pair.mentee_id for pair in event.pairs}
    state.unmatched = {m: u for m, u in state.unmatched.items() if m not in approved}
    state.stage = CohortStage.RUNNING


@_HANDLERS.on(k.MentorshipsStarted)
def _(state: CohortState, event: k.MentorshipsStarted, _: None) -> None:
    by_mentee = {pair.mentee_id: pair for pair in state.approved_pairs or []}
    for stream_id in event.stream_ids:
        mentee_id = stream_id.removeprefix(f"mentorship-{state.cohort_id}-")
        pair = by_mentee[mentee_id]
        state.relationships[stream_id] = Relationship(
            stream_id=stream_id, mentor_id=pair.mentor_id, mentee_id=mentee_id
        )


@_HANDLERS.on(k.ParticipantJoined)
def _(state: CohortState, event: k.ParticipantJoined, _: None) -> None:
    """The spec itself is extended by the workflow, which holds the joiner's profile."""


@_HANDLERS.on(k.MenteeRematched)
def _(state: CohortState, event: k.MenteeRematched, _: None) -> None:
    if event.previous_stream_id is not None:
        state.rematches += 1
    state.unmatched.pop(event.pair.mentee_id, None)
    state.relationships[event.stream_id] = Relationship(
        stream_id=event.stream_id,
        mentor_id=event.pair.mentor_id,
        mentee_id=event.pair.mentee_id,
        rematch=state.rematch_count(event.pair.mentee_id) + (event.previous_stream_id is not None),
    )


@_HANDLERS.on(k.RematchFailed)
def _(state: CohortState, event: k.RematchFailed, _: None) -> None:
    state.unmatched[event.unmatched.mentee_id] = event.unmatched


@_HANDLERS.on(k.CohortClosed)
def _(state: CohortState, event: k.CohortClosed, _: None) -> None:
    state.stage = CohortStage.CLOSED
