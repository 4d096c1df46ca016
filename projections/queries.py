"""Reading the aggregated read models: a cohort's dashboard and mentors' load.

Per-stream rows are summed here, at read time (a cohort has tens to hundreds of pairs), so
that no row is shared between streams (see the migration).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from eventstore.migrator import Connection
from eventstore.pool import Pool
from projections.schema import SCHEMA

Reader = Pool | Connection


class CohortDashboardView(BaseModel):
    """A cohort's dashboard for HR."""

    cohort_id: str
    program_name: str | None = Field(description="None until the cohort's launch is projected")
    starts_at: datetime | None
    ends_at: datetime | None
    participant_count: int | None
    unmatched_mentees: int | None
    closed_at: datetime | None
    pairs: int
    pairs_by_stage: dict[str, int]
    onboarding_completed: int
    onboarding_completion: float | None = Field(description="Share of pairs past onboarding")
    onboarding_overdue: int
    conversations_held: int
    conversations_missed: int
    cadence_adherence: float | None = Field(
        description="Share of conversations with a due date held by it"
    )
    action_plan_completion: float | None = Field(description="Completed / agreed action items")
    average_satisfaction: float | None = Field(description="Closing surveys, 1..5")
    surveys_received: int
    escalations: int
    at_risk_pairs: list[str] = Field(description="Mentorship ids, running and behind")
    rematches: int = Field(description="Relationships that are rematches of an earlier one")
    rematch_requests: int


class MentorLoadView(BaseModel):
    """How many mentees occupy a mentor in a cohort."""

    cohort_id: str
    mentor_id: str
    active_mentees: int
    relationships: int = Field(description="Active or not, rematched-away included")
    capacity: int | None = Field(
        description="Mentees the mentor takes; None for relationships recorded before it was"
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_PAIRS = f"""
SELECT stage, count(*) AS pairs, sum(onboarding_completed::int) AS onboarding_completed,
       sum(onboarding_overdue::int) AS onboarding_overdue,
       sum(conversations_held) AS held, sum(conversations_missed) AS missed,
       sum(conversations_due) AS due, sum(conversations_on_time) AS on_time,
       sum(action_items_created) AS items, sum(action_items_completed) AS items_completed,
       sum(surveys_received) AS surveys, sum(satisfaction_total) AS satisfaction,
       sum(escalations) AS escalations, sum(is_rematch::int) AS rematches,
       sum(rematch_requested::int) AS rematch_requests
FROM {SCHEMA}.dashboard_pairs WHERE cohort_id = $1 GROUP BY stage
"""


async def read_cohort_dashboard(reader: Reader, cohort_id: str) -> CohortDashboardView | None:
    """The dashboard of a cohort; None when nothing of it has been projected."""
    cohort = await reader.fetchrow(
        f"SELECT * FROM {SCHEMA}.dashboard_cohorts WHERE cohort_id = $1", cohort_id
    )
    stages = await reader.fetch(_PAIRS, cohort_id)
    if cohort is None and not stages:
        return None
    at_risk = await reader.fetch(
        f"SELECT stream_id FROM {SCHEMA}.dashboard_pairs "
        "WHERE cohort_id = $1 AND at_risk ORDER BY stream_id",
        cohort_id,
    )

    def total(column: str) -> int:
        return sum(int(row[column]) for row in stages)

    return CohortDashboardView(
        cohort_id=cohort_id,
        program_name=cohort["program_name"] if cohort else None,
        starts_at=cohort["starts_at"] if cohort else None,
        ends_at=cohort["ends_at"] if cohort else None,
        participant_count=cohort["participant_count"] if cohort else None,
        unmatched_mentees=cohort["unmatched_mentees"] if cohort else None,
        closed_at=cohort["closed_at"] if cohort else None,
        pairs=total("pairs"),
        pairs_by_stage={row["stage"]: int(row["pairs"]) for row in stages},
        onboarding_completed=total("onboarding_completed"),
        onboarding_completion=_share(total("onboarding_completed"), total("pairs")),
        onboarding_overdue=total("onboarding_overdue"),
        conversations_held=total("held"),
        conversations_missed=total("missed"),
        cadence_adherence=_share(total("on_time"), total("due")),
        action_plan_completion=_share(total("items_completed"), total("items")),
        average_satisfaction=(
            total("satisfaction") / total("surveys") if total("surveys") else None
        ),
        surveys_received=total("surveys"),
        escalations=total("escalations"),
        at_risk_pairs=[row["stream_id"] for row in at_risk],
        rematches=total("rematches"),
        rematch_requests=total("rematch_requests"),
    )


_LOAD = f"""
SELECT cohort_id, mentor_id, sum(active::int) AS active_mentees, count(*) AS relationships,
       max(mentor_capacity) AS capacity
FROM {SCHEMA}.mentor_load_pairs
WHERE ($1::text IS NULL OR cohort_id = $1) AND ($2::text IS NULL OR mentor_id = $2)
GROUP BY cohort_id, mentor_id ORDER BY cohort_id, mentor_id
"""


async def read_mentor_load(
    reader: Reader, *, cohort_id: str | None = None, mentor_id: str | None = None
) -> list[MentorLoadView]:
    """Active mentees per mentor and cohort, optionally for one cohort or mentor."""
    return [
        MentorLoadView(
            cohort_id=row["cohort_id"],
            mentor_id=row["mentor_id"],
            active_mentees=int(row["active_mentees"]),
            relationships=int(row["relationships"]),
            capacity=row["capacity"],
        )
        for row in await reader.fetch(_LOAD, cohort_id, mentor_id)
    ]
