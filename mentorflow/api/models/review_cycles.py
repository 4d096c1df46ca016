"""Where a cohort's review cycles stand, per relationship: no summary text, only outcomes."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ReviewStatus = Literal["awaiting_mentee", "shared", "withheld"]


class ReviewOutcome(BaseModel):
    """One relationship's summary of one review cycle, and what the mentee decided."""

    model_config = ConfigDict(frozen=True)

    mentorship_id: str
    cycle_id: str
    mentor_id: str
    mentee_id: str
    status: ReviewStatus = Field(
        description="awaiting_mentee until the mentee approves (shared) or the window passes "
        "without approval (withheld)"
    )
    drafted_at: AwareDatetime
    respond_by: AwareDatetime
    decided_at: AwareDatetime | None
    edited_by_mentee: bool


class CohortRelationship(BaseModel):
    """A relationship of the cohort, with its stage (to list pairs without a summary yet)."""

    model_config = ConfigDict(frozen=True)

    mentorship_id: str
    mentor_id: str
    mentee_id: str
    stage: str
