"""Properties of the engine on random cohorts: rules kept, optimum reached, answers repeatable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.matching import MatchingActivities, RematchMenteeInput
from domain.cohort_spec import CohortSpec
from matching import (
    MatchingProblem,
    SolverOptions,
    match_cohort,
    override_violations,
    rematch_mentee,
    rematch_participants,
)
from matching.engine import units_rows_for
from matching.problem import IntArray
from matching.solver import solve, solve_dense
from tests.matching import cohort

# The default options solve these small cohorts densely; tiny candidate graphs force the sparse
# solver through several rounds of pricing, rescoring beyond the reserve and, for some draws,
# the dense fallback, and rescore rows instead of caching them. The optimum must not depend on
# the path.
TINY = SolverOptions(
    mentee_candidates=1,
    mentor_candidates=0,
    reserve=1,
    added_per_mentee=1,
    max_rounds=3,
    dense_cells=0,
    cache_cells=0,
)
SOLVER_OPTIONS = st.sampled_from([SolverOptions(), TINY])
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TRAIT_NAMES = ["openness", "conscientiousness", "extraversion", "agreeableness"]


@st.composite
def small_cohorts(draw: st.DrawFn) -> CohortSpec:
    """Up to 5 mentees and 3 mentors (capacity ≤ 2), with managers, avoid lists and overlaps."""
    mentor_count = draw(st.integers(1, 3))
    mentee_count = draw(st.integers(1, 5))
    both = draw(st.booleans())
    ids = [f"m{n}" for n in range(mentor_count)] + [f"e{n}" for n in range(mentee_count)]
    if both:
        ids.pop()  # the first mentor is a mentee too
    order = draw(st.permutations(ids))
    people: list[dict[str, Any]] = []
    for position, participant_id in enumerate(order):
        roles = ["mentor"] if participant_id.startswith("m") else ["mentee"]
        if both and participant_id == "m0":
            roles = ["mentor", "mentee"]
        earlier = list(order[:position])
        data: dict[str, Any] = {
            "id": participant_id,
            "name": participant_id.upper(),
            "roles": roles,
            "seniority": draw(st.integers(1, 10)),
            "timezone": draw(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])),
            "languages": draw(st.lists(st.sampled_from(["en", "de", "ja"]), unique=True)),
            "skills": draw(
                st.dictionaries(st.sampled_from(["go", "sql", "ux"]), st.integers(0, 5))
            ),
            "wants_to_develop": draw(st.lists(st.sampled_from(["go", "sql", "ux"]), unique=True)),
            "career_objectives": draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True)),
            # Managers come from earlier participants, so the reporting lines have no cycle.
            "manager_id": draw(st.none() | st.sampled_from(earlier)) if earlier else None,
            "avoid": draw(st.lists(st.sampled_from(ids), max_size=1, unique=True)),
        }
        if draw(st.booleans()):
            values = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=5, max_size=5))
            data["traits"] = dict(zip([*TRAIT_NAMES, "emotional_stability"], values, strict=True))
        if "mentor" in roles:
            data["mentor_capacity"] = draw(st.none() | st.integers(1, 2))
        people.append(data)
    weights = draw(st.lists(st.integers(0, 3), min_size=4, max_size=4).filter(any))
    return cohort(
        *people,
        min_seniority_gap=draw(st.integers(0, 2)),
        default_mentor_capacity=draw(st.integers(1, 2)),
        weights=dict(
            zip(["skills", "objectives", "personality", "logistics"], weights, strict=True)
        ),
    )


def reporting_line(spec: CohortSpec, person_id: str) -> set[str]:
    managers = {p.id: p.manager_id for p in spec.participants}
    line: set[str] = set()
    current = managers[person_id]
    while current is not None:
        line.add(current)
        current = managers[current]
    return line


def allowed(spec: CohortSpec, mentor_id: str, mentee_id: str) -> bool:
    """The hard constraints, written independently of the engine's vectorised version."""
    people = {p.id: p for p in spec.participants}
    mentor, mentee = people[mentor_id], people[mentee_id]
    return (
        mentor_id != mentee_id
        and mentor_id not in reporting_line(spec, mentee_id)
        and mentee_id not in mentor.avoid
        and mentor_id not in mentee.avoid
        and mentor.seniority - mentee.seniority >= spec.program.min_seniority_gap
    )


def brute_force(units: IntArray, capacity: IntArray) -> tuple[int, int]:
    """The best (matched count, total score) over every assignment, by enumeration."""
    mentee_count, mentor_count = units.shape
    best = (0, 0)
    for choice in itertools.product(range(-1, mentor_count), repeat=mentee_count):
        loads = np.bincount([c for c in choice if c >= 0], minlength=mentor_count)
        if any(c >= 0 and units[i, c] < 0 for i, c in enumerate(choice)):
            continue
        if (loads > capacity).any():
            continue
        matched = [(i, c) for i, c in enumerate(choice) if c >= 0]
        best = max(best, (len(matched), int(sum(units[i, c] for i, c in matched))))
    return best


@PROPERTY_SETTINGS
@given(spec=small_cohorts(), options=SOLVER_OPTIONS)
def test_matching_never_breaks_a_hard_constraint(spec: CohortSpec, options: SolverOptions) -> None:
    result = match_cohort(spec, options=options)

    capacity = {
        p.id: p.mentor_capacity or spec.program.default_mentor_capacity for p in spec.mentors
    }
    mentees = [pair.mentee_id for pair in result.pairs]
    assert len(mentees) == len(set(mentees))
    for pair in result.pairs:
        assert allowed(spec, pair.mentor_id, pair.mentee_id), pair
    for mentor_id, limit in capacity.items():
        assert sum(pair.mentor_id == mentor_id for pair in result.pairs) <= limit
    assert {u.mentee_id for u in result.unmatched} | set(mentees) == {p.id for p in spec.mentees}


