"""Benchmark of the matching engine against an exact dense optimum and a stable matching.

    python -m bench.matching_bench                       # 1,000 x 400 and 10,000 x 4,000
    python -m bench.matching_bench --sizes 2000x800 --seed 3 --no-dense

Synthetic cohorts come from ``examples/generate_cohort.py`` (capacity 3, reporting lines,
seniority, avoid lists, people with both roles). For each size it prints:

* the engine end to end from a validated spec (problem, scoring, solver with its optimality
  check, reasons), with the number of candidate-graph rounds;
* the exact dense optimum, ``linear_sum_assignment`` over replicated mentor slots, when the
  matrix fits under ``--dense-cells``;
* a stable matching (mentee-proposing deferred acceptance, hospital–resident with capacities)
  on the same scores, as the classic baseline; skipped above ``--stable-max-mentees``.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from domain.cohort_spec import CohortSpec, parse_cohort_spec
from examples.generate_cohort import generate_cohort
from matching import MatchingProblem, match_cohort
from matching.engine import units_rows_for
from matching.problem import Exclusion, IntArray
from matching.scoring import SCORE_UNITS
from matching.solver import solve_dense


@dataclass(frozen=True)
class Outcome:
    """One method's answer on one cohort."""

    method: str
    seconds: float
    matched: int
    total_units: int
    note: str = ""


def stable_matching(units: IntArray, capacity: IntArray) -> IntArray:
    """Mentee-proposing deferred acceptance with mentor capacities (hospital–resident).

    Both sides rank by the pair's score (ties: lower index first); forbidden pairs (-1) are
    unacceptable. The result is stable: no mentee and mentor both prefer each other to what
    they have.
    """
    mentee_count, mentor_count = units.shape
    order_bonus = mentor_count - 1 - np.arange(mentor_count)
    preferences = np.argsort(-(units * mentor_count + order_bonus), axis=1, kind="stable")
    acceptable = (units >= 0).sum(axis=1)
    next_choice = np.zeros(mentee_count, dtype=np.int64)
    held: list[list[tuple[int, int]]] = [[] for _ in range(mentor_count)]  # min-heaps
    mentor_of = np.full(mentee_count, -1, dtype=np.int64)
    free = list(range(mentee_count - 1, -1, -1))
    while free:
        mentee = free.pop()
        if next_choice[mentee] >= acceptable[mentee]:
            continue  # proposed to every acceptable mentor
        mentor = int(preferences[mentee, next_choice[mentee]])
        next_choice[mentee] += 1
        if capacity[mentor] == 0:
            free.append(mentee)
            continue
        # A mentor prefers higher scores, then lower mentee indices.
        rank = (int(units[mentee, mentor]), -mentee)
        heap = held[mentor]
        if len(heap) < capacity[mentor]:
            heapq.heappush(heap, rank)
            mentor_of[mentee] = mentor
        elif rank > heap[0]:
            _, rejected = heapq.heapreplace(heap, rank)
            mentor_of[-rejected] = -1
            mentor_of[mentee] = mentor
            free.append(-rejected)
        else:
            free.append(mentee)
    return mentor_of


