"""Events of a program cohort's stream (``cohort-{cohort_id}``).

Ids, scores, counts and reasons only: participants' names and profiles stay in the spec.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent


class _CohortEvent(DomainEvent):
    stream_type: ClassVar[str] = "cohort"


class CohortLaunched(_CohortEvent):
    """HR launched a cohort of a mentoring program."""

    event_type: Literal["CohortLaunched"] = "CohortLaunched"
    cohort_id: str = Field(description="Id of the cohort, [a-z0-9-]")
    program_name: str = Field(description="Name of the program")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    participant_count: int = Field(ge=0)
    mentor_count: int = Field(default=0, ge=0)
    mentee_count: int = Field(default=0, ge=0)
    require_hr_approval: bool = False


class Pair(BaseModel):
    """A proposed or started mentor–mentee pair."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mentor_id: str
    mentee_id: str
    score: float = Field(ge=0, le=1)
    reasons: list[str] = Field(default_factory=list)


class Unmatched(BaseModel):
    """A mentee without a mentor, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mentee_id: str
    reason_code: str
    reason: str


class ScoreBreakdown(BaseModel):
    """The four parts of a pair's compatibility score, each in [0, 1].

    Named as the matching engine names them (``matching.ScoreBreakdown``); the score is their
    mean weighted by the program's matching weights.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    skills: float = Field(ge=0, le=1, description="Coverage of the mentee's wanted skills")
    objectives: float = Field(ge=0, le=1, description="Shared career objectives")
    personality: float = Field(ge=0, le=1, description="Work-style (Big Five) fit")
    logistics: float = Field(ge=0, le=1, description="Time zones and languages")


class SolverReport(BaseModel):
    """How the matching engine found its optimum (deterministic: no timings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["sparse", "dense"]
    rounds: int = Field(ge=0, description="Candidate-graph rounds until proven optimal")
    candidate_pairs: int = Field(ge=0, description="Mentor-mentee pairs the solver weighed")


class MatchingCompleted(_CohortEvent):
    """The matching engine proposed pairs (optimal: most mentees, then best total score).

    Version 2 added each pair's score ``breakdowns`` and the ``solver`` report; version 1
    events read them as unknown (no breakdowns, no report).
    """

    schema_version: ClassVar[int] = 2
    event_type: Literal["MatchingCompleted"] = "MatchingCompleted"
    pairs: list[Pair]
    unmatched: list[Unmatched]
    total_score: float = Field(ge=0)
    breakdowns: dict[str, ScoreBreakdown] = Field(
        default_factory=dict,
        description="Mentee id → the parts of their pair's score (every pair; empty when the "
        "matching was recorded before version 2)",
    )
    solver: SolverReport | None = Field(
        default=None, description="How the optimum was found; null before version 2"
    )


class MatchesApproved(_CohortEvent):
    """HR approved the matches, possibly with overrides."""

    event_type: Literal["MatchesApproved"] = "MatchesApproved"
    overrides: list[Pair] = Field(default_factory=list)
    pairs: list[Pair] = Field(description="The pairs that start")


class MentorshipsStarted(_CohortEvent):
    """A batch of relationships was started (their own streams say the rest)."""

    event_type: Literal["MentorshipsStarted"] = "MentorshipsStarted"
    stream_ids: list[str]


class ParticipantJoined(_CohortEvent):
    """A late participant joined the cohort."""

    event_type: Literal["ParticipantJoined"] = "ParticipantJoined"
    participant_id: str
    roles: list[str]


class MenteeRematched(_CohortEvent):
    """A mentee got a (new) mentor from the remaining capacity."""

    event_type: Literal["MenteeRematched"] = "MenteeRematched"
    pair: Pair
    stream_id: str
    previous_stream_id: str | None = None


class RematchFailed(_CohortEvent):
    """No mentor is left for a mentee who asked for a rematch or joined late."""

    event_type: Literal["RematchFailed"] = "RematchFailed"
    unmatched: Unmatched
    previous_stream_id: str | None = None


class CohortClosed(_CohortEvent):
    """The program ended; outcomes of the cohort."""

    event_type: Literal["CohortClosed"] = "CohortClosed"
    relationships: int = Field(ge=0)
    by_stage: dict[str, int]
    rematches: int = Field(ge=0)
    unmatched: int = Field(ge=0)
