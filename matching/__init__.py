"""The matching engine: pure, deterministic, optimal mentor–mentee matching.

No I/O: it takes a validated :class:`~domain.cohort_spec.CohortSpec` and answers with data.

* :mod:`matching.scoring` — compatibility formulas and their weights;
* :mod:`matching.constraints` — the hard constraints;
* :mod:`matching.solver` — the optimal assignment and its optimality check;
* :mod:`matching.reasons` — reasons in plain words;
* :mod:`matching.engine` — the entry points re-exported here.
"""

from matching.engine import (
    assignment_violations,
    match_cohort,
    match_problem,
    override_violations,
    rematch_mentee,
    rematch_participants,
)
from matching.errors import MatchingError, SolverFailed, UnknownParticipant
from matching.problem import MatchingProblem
from matching.results import (
    MatchedPair,
    MatchingResult,
    ScoreBreakdown,
    SolverReport,
    UnmatchedMentee,
    UnmatchedReason,
)
from matching.solver import SolverOptions

__all__ = [
    "MatchedPair",
    "MatchingError",
    "MatchingProblem",
    "MatchingResult",
    "ScoreBreakdown",
    "SolverFailed",
    "SolverOptions",
    "SolverReport",
    "UnknownParticipant",
    "UnmatchedMentee",
    "UnmatchedReason",
    "assignment_violations",
    "match_cohort",
    "match_problem",
    "override_violations",
    "rematch_mentee",
    "rematch_participants",
]
