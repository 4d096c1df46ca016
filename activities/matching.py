"""Matching as activities: CPU-heavy, deterministic, and kept out of workflow code."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from temporalio import activity

from domain.cohort_spec import CohortSpec, ParticipantSpec, ProgramSpec
from matching import MatchedPair, MatchingResult, UnmatchedMentee, match_cohort, rematch_mentee


class MatchCohortInput(BaseModel):
    """The cohort to match."""

    model_config = ConfigDict(frozen=True)

    spec: CohortSpec


class RematchMenteeInput(BaseModel):
    """One mentee to match against the capacity that is left.

    Carries the cohort's id and program and only the participants the rematch looks at
    (`matching.rematch_participants`: every mentor, the mentee and their reporting line), not
    the whole spec: the other mentees' profiles play no part. Runs from before that change
    sent the whole ``spec``, which is still read.
    """

    model_config = ConfigDict(frozen=True)

    spec: CohortSpec | None = Field(default=None, description="The whole spec (older runs)")
    cohort_id: str | None = None
    program: ProgramSpec | None = None
    participants: list[ParticipantSpec] = Field(default_factory=list)
    mentee_id: str
    mentor_loads: dict[str, int] = Field(default_factory=dict)
    excluded_mentor_ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _spec_or_participants(self) -> Self:
        if self.spec is None and (self.cohort_id is None or self.program is None):
            raise ValueError("a rematch needs the spec, or the cohort id, program and participants")
        return self

    def cohort(self) -> CohortSpec:
        """The cohort as far as the rematch needs it.

        The participants were validated one by one and come from a validated spec; the
        cross-participant rules are not checked again, since managers and avoided people
        outside this selection are (rightly) missing from it.
        """
        if self.spec is not None:
            return self.spec
        assert self.cohort_id is not None  # the validator's
        assert self.program is not None
        return CohortSpec.model_construct(
            cohort_id=self.cohort_id, program=self.program, participants=list(self.participants)
        )


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
            request.cohort(),
            request.mentee_id,
            mentor_loads=request.mentor_loads,
            excluded_mentor_ids=request.excluded_mentor_ids,
        )
        if isinstance(outcome, MatchedPair):
            return RematchMenteeResult(pair=outcome)
        return RematchMenteeResult(unmatched=outcome)
