"""Linear-assignment primitives on integer scores: exact dense and sparse optima, duals.

See :mod:`matching.solver` for how they combine into the engine's optimal assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

# scipy ships no type information (scipy-stubs would add it).
import scipy.sparse as sparse  # type: ignore[import-untyped]
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]
from scipy.sparse.csgraph import (  # type: ignore[import-untyped]
    min_weight_full_bipartite_matching,
)

from matching.errors import SolverFailed
from matching.problem import IntArray
from matching.scoring import SCORE_UNITS

UnitsRows = Callable[[IntArray], IntArray]
"""Scores of the given mentees (sorted rows) against every mentor; -1 where not allowed."""

_UNREACHED = np.iinfo(np.int64).max // 4


def big_weight(mentee_count: int) -> int:
    """A weight per match larger than any possible total of scores."""
    return (mentee_count + 1) * (SCORE_UNITS + 1)


def row_blocks(mentee_count: int, mentor_count: int, block_cells: int) -> Iterator[IntArray]:
    """Consecutive mentee rows, about ``block_cells`` mentee × mentor cells at a time."""
    size = max(1, block_cells // max(mentor_count, 1))
    for start in range(0, mentee_count, size):
        yield np.arange(start, min(start + size, mentee_count), dtype=np.int64)


def solve_dense(units: IntArray, capacity: IntArray) -> IntArray:
    """Exact optimum on the full matrix (mentees × mentors, -1 where not allowed).

    ``linear_sum_assignment`` over mentor capacity replicated into slots, with cost
    ``-(BIG + units)`` on allowed cells and 0 elsewhere: a mentee placed on a 0 cell is
    unmatched. Memory and time grow with mentees × slots; the reference for benchmarks and the
    fallback of :func:`matching.solver.solve`.
    """
    mentee_count = units.shape[0]
    mentor_of = np.full(mentee_count, -1, dtype=np.int64)
    if units.size == 0 or int(capacity.sum()) == 0:
        return mentor_of
    weights = np.where(units >= 0, -(big_weight(mentee_count) + units).astype(np.float64), 0.0)
    slot_owner = np.repeat(np.arange(len(capacity)), capacity)
    rows, slots = linear_sum_assignment(weights[:, slot_owner])
    matched = units[rows, slot_owner[slots]] >= 0
    mentor_of[rows[matched]] = slot_owner[slots[matched]]
    return mentor_of


def solve_sparse(
    mentee_count: int, capacity: IntArray, rows: IntArray, columns: IntArray, units: IntArray
) -> IntArray:
    """Exact optimum restricted to the given pairs (LAPJVsp over replicated slots).

    Args:
        mentee_count: Number of mentees.
        capacity: Places of each mentor.
        rows: Mentee of each allowed pair.
        columns: Mentor of each allowed pair (no pair twice).
        units: Score of each pair.

    Returns:
        The mentor of each mentee, -1 when unmatched.
    """
    slot_start = np.cumsum(capacity) - capacity
    slot_count = int(capacity.sum())
    copies = capacity[columns]
    first_copy = np.repeat(np.cumsum(copies) - copies, copies)
    pair_slots = np.repeat(slot_start[columns], copies)
    pair_slots += np.arange(int(copies.sum())) - first_copy
    pair_mentees = np.repeat(rows, copies)
    # LAPJVsp matches every row, so each row gets a private "unmatched" column costing BIG more
    # than any real pair; costs are shifted to be positive (it wants non-zero weights). Rows are
    # the smaller side: an augmentation that ends in an "unmatched" column explores the whole
    # graph, which is rare when rows are few and columns plenty (mentees when places abound,
    # places when mentees outnumber them).
    mentees_are_rows = mentee_count <= slot_count
    if mentees_are_rows:
        row_nodes, column_nodes, row_count, column_count = (
            pair_mentees,
            pair_slots,
            mentee_count,
            slot_count,
        )
    else:
        row_nodes, column_nodes, row_count, column_count = (
            pair_slots,
            pair_mentees,
            slot_count,
            mentee_count,
        )
    costs = np.concatenate(
        [
            np.repeat(SCORE_UNITS + 1 - units, copies),
            np.full(row_count, big_weight(mentee_count) + SCORE_UNITS + 1),
        ]
    ).astype(np.float64)
    matrix = sparse.csr_array(
        (
            costs,
            (
                np.concatenate([row_nodes, np.arange(row_count)]),
                np.concatenate([column_nodes, column_count + np.arange(row_count)]),
            ),
        ),
        shape=(row_count, column_count + row_count),
    )
    matched_rows, matched_columns = min_weight_full_bipartite_matching(matrix)
    real = matched_columns < column_count
    mentees, slots = (
        (matched_rows, matched_columns) if mentees_are_rows else (matched_columns, matched_rows)
    )
    slot_owner = np.repeat(np.arange(len(capacity), dtype=np.int64), capacity)
    mentor_of = np.full(mentee_count, -1, dtype=np.int64)
    mentor_of[mentees[real]] = slot_owner[slots[real]]
    return mentor_of


def residual_potentials(
    mentee_count: int,
    capacity: IntArray,
    rows: IntArray,
    columns: IntArray,
    units: IntArray,
    mentor_of: IntArray,
) -> tuple[IntArray, IntArray]:
    """Shortest distances from the hub in the residual graph of a restricted optimum.

    Nodes: mentees ``0..n-1``, mentors ``n..n+m-1``, the hub ``n+m``. Arcs: mentee → mentor
    for a pair not taken (cost ``-(BIG + units)``), mentor → mentee for a pair taken (cost
    ``BIG + units``), hub → unmatched mentee, matched mentee → hub, mentor with spare capacity
    → hub, hub → mentor in use (cost 0). Bellman–Ford runs vectorised, one pass over all arcs at
    a time, and stops as soon as a pass changes nothing (scipy's runs all N - 1 passes).

    Returns:
        Potentials of the mentees and of the mentors; every mentor's is at most 0.
    """
    mentor_count = len(capacity)
    big = big_weight(mentee_count)
    hub = mentee_count + mentor_count
    taken = mentor_of[rows] == columns
    load = np.bincount(mentor_of[mentor_of >= 0], minlength=mentor_count)
    matched = np.flatnonzero(mentor_of >= 0)
    unmatched = np.flatnonzero(mentor_of < 0)
    spare = np.flatnonzero(load < capacity)
    in_use = np.flatnonzero(load > 0)
    weight = big + units
    tails = np.concatenate(
        [
            rows[~taken],
            mentee_count + columns[taken],
            np.full(len(unmatched), hub),
            matched,
            mentee_count + spare,
            np.full(len(in_use), hub),
        ]
    )
    heads = np.concatenate(
        [
            mentee_count + columns[~taken],
            rows[taken],
            unmatched,
            np.full(len(matched), hub),
            np.full(len(spare), hub),
            mentee_count + in_use,
        ]
    )
    costs = np.concatenate(
        [-weight[~taken], weight[taken], np.zeros(len(tails) - len(taken), dtype=np.int64)]
    )
    distance = np.full(hub + 1, _UNREACHED, dtype=np.int64)
    distance[hub] = 0
    for _ in range(hub + 2):
        reached = distance[tails] < _UNREACHED
        updated = distance.copy()
        np.minimum.at(updated, heads[reached], distance[tails[reached]] + costs[reached])
        if np.array_equal(updated, distance):
            break
        distance = updated
    else:
        raise SolverFailed("negative cycle in the residual graph of a restricted optimum")
    mentee_potential = distance[:mentee_count]
    mentor_potential = distance[mentee_count:hub].copy()
    # An idle mentor's potential may be lowered to the hub's (0): its only outgoing arc goes to
    # the hub, and lowering never breaks an incoming arc. Unreached idle mentors get 0 as well.
    mentor_potential[load == 0] = 0
    if (mentee_potential >= _UNREACHED).any():
        raise SolverFailed("a mentee is unreachable in the residual graph")
    return mentee_potential, mentor_potential
