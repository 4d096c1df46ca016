"""What the cohort and review-cycle routes take and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mentorflow.api.models.identifiers import CohortIdText, LocalIdText, PersonIdText
from projections import CohortDashboardView, MentorLoadView


class CohortSummary(BaseModel):
    """A cohort as the read model knows it."""

    cohort_id: str
    program_name: str
    starts_at: datetime
    ends_at: datetime
    participant_count: int
    unmatched_mentees: int
    launched_at: datetime
    closed_at: datetime | None


class CohortPage(BaseModel):
    """A page of cohorts, in cohort id order."""

    items: list[CohortSummary]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


class CohortLive(BaseModel):
    """The cohort workflow's own counts (ids only)."""

    stage: str = Field(description="matching, awaiting_approval, running or closed")
    relationships: int
    by_stage: dict[str, int]
    unmatched: dict[str, str] = Field(description="Mentee id → why nobody could mentor them")
    rematches: int


class CohortView(BaseModel):
    """A cohort: its summary from the read model and its live state from the workflow."""

    cohort_id: str
    summary: CohortSummary | None = Field(description="Null until the launch is projected")
    live: CohortLive | None = Field(description="Null when the workflow did not answer")


class CohortDashboard(CohortDashboardView):
    """HR's dashboard of a cohort, with each mentor's load."""

    mentor_load: list[MentorLoadView] = Field(description="One page, in mentor id order")
    mentor_load_next_after: str | None = Field(
        default=None, description="Pass as `after` for the next page of mentor loads"
    )


class ReviewCycleRequest(BaseModel):
    """HR starts a review cycle for every running relationship of a cohort."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort_id: CohortIdText
    cycle_id: LocalIdText | None = Field(
        default=None,
        description="Names the cycle; give one to make retries safe (a relationship drafts "
        "one summary per cycle id). Generated from the time when absent.",
        examples=["2027-h1"],
    )


class ReviewCycleStarted(BaseModel):
    """Which relationships were asked to draft a review summary."""

    cohort_id: str
    cycle_id: str
    signalled: list[str] = Field(description="Mentorship ids signalled")
    ended: list[str] = Field(description="Mentorship ids whose workflow had already ended")


class OverrideRequest(BaseModel):
    """HR's choice of mentor for one mentee."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mentee_id: PersonIdText
    mentor_id: PersonIdText


class ApprovalRequest(BaseModel):
    """HR approves the draft matching, replacing some pairs with its own choices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overrides: list[OverrideRequest] = Field(default_factory=list, max_length=1000)
