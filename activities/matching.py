"""Matching as activities: CPU-heavy, deterministic, and kept out of workflow code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from domain.cohort_spec import CohortSpec
from matching import MatchedPair, MatchingResult, UnmatchedMentee, match_cohort, rematch_mentee


class MatchCohortInput(BaseModel):
    """The cohort to match."""

    model_config = ConfigDict(frozen=True)

    spec: CohortSpec


class RematchMenteeInput(BaseModel):
    """One mentee to match against the capacity that is left."""

    model_config = ConfigDict(frozen=True)

    spec: CohortSpec
    mentee_id: str
    mentor_loads: dict[str, int] = Field(default_factory=dict)
    excluded_mentor_ids: list[str] = Field(default_factory=list)


class RematchMenteeResult(BaseModel):
    """A pair, or why there is none."""

    pair: MatchedPair | None = None
    unmatched: UnmatchedMentee | None = None


class MatchingActivities:
    """Matching activities (no dependencies: the engine is pure)."""

    @activity.defn
    def match_cohort(self, request: MatchCohortInput) -> MatchingResult:
        """The optimal matching of the whole cohort."""
        return match_cohort(request.spec)

    @activity.defn
    def rematch_mentee(self, request: RematchMenteeInput) -> RematchMenteeResult:
        """The best remaining mentor for one mentee (rematch or late joiner)."""
        outcome = rematch_mentee(
            request.spec,
            request.mentee_id,
            mentor_loads=request.mentor_loads,
            excluded_mentor_ids=request.excluded_mentor_ids,
        )
        if isinstance(outcome, MatchedPair):
            return RematchMenteeResult(pair=outcome)
        return RematchMenteeResult(unmatched=outcome)
