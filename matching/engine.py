"""The engine's entry points: match a cohort, rematch one mentee, check HR's overrides."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from domain.cohort_spec import CohortSpec, ParticipantSpec
from matching.constraints import CohortRules, allowed_block
from matching.problem import IntArray, MatchingProblem, reporting_line
from matching.reasons import pair_reasons, unmatched_reason
from matching.results import (
    MatchedPair,
    MatchingResult,
    ScoreBreakdown,
    SolverReport,
    UnmatchedMentee,
)
from matching.scoring import SCORE_UNITS, Scorer, Scores, score_pairs
from matching.solver import SolverOptions, UnitsRows, solve


def units_rows_for(problem: MatchingProblem) -> UnitsRows:
    """Scores of given mentees against every mentor, -1 where a hard constraint forbids it."""
    mentors = np.arange(problem.mentor_count, dtype=np.int64)
    scorer = Scorer(problem)

    def units_rows(mentees: IntArray) -> IntArray:
        allowed = allowed_block(problem, mentees, problem.capacity)
        return np.where(allowed, scorer.block(mentees, mentors).units, -1)

    return units_rows


def match_cohort(spec: CohortSpec, *, options: SolverOptions | None = None) -> MatchingResult:
    """Match the cohort's mentees to its mentors, optimally.

    Args:
        spec: A validated cohort spec.
        options: Solver tuning (never changes the optimum, only the run time).

    Returns:
        Pairs with scores and reasons, and every unmatched mentee with the reason.
    """
    return match_problem(MatchingProblem.from_spec(spec), options=options)


def match_problem(
    problem: MatchingProblem, *, options: SolverOptions | None = None
) -> MatchingResult:
    """Match an already built problem (see :func:`match_cohort`)."""
    assignment = solve(problem.mentee_count, problem.capacity, units_rows_for(problem), options)
    mentor_of = assignment.mentor_of
    matched = np.flatnonzero(mentor_of >= 0)
    scores = score_pairs(problem, matched, mentor_of[matched])
    pairs = [
        _pair(problem, int(mentee), int(mentor_of[mentee]), scores, position)
        for position, mentee in enumerate(matched)
    ]
    unmatched = [_unmatched(problem, int(mentee)) for mentee in np.flatnonzero(mentor_of < 0)]
    return MatchingResult(
        pairs=pairs,
        unmatched=unmatched,
        total_score=int(scores.units.sum()) / SCORE_UNITS,
        solver=SolverReport(
            method=assignment.method,
            rounds=assignment.rounds,
            candidate_pairs=assignment.candidate_pairs,
        ),
    )


def rematch_mentee(
    spec: CohortSpec,
    mentee_id: str,
    *,
    mentor_loads: Mapping[str, int],
    excluded_mentor_ids: Collection[str] = (),
) -> MatchedPair | UnmatchedMentee:
    """Find the best mentor for one mentee among the capacity that is left.

    Used for rematch requests and late joiners; other pairs stay as they are.

    Args:
        spec: The cohort, including the mentee (a late joiner is added to it first).
        mentee_id: The mentee to match.
        mentor_loads: Current mentees per mentor id (those not named have none).
        excluded_mentor_ids: Mentors never to propose, e.g. the previous mentor.

    Returns:
        The best allowed pair (ties go to the lower mentor id), or the reason there is none.

    Raises:
        UnknownParticipant: ``mentee_id`` is not a mentee of the cohort.
    """
    default_capacity = spec.program.default_mentor_capacity
    remaining = {
        mentor.id: max(
            0, (mentor.mentor_capacity or default_capacity) - mentor_loads.get(mentor.id, 0)
        )
        for mentor in spec.mentors
    }
    problem = MatchingProblem.from_spec(
        spec,
        excluded_pairs=[(mentor_id, mentee_id) for mentor_id in excluded_mentor_ids],
        capacity_override=remaining,
    )
    mentee = problem.mentee_index(mentee_id)
    units = units_rows_for(problem)(np.array([mentee], dtype=np.int64))[0]
    if problem.mentor_count == 0 or units.max() < 0:
        return _unmatched(problem, mentee)
    order = problem.mentor_count - 1 - np.arange(problem.mentor_count, dtype=np.int64)
    mentor = int(np.argmax(np.where(units >= 0, units * problem.mentor_count + order, -1)))
    scores = score_pairs(problem, np.array([mentee]), np.array([mentor]))
    return _pair(problem, mentee, mentor, scores, 0)


def rematch_participants(spec: CohortSpec, mentee_id: str) -> list[ParticipantSpec]:
    """The participants a rematch of ``mentee_id`` looks at, in spec order.

    Every mentor (each is a candidate), the mentee, and the people up the mentee's reporting
    line (the rule that none of them mentors the mentee needs the whole line). The other
    mentees play no part: a pair's score, constraints and reasons depend on the pair alone,
    so :func:`rematch_mentee` answers the same on these participants as on the whole spec.
    Pure Python, light enough for workflow code.
    """
    by_id = {participant.id: participant for participant in spec.participants}
    needed = {mentee_id, *reporting_line(mentee_id, by_id)}
    return [p for p in spec.participants if p.is_mentor or p.id in needed]


def override_violations(
    spec: CohortSpec, mentor_id: str, mentee_id: str, *, mentor_load: int | None = None
) -> list[str]:
    """Every hard constraint an HR override pair breaks, in plain words (empty when allowed).

    Pure Python on the spec (no numpy, no time zones), light enough for workflow code.

    Args:
        spec: The cohort.
        mentor_id: The proposed mentor.
        mentee_id: The mentee.
        mentor_load: Mentees the mentor has besides this one; ``None`` skips the capacity check.
    """
    return CohortRules(spec).violations(mentor_id, mentee_id, mentor_load=mentor_load)


def assignment_violations(spec: CohortSpec, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Every hard constraint a whole set of ``(mentor_id, mentee_id)`` pairs breaks.

    Checks each pair, that no mentee appears twice and that no mentor exceeds capacity. Pure
    Python on the spec, like :func:`override_violations`.
    """
    rules = CohortRules(spec)
    problems = [
        f"{mentor_id} -> {mentee_id}: {problem}"
        for mentor_id, mentee_id in pairs
        for problem in rules.violations(mentor_id, mentee_id)
    ]
    for mentee_id, count in sorted(Counter(mentee for _, mentee in pairs).items()):
        if count > 1:
            problems.append(f"{mentee_id} is given {count} mentors")
    for mentor_id, count in sorted(Counter(mentor for mentor, _ in pairs).items()):
        if rules.is_mentor(mentor_id) and count > rules.capacity(mentor_id):
            capacity = rules.capacity(mentor_id)
            problems.append(f"{mentor_id} is given {count} mentees, above capacity {capacity}")
    return problems


def _pair(
    problem: MatchingProblem, mentee: int, mentor: int, scores: Scores, position: int
) -> MatchedPair:
    return MatchedPair(
        mentor_id=problem.mentor_ids[mentor],
        mentee_id=problem.mentee_ids[mentee],
        score=round(int(scores.units[position]) / SCORE_UNITS, 3),
        breakdown=ScoreBreakdown(
            skills=round(float(scores.skills[position]), 3),
            objectives=round(float(scores.objectives[position]), 3),
            personality=round(float(scores.personality[position]), 3),
            logistics=round(float(scores.logistics[position]), 3),
        ),
        reasons=pair_reasons(problem, mentee, mentor, scores, position),
    )


def _unmatched(problem: MatchingProblem, mentee: int) -> UnmatchedMentee:
    code, text = unmatched_reason(problem, mentee)
    return UnmatchedMentee(mentee_id=problem.mentee_ids[mentee], reason_code=code, reason=text)