@PROPERTY_SETTINGS
@given(spec=small_cohorts(), options=SOLVER_OPTIONS)
def test_result_equals_the_brute_force_optimum(spec: CohortSpec, options: SolverOptions) -> None:
    problem = MatchingProblem.from_spec(spec)
    units = units_rows_for(problem)(np.arange(problem.mentee_count))

    result = match_cohort(spec, options=options)

    assert (result.matched_count, round(result.total_score * 1_000_000)) == brute_force(
        units, problem.capacity
    )


@settings(PROPERTY_SETTINGS, max_examples=80)
@given(spec=small_cohorts(), data=st.data())
def test_the_same_input_always_gives_the_same_output(spec: CohortSpec, data: st.DataObject) -> None:
    shuffled = spec.model_copy(
        update={"participants": data.draw(st.permutations(spec.participants))}
    )

    assert match_cohort(spec) == match_cohort(spec) == match_cohort(shuffled)


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(spec=small_cohorts())
def test_override_checks_agree_with_the_rules_and_with_the_engine(spec: CohortSpec) -> None:
    problem = MatchingProblem.from_spec(spec)
    units = units_rows_for(problem)(np.arange(problem.mentee_count))

    for row, mentee_id in enumerate(problem.mentee_ids):
        for column, mentor_id in enumerate(problem.mentor_ids):
            verdict = override_violations(spec, mentor_id, mentee_id) == []
            assert verdict == allowed(spec, mentor_id, mentee_id)
            assert verdict == (units[row, column] >= 0)


@st.composite
def score_matrices(
    draw: st.DrawFn, max_mentees: int, max_mentors: int
) -> tuple[IntArray, IntArray]:
    """Integer score matrices with forbidden cells (-1) and capacities, ties included."""
    mentee_count = draw(st.integers(1, max_mentees))
    mentor_count = draw(st.integers(1, max_mentors))
    cells = draw(
        st.lists(
            st.sampled_from([-1, 0, 1, 2, 500_000, 999_999, 1_000_000]),
            min_size=mentee_count * mentor_count,
            max_size=mentee_count * mentor_count,
        )
    )
    capacity = draw(st.lists(st.integers(0, 2), min_size=mentor_count, max_size=mentor_count))
    units = np.array(cells, dtype=np.int64).reshape(mentee_count, mentor_count)
    return units, np.array(capacity, dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(matrix=score_matrices(max_mentees=5, max_mentors=3), options=SOLVER_OPTIONS)
def test_solver_matches_brute_force_on_small_matrices(
    matrix: tuple[IntArray, IntArray], options: SolverOptions
) -> None:
    units, capacity = matrix

    assignment = solve(units.shape[0], capacity, lambda rows: units[rows], options)

    mentor_of = assignment.mentor_of
    matched = np.flatnonzero(mentor_of >= 0)
    assert (units[matched, mentor_of[matched]] >= 0).all()
    assert (np.bincount(mentor_of[matched], minlength=len(capacity)) <= capacity).all()
    total = int(units[matched, mentor_of[matched]].sum())
    assert (len(matched), total) == brute_force(units, capacity)


@settings(max_examples=200, deadline=None)
@given(matrix=score_matrices(max_mentees=40, max_mentors=12))
def test_sparse_solver_with_tiny_candidate_graphs_equals_the_dense_optimum(
    matrix: tuple[IntArray, IntArray],
) -> None:
    units, capacity = matrix
    options = SolverOptions(
        mentee_candidates=1,
        mentor_candidates=0,
        reserve=2,
        added_per_mentee=1,
        max_rounds=50,
        dense_cells=0,
    )

    sparse_answer = solve(units.shape[0], capacity, lambda rows: units[rows], options).mentor_of
    dense_answer = solve_dense(units, capacity)

    def objective(mentor_of: IntArray) -> tuple[int, int]:
        matched = np.flatnonzero(mentor_of >= 0)
        return len(matched), int(units[matched, mentor_of[matched]].sum())

    assert objective(sparse_answer) == objective(dense_answer)


@PROPERTY_SETTINGS
@given(small_cohorts(), st.data())
def test_a_rematch_answers_the_same_from_the_participants_it_needs_as_from_the_whole_spec(
    spec: CohortSpec, data: st.DataObject
) -> None:
    mentee = data.draw(st.sampled_from(spec.mentees))
    mentor_ids = [mentor.id for mentor in spec.mentors]
    loads = data.draw(st.dictionaries(st.sampled_from(mentor_ids), st.integers(0, 3)))
    excluded = data.draw(st.lists(st.sampled_from(mentor_ids), unique=True))
    # What the workflow sends, through JSON as the activity receives it.
    sent = RematchMenteeInput(
        cohort_id=spec.cohort_id,
        program=spec.program,
        participants=rematch_participants(spec, mentee.id),
        mentee_id=mentee.id,
        mentor_loads=loads,
        excluded_mentor_ids=excluded,
    )
    received = RematchMenteeInput.model_validate_json(sent.model_dump_json())

    whole = rematch_mentee(spec, mentee.id, mentor_loads=loads, excluded_mentor_ids=excluded)
    sliced = MatchingActivities().rematch_mentee(received)
    older = MatchingActivities().rematch_mentee(
        RematchMenteeInput(
            spec=spec, mentee_id=mentee.id, mentor_loads=loads, excluded_mentor_ids=excluded
        )
    )

    assert (sliced.pair or sliced.unmatched) == whole
    assert older == sliced
    assert {p.id for p in received.participants} >= {m.id for m in spec.mentors} | {mentee.id}