def _score_everything(problem: MatchingProblem, block_cells: int = 2_000_000) -> IntArray:
    """The full mentees × mentors score matrix (-1 where forbidden), scored block by block."""
    units_rows = units_rows_for(problem)
    size = max(1, block_cells // max(problem.mentor_count, 1))
    return np.vstack(
        [
            units_rows(np.arange(start, min(start + size, problem.mentee_count), dtype=np.int64))
            for start in range(0, problem.mentee_count, size)
        ]
    )


def _objective(units: IntArray, mentor_of: IntArray) -> tuple[int, int]:
    matched = np.flatnonzero(mentor_of >= 0)
    return len(matched), int(units[matched, mentor_of[matched]].sum())


def _timed(action: Callable[[], IntArray]) -> tuple[IntArray, float]:
    started = time.perf_counter()
    answer = action()
    return answer, time.perf_counter() - started


def run_size(
    mentees: int,
    mentors: int,
    *,
    seed: int,
    dense_cells: int,
    stable_max_mentees: int,
) -> None:
    """Benchmark one cohort size and print the table."""
    started = time.perf_counter()
    document = generate_cohort(mentees, mentors, seed=seed, capacity=3)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    spec: CohortSpec = parse_cohort_spec(document)
    validated = time.perf_counter() - started
    problem = MatchingProblem.from_spec(spec)
    slots = int(problem.capacity.sum())
    flags = problem.forbidden_reason
    forbidden = ", ".join(
        f"{int(((flags & flag) != 0).sum()):,} {name}"
        for flag, name in (
            (Exclusion.REPORTING_LINE, "reporting line"),
            (Exclusion.AVOID, "avoid"),
            (Exclusion.SELF, "self"),
        )
    )
    senior_enough = float(
        (
            problem.mentor_seniority[None, :] - problem.mentee_seniority[:, None]
            >= problem.min_seniority_gap
        ).mean()
    )
    print(
        f"\n== {mentees:,} mentees x {mentors:,} mentors, capacity 3 ({slots:,} places), "
        f"seed {seed}: {len(spec.participants):,} participants; forbidden pairs: {forbidden}; "
        f"{senior_enough:.0%} of pairs senior enough (gap {problem.min_seniority_gap})"
    )
    print(f"   generated in {generated:.2f} s, validated in {validated:.2f} s")

    outcomes: list[Outcome] = []
    started = time.perf_counter()
    result = match_cohort(spec)
    engine_seconds = time.perf_counter() - started
    outcomes.append(
        Outcome(
            "engine (matching.match_cohort)",
            engine_seconds,
            result.matched_count,
            round(result.total_score * SCORE_UNITS),
            f"{result.solver.method}, {result.solver.rounds} round(s), "
            f"{result.solver.candidate_pairs:,} candidate pairs",
        )
    )

    units: IntArray | None = None
    scoring_seconds = 0.0
    if mentees * slots <= dense_cells or mentees <= stable_max_mentees:
        units, scoring_seconds = _timed(lambda: _score_everything(problem))
    if units is not None and mentees * slots <= dense_cells:
        dense_units = units
        mentor_of, seconds = _timed(lambda: solve_dense(dense_units, problem.capacity))
        matched, total = _objective(units, mentor_of)
        outcomes.append(
            Outcome(
                "exact dense (linear_sum_assignment)",
                scoring_seconds + seconds,
                matched,
                total,
                f"scoring {scoring_seconds:.2f} s + solver {seconds:.2f} s",
            )
        )
    else:
        print(f"   exact dense skipped: {mentees * slots:,} cells > --dense-cells {dense_cells:,}")
    if units is not None and mentees <= stable_max_mentees:
        stable_units = units
        mentor_of, seconds = _timed(lambda: stable_matching(stable_units, problem.capacity))
        matched, total = _objective(units, mentor_of)
        outcomes.append(
            Outcome(
                "stable matching (deferred acceptance)",
                scoring_seconds + seconds,
                matched,
                total,
                f"scoring {scoring_seconds:.2f} s + proposals {seconds:.2f} s",
            )
        )
    else:
        print(f"   stable matching skipped: {mentees:,} mentees > --stable-max-mentees")

    reference = max((outcome.matched, outcome.total_units) for outcome in outcomes)
    print(f"   {'method':<40}{'time':>9}{'matched':>9}{'total score':>14}{'of optimum':>12}  notes")
    for outcome in outcomes:
        share = 100 * outcome.total_units / reference[1] if reference[1] else 100.0
        print(
            f"   {outcome.method:<40}{outcome.seconds:>7.2f} s{outcome.matched:>9,}"
            f"{outcome.total_units / SCORE_UNITS:>14.3f}{share:>11.2f}%  {outcome.note}"
        )


def _size(text: str) -> tuple[int, int]:
    mentees, mentors = text.lower().split("x")
    return int(mentees), int(mentors)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark for every requested size."""
    parser = argparse.ArgumentParser(description="Benchmark of the matching engine.")
    parser.add_argument("--sizes", default="1000x400,10000x4000", help="MENTEESxMENTORS,...")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--dense-cells",
        type=int,
        default=150_000_000,
        help="largest mentees x places matrix for the exact dense solver (about 8 bytes a cell)",
    )
    parser.add_argument("--no-dense", action="store_true", help="skip the exact dense solver")
    parser.add_argument("--stable-max-mentees", type=int, default=20_000)
    arguments = parser.parse_args(argv)
    for size in arguments.sizes.split(","):
        mentees, mentors = _size(size)
        run_size(
            mentees,
            mentors,
            seed=arguments.seed,
            dense_cells=0 if arguments.no_dense else arguments.dense_cells,
            stable_max_mentees=arguments.stable_max_mentees,
        )


if __name__ == "__main__":
    main()
