"""The optimal assignment of mentees to mentors' capacity, on integer scores.

**Objective.** First match as many mentees as the hard constraints and capacities allow, then
maximise the total score. Both goals fold into one weight per allowed pair, ``BIG + units``,
where ``BIG`` exceeds any possible total of scores: one more match always outweighs any gain in
score. Scores are integers (millionths), so every sum is exact; costs stay near
``mentees × 10⁶``, far inside the range where float64 (used by scipy) holds integers exactly.

**Small problems** (up to ``dense_cells`` mentee × place cells, e.g. 1,000 mentees × 1,200
places) go to :func:`solve_dense`: ``linear_sum_assignment`` over capacity replicated into
slots, which is exact and the fastest at that size.

**Larger problems** use scipy's LAPJVsp (:func:`scipy.sparse.csgraph.
min_weight_full_bipartite_matching`) on a sparse candidate graph, again over replicated slots,
with a private "unmatched" column for every row so that a full matching always exists. The
first graph holds each mentee's best mentors and each mentor's best mentees (so that mentors
nobody ranks first still get candidates). Its optimum is then *checked* against every pair left
out, with linear-programming duality:

* node potentials are the shortest distances in the residual graph of the restricted optimum
  (Bellman–Ford from a hub node standing for "unmatched" and "spare capacity"); the restricted
  optimum has no negative cycle, so they exist;
* a left-out pair ``(i, j)`` can improve the solution only if its reduced cost is negative,
  ``BIG + units[i, j] > d(i) - d(j)``; if no left-out pair is, the potentials are feasible on
  the full graph, which proves the restricted optimum globally optimal;
* otherwise the most violating pairs (and a few nearly violating ones) join the graph and the
  solver runs again (column generation). Every round adds a pair, so this ends; after
  ``max_rounds`` the dense solver takes over.

The check is cheap: each mentee remembers its best few dozen pairs (the *reserve*), checked
from memory, and the best score beyond them. Mentor potentials are at most 0 (a mentor in use
has a zero-cost arc from the hub, an idle one sits at 0), so pairs beyond the reserve can only
violate when ``BIG + best_beyond_reserve[i] > d(i)``; only those rows are read again, from a
score cache when the matrix fits ``cache_cells``, else by scoring them again.

Everything is deterministic: inputs arrive sorted by id, candidate selection breaks ties by
index, and the scipy solvers are deterministic for a given matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from matching.candidates import CandidateGraph
from matching.lap import UnitsRows, residual_potentials, row_blocks, solve_dense, solve_sparse
from matching.options import SolverOptions
from matching.problem import IntArray

__all__ = ["Assignment", "SolverOptions", "UnitsRows", "solve", "solve_dense"]


@dataclass(frozen=True)
class Assignment:
    """The solver's answer: the mentor row of each mentee, -1 when unmatched."""

    mentor_of: IntArray
    method: Literal["sparse", "dense"]
    rounds: int
    candidate_pairs: int


def solve(
    mentee_count: int,
    capacity: IntArray,
    units_rows: UnitsRows,
    options: SolverOptions | None = None,
) -> Assignment:
    """Assign mentees to mentors optimally (most matches, then highest total score).

    Args:
        mentee_count: Number of mentees (rows).
        capacity: Mentees each mentor (column) can take.
        units_rows: Scores of given mentees against all mentors, -1 where a pair is not allowed.
        options: Tuning; the defaults suit cohorts from a handful to tens of thousands.

    Returns:
        The assignment, proven optimal.
    """
    options = options or SolverOptions()
    mentor_count = len(capacity)
    if mentee_count == 0 or mentor_count == 0 or int(capacity.sum()) == 0:
        return Assignment(np.full(mentee_count, -1, dtype=np.int64), "sparse", 0, 0)
    if mentee_count * int(capacity.sum()) <= options.dense_cells:
        units = np.vstack(list(_all_rows(mentee_count, mentor_count, options, units_rows)))
        return Assignment(solve_dense(units, capacity), "dense", 0, int((units >= 0).sum()))
    if mentee_count * mentor_count <= options.cache_cells:
        units_rows = _ScoreCache(mentee_count, mentor_count, units_rows)
    graph = CandidateGraph.initial(mentee_count, capacity, units_rows, options)
    for round_number in range(1, options.max_rounds + 1):
        mentor_of = solve_sparse(mentee_count, capacity, graph.rows, graph.columns, graph.units)
        if not graph.left_out_pairs():
            return Assignment(mentor_of, "sparse", round_number, graph.size)
        mentee_potential, mentor_potential = residual_potentials(
            mentee_count, capacity, graph.rows, graph.columns, graph.units, mentor_of
        )
        if not graph.price(mentee_potential, mentor_potential, units_rows, options):
            return Assignment(mentor_of, "sparse", round_number, graph.size)
    dense_units = np.vstack(list(_all_rows(mentee_count, mentor_count, options, units_rows)))
    return Assignment(solve_dense(dense_units, capacity), "dense", options.max_rounds, graph.size)


class _ScoreCache:
    """Scores rows once and answers again from memory (int32: scores are at most 10⁶)."""

    def __init__(self, mentee_count: int, mentor_count: int, units_rows: UnitsRows) -> None:
        self._units = np.full((mentee_count, mentor_count), -1, dtype=np.int32)
        self._scored = np.zeros(mentee_count, dtype=np.bool_)
        self._units_rows = units_rows

    def __call__(self, rows: IntArray) -> IntArray:
        missing = rows[~self._scored[rows]]
        if len(missing):
            self._units[missing] = self._units_rows(missing)
            self._scored[missing] = True
        return self._units[rows].astype(np.int64)


def _all_rows(
    mentee_count: int, mentor_count: int, options: SolverOptions, units_rows: UnitsRows
) -> Iterator[IntArray]:
    for rows in row_blocks(mentee_count, mentor_count, options.block_cells):
        yield units_rows(rows)
