"""What the matching engine answers: pairs with scores and reasons, unmatched mentees."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UnmatchedReason(StrEnum):
    """Why a mentee has no mentor, as a stable code (the text explains it in plain words)."""

    NO_OTHER_MENTOR = "no_other_mentor"
    NO_SENIOR_MENTOR = "no_senior_mentor"
    ONLY_EXCLUDED_MENTORS = "only_excluded_mentors"
    CAPACITY_EXHAUSTED = "capacity_exhausted"


class ScoreBreakdown(_Result):
    """The four parts of a compatibility score, each in [0, 1] (see ``matching.scoring``)."""

    skills: float = Field(ge=0, le=1)
    objectives: float = Field(ge=0, le=1)
    personality: float = Field(ge=0, le=1)
    logistics: float = Field(ge=0, le=1)


class MatchedPair(_Result):
    """A mentor for a mentee, with the score and the main reasons in plain words."""

    mentor_id: str
    mentee_id: str
    score: float = Field(ge=0, le=1, description="Compatibility, rounded to 3 decimals")
    breakdown: ScoreBreakdown
    reasons: list[str] = Field(description="Top reasons, strongest first")


class UnmatchedMentee(_Result):
    """A mentee the engine could not match, and why."""

    mentee_id: str
    reason_code: UnmatchedReason
    reason: str


class SolverReport(_Result):
    """How the optimum was found (deterministic: no timings)."""

    method: Literal["sparse", "dense"]
    rounds: int = Field(ge=0, description="Candidate-graph rounds until proven optimal")
    candidate_pairs: int = Field(ge=0)


class MatchingResult(_Result):
    """The optimal matching of a cohort: most mentees matched, then highest total score."""

    pairs: list[MatchedPair] = Field(description="Sorted by mentee id")
    unmatched: list[UnmatchedMentee] = Field(description="Sorted by mentee id")
    total_score: float = Field(ge=0, description="Sum of the exact pair scores")
    solver: SolverReport

    @property
    def matched_count(self) -> int:
        """Number of matched mentees."""
        return len(self.pairs)
