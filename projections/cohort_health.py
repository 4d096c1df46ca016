"""Each open cohort's health in a few numbers, for monitoring: read from the dashboard rows.

The cohort dashboard keeps one row per relationship (`projections.cohort_dashboard`); the
figures here are sums over those rows, grouped by cohort, in one statement. Closed cohorts
are left out, so what a monitoring system keeps stays bounded by the cohorts running now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.mentorship.lifecycle import OCCUPYING_STAGES
from eventstore.errors import translated
from projections.queries import Reader
from projections.schema import SCHEMA

MOST_MISSES_COUNTED = 3
"""Pairs are counted by consecutive misses 1, 2, and this many or more."""

_HEALTH = f"""
SELECT pairs.cohort_id, pairs.stage, count(*) AS pairs, sum(pairs.escalations) AS escalations,
       count(*) FILTER (WHERE pairs.consecutive_misses = 1 AND pairs.stage = ANY($1)) AS once,
       count(*) FILTER (WHERE pairs.consecutive_misses = 2 AND pairs.stage = ANY($1)) AS twice,
       count(*) FILTER (WHERE pairs.consecutive_misses >= {MOST_MISSES_COUNTED}
                          AND pairs.stage = ANY($1)) AS more
FROM {SCHEMA}.dashboard_pairs AS pairs
WHERE NOT EXISTS (
    SELECT FROM {SCHEMA}.dashboard_cohorts AS cohorts
    WHERE cohorts.cohort_id = pairs.cohort_id AND cohorts.closed_at IS NOT NULL
)
GROUP BY pairs.cohort_id, pairs.stage
ORDER BY pairs.cohort_id, pairs.stage
"""


@dataclass(slots=True)
class CohortHealth:
    """One open cohort's figures.

    Attributes:
        cohort_id: The cohort.
        pairs_by_stage: Relationships per stage (``none`` before a stage is known).
        missing_pairs: Relationships still running whose latest conversations were all
            missed, by how many in a row (1, 2, and `MOST_MISSES_COUNTED` for that many or
            more); a count of zero is left out.
        escalations: Escalations of the cohort's relationships so far.
    """

    cohort_id: str
    pairs_by_stage: dict[str, int] = field(default_factory=dict)
    missing_pairs: dict[int, int] = field(default_factory=dict)
    escalations: int = 0


async def read_cohort_health(reader: Reader) -> list[CohortHealth]:
    """The figures of every cohort that is not closed, by cohort id.

    Raises:
        DatabaseUnavailable: The database cannot be reached.
    """
    with translated():
        rows = await reader.fetch(_HEALTH, sorted(OCCUPYING_STAGES))
    cohorts: dict[str, CohortHealth] = {}
    for row in rows:
        health = cohorts.setdefault(row["cohort_id"], CohortHealth(row["cohort_id"]))
        health.pairs_by_stage[row["stage"] or "none"] = int(row["pairs"])
        health.escalations += int(row["escalations"] or 0)
        for misses, column in ((1, "once"), (2, "twice"), (MOST_MISSES_COUNTED, "more")):
            if row[column]:
                health.missing_pairs[misses] = health.missing_pairs.get(misses, 0) + row[column]
    return list(cohorts.values())
