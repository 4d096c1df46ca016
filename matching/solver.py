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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

# scipy ships no type information (scipy-stubs would add it).
import scipy.sparse as sparse  # type: ignore[import-untyped]
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]
from scipy.sparse.csgraph import (  # type: ignore[import-untyped]
    min_weight_full_bipartite_matching,
)

from matching.errors import SolverFailed
from matching.problem import BoolArray, IntArray
from matching.scoring import SCORE_UNITS

UnitsRows = Callable[[IntArray], IntArray]
"""Scores of the given mentees (sorted rows) against every mentor; -1 where not allowed."""

_UNREACHED = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class SolverOptions:
    """Tuning of the sparse solver; the optimum does not depend on them, only the run time.

    Attributes:
        mentee_candidates: Best mentors kept per mentee in the first candidate graph.
        mentor_candidates: Best mentees kept per mentor slot in the first candidate graph.
        reserve: Best mentors remembered per mentee, checked without rescoring.
        added_per_mentee: Left-out pairs added per violating mentee and round.
        near_margin: Pairs this close to violating (in score units) are added too.
        max_rounds: Rounds of the sparse solver before the dense fallback.
        block_cells: Mentee × mentor cells scored at once (bounds the memory used).
        dense_cells: Problems with at most this many mentee × place cells go straight to the
            exact dense solver, which is the fastest there and has no rounds.
        cache_cells: Keep every score in memory (4 bytes a cell) up to this many mentee ×
            mentor cells, so that pricing never scores a row twice; above it, rows are
            rescored when needed.
    """

    mentee_candidates: int = 16
    mentor_candidates: int = 2
    reserve: int = 48
    added_per_mentee: int = 8
    near_margin: int = SCORE_UNITS // 20
    max_rounds: int = 12
    block_cells: int = 2_000_000
    dense_cells: int = 2_000_000
    cache_cells: int = 64_000_000


@dataclass(frozen=True)
class Assignment:
    """The solver's answer: the mentor row of each mentee, -1 when unmatched."""

    mentor_of: IntArray
    method: Literal["sparse", "dense"]
    rounds: int
    candidate_pairs: int


def big_weight(mentee_count: int) -> int:
    """A weight per match larger than any possible total of scores."""
    return (mentee_count + 1) * (SCORE_UNITS + 1)


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
        units = np.vstack(list(_map_blocks(mentee_count, mentor_count, options, units_rows)))
        return Assignment(solve_dense(units, capacity), "dense", 0, int((units >= 0).sum()))
    if mentee_count * mentor_count <= options.cache_cells:
        units_rows = _ScoreCache(mentee_count, mentor_count, units_rows)
    graph = _CandidateGraph.initial(mentee_count, capacity, units_rows, options)
    for round_number in range(1, options.max_rounds + 1):
        mentor_of = _solve_restricted(graph, capacity)
        if not graph.left_out_pairs():
            return Assignment(mentor_of, "sparse", round_number, graph.size)
        mentee_potential, mentor_potential = _potentials(graph, capacity, mentor_of)
        if not graph.price(mentee_potential, mentor_potential, units_rows, options):
            return Assignment(mentor_of, "sparse", round_number, graph.size)
    dense_units = np.vstack(list(_map_blocks(mentee_count, mentor_count, options, units_rows)))
    return Assignment(solve_dense(dense_units, capacity), "dense", options.max_rounds, graph.size)


def solve_dense(units: IntArray, capacity: IntArray) -> IntArray:
    """Exact optimum on the full matrix (mentees × mentors, -1 where not allowed).

    ``linear_sum_assignment`` over mentor capacity replicated into slots, with cost
    ``-(BIG + units)`` on allowed cells and 0 elsewhere: a mentee placed on a 0 cell is
    unmatched. Memory and time grow with mentees × slots; the reference for benchmarks and the
    fallback of :func:`solve`.
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


def _blocks(mentee_count: int, mentor_count: int, block_cells: int) -> Iterator[IntArray]:
    size = max(1, block_cells // max(mentor_count, 1))
    for start in range(0, mentee_count, size):
        yield np.arange(start, min(start + size, mentee_count), dtype=np.int64)


def _map_blocks(
    mentee_count: int, mentor_count: int, options: SolverOptions, units_rows: UnitsRows
) -> Iterator[IntArray]:
    for rows in _blocks(mentee_count, mentor_count, options.block_cells):
        yield units_rows(rows)


def _top_per_row(keys: IntArray, count: int) -> IntArray:
    """Columns of the ``count`` largest keys of each row (unordered)."""
    count = min(count, keys.shape[1])
    return np.argpartition(keys, keys.shape[1] - count, axis=1)[:, keys.shape[1] - count :]


class _CandidateGraph:
    """The restricted set of pairs, sorted by (mentee, mentor), and what was left out.

    Besides the pairs in the graph, each mentee keeps a *reserve*: its best ``reserve`` pairs
    with their scores, and the best score beyond them (``beyond_reserve``). Pricing checks the
    reserve from memory and rescores a mentee's whole row only when the bound on the pairs
    beyond the reserve is not enough.
    """

    def __init__(self, mentee_count: int, mentor_count: int, reserve: int) -> None:
        self.mentee_count, self.mentor_count = mentee_count, mentor_count
        self.rows = np.zeros(0, dtype=np.int64)
        self.columns = np.zeros(0, dtype=np.int64)
        self.units = np.zeros(0, dtype=np.int64)
        self.reserve_columns = np.zeros((mentee_count, reserve), dtype=np.int64)
        self.reserve_units = np.full((mentee_count, reserve), -1, dtype=np.int64)
        self.reserve_in_graph = np.zeros((mentee_count, reserve), dtype=np.bool_)
        self.beyond_reserve = np.full(mentee_count, -1, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.rows)

    @classmethod
    def initial(
        cls, mentee_count: int, capacity: IntArray, units_rows: UnitsRows, options: SolverOptions
    ) -> _CandidateGraph:
        mentor_count = len(capacity)
        reserve = min(max(options.reserve, options.mentee_candidates), mentor_count)
        graph = cls(mentee_count, mentor_count, reserve)
        per_mentor = max(1, options.mentor_candidates * int(capacity.max()) + 2)
        # Ties prefer the lower mentor index (for mentees) and the lower mentee index (for
        # mentors), which makes the candidate graph, hence the answer, reproducible.
        mentor_order = mentor_count - 1 - np.arange(mentor_count, dtype=np.int64)
        mentor_side_keys, mentor_side_rows = [], []
        for block in _blocks(mentee_count, mentor_count, options.block_cells):
            block_units = units_rows(block)
            allowed = block_units >= 0
            keys = np.where(allowed, block_units * mentor_count + mentor_order, -1)
            if reserve < mentor_count:
                # One partition gives the reserve and, at the pivot, the best pair beyond it.
                order = np.argpartition(keys, mentor_count - reserve - 1, axis=1)
                chosen = order[:, mentor_count - reserve :]
                pivot = order[:, mentor_count - reserve - 1 : mentor_count - reserve]
                graph.beyond_reserve[block] = np.take_along_axis(block_units, pivot, axis=1)[:, 0]
            else:
                chosen = np.broadcast_to(np.arange(mentor_count), keys.shape)
            graph.reserve_columns[block] = chosen
            graph.reserve_units[block] = np.take_along_axis(block_units, chosen, axis=1)

            rows_taken = min(per_mentor, len(block))
            column_keys = np.where(
                allowed, block_units * mentee_count + (mentee_count - 1 - block)[:, None], -1
            )
            best = np.argpartition(column_keys, len(block) - rows_taken, axis=0)[-rows_taken:]
            mentor_side_keys.append(np.take_along_axis(column_keys, best, axis=0))
            mentor_side_rows.append(block[best])

        reserve_keys = np.where(
            graph.reserve_units >= 0,
            graph.reserve_units * mentor_count + mentor_order[graph.reserve_columns],
            -1,
        )
        top = _top_per_row(reserve_keys, options.mentee_candidates)
        kept = np.take_along_axis(graph.reserve_units, top, axis=1) >= 0
        all_keys, all_rows = np.vstack(mentor_side_keys), np.vstack(mentor_side_rows)
        best = _top_per_row(all_keys.T, per_mentor).T
        best_keys = np.take_along_axis(all_keys, best, axis=0)
        chosen_by_mentor = best_keys >= 0
        graph.add(
            np.concatenate(
                [
                    np.broadcast_to(np.arange(mentee_count)[:, None], top.shape)[kept],
                    np.take_along_axis(all_rows, best, axis=0)[chosen_by_mentor],
                ]
            ),
            np.concatenate(
                [
                    np.take_along_axis(graph.reserve_columns, top, axis=1)[kept],
                    np.broadcast_to(np.arange(mentor_count), best.shape)[chosen_by_mentor],
                ]
            ),
            np.concatenate(
                [
                    np.take_along_axis(graph.reserve_units, top, axis=1)[kept],
                    best_keys[chosen_by_mentor] // mentee_count,
                ]
            ),
        )
        return graph

    def add(self, rows: IntArray, columns: IntArray, units: IntArray) -> None:
        """Add pairs (duplicates of pairs already present are ignored)."""
        keys = np.concatenate([self.rows, rows]) * self.mentor_count + np.concatenate(
            [self.columns, columns]
        )
        unique_keys, first = np.unique(keys, return_index=True)  # sorted by (mentee, mentor)
        self.rows = np.concatenate([self.rows, rows])[first]
        self.columns = np.concatenate([self.columns, columns])[first]
        self.units = np.concatenate([self.units, units])[first]
        reserve_keys = (
            np.arange(self.mentee_count)[:, None] * self.mentor_count + self.reserve_columns
        )
        self.reserve_in_graph = np.isin(reserve_keys, unique_keys)

    def left_out_pairs(self) -> bool:
        """Whether some allowed pair is not in the graph."""
        in_reserve = ((self.reserve_units >= 0) & ~self.reserve_in_graph).any()
        return bool(in_reserve or (self.beyond_reserve >= 0).any())

    def membership(self, block: IntArray) -> BoolArray:
        """Which (block mentee, mentor) cells are in the graph; ``block`` is sorted."""
        low, high = np.searchsorted(self.rows, [block[0], block[-1] + 1])
        rows, columns = self.rows[low:high], self.columns[low:high]
        positions = np.minimum(np.searchsorted(block, rows), len(block) - 1)
        inside = block[positions] == rows
        member = np.zeros((len(block), self.mentor_count), dtype=np.bool_)
        member[positions[inside], columns[inside]] = True
        return member

    def price(
        self,
        mentee_potential: IntArray,
        mentor_potential: IntArray,
        units_rows: UnitsRows,
        options: SolverOptions,
    ) -> bool:
        """Add left-out pairs that could improve the solution; False proves it optimal.

        A pair violates the potentials when its reduced cost is negative. For each mentee with
        a violation, its best few pairs by reduced cost join the graph, including pairs that
        are close to violating (within ``options.near_margin``), which saves rounds.
        """
        big = big_weight(self.mentee_count)
        additions: list[tuple[IntArray, IntArray, IntArray]] = []
        open_pairs = (self.reserve_units >= 0) & ~self.reserve_in_graph
        reduced = (big + self.reserve_units) - (
            mentee_potential[:, None] - mentor_potential[self.reserve_columns]
        )
        violating = open_pairs & (reduced > 0)
        found = bool(violating.any())
        if found:
            mentees_violating: BoolArray = np.any(violating, axis=1)
            worth_adding = open_pairs & (reduced > -options.near_margin)
            worth_adding &= mentees_violating[:, None]
            chosen, pairs = self._best_cells(
                np.arange(self.mentee_count),
                self.reserve_columns,
                self.reserve_units,
                reduced,
                worth_adding,
                options.added_per_mentee,
            )
            additions.append(pairs)
        # Pairs beyond the reserve score at most beyond_reserve, and every mentor potential is
        # at most 0, so only mentees failing this bound need their whole row checked.
        suspects = np.flatnonzero(
            (self.beyond_reserve >= 0) & (big + self.beyond_reserve > mentee_potential)
        )
        block_size = max(1, options.block_cells // self.mentor_count)
        for start in range(0, len(suspects), block_size):
            block = suspects[start : start + block_size]
            block_units = units_rows(block)
            outside = (block_units >= 0) & ~self.membership(block)
            np.put_along_axis(outside, self.reserve_columns[block], False, axis=1)
            reduced_row = (big + block_units) - (
                mentee_potential[block, None] - mentor_potential[None, :]
            )
            violating_row = outside & (reduced_row > 0)
            if violating_row.any():
                found = True
                columns = np.broadcast_to(np.arange(self.mentor_count), block_units.shape)
                chosen, pairs = self._best_cells(
                    block,
                    columns,
                    block_units,
                    reduced_row,
                    violating_row,
                    options.added_per_mentee,
                )
                additions.append(pairs)
                outside &= ~chosen
            self.beyond_reserve[block] = np.where(outside, block_units, -1).max(axis=1)
        if additions:
            self.add(*(np.concatenate(parts) for parts in zip(*additions, strict=True)))
        return found

    def _best_cells(
        self,
        rows: IntArray,
        columns: IntArray,
        units: IntArray,
        reduced: IntArray,
        eligible: BoolArray,
        per_row: int,
    ) -> tuple[BoolArray, tuple[IntArray, IntArray, IntArray]]:
        """Each row's ``per_row`` eligible cells with the largest reduced cost.

        Returns the chosen cells as a mask and as (mentee, mentor, units) pairs.
        """
        order = self.mentor_count - 1 - columns
        keys = np.where(eligible, reduced * self.mentor_count + order, np.iinfo(np.int64).min)
        top = _top_per_row(keys, per_row)
        chosen = np.take_along_axis(eligible, top, axis=1)
        mask = np.zeros_like(eligible)
        np.put_along_axis(mask, top, chosen, axis=1)
        pairs = (
            np.broadcast_to(rows[:, None], top.shape)[chosen],
            np.take_along_axis(columns, top, axis=1)[chosen],
            np.take_along_axis(units, top, axis=1)[chosen],
        )
        return mask, pairs


def _solve_restricted(graph: _CandidateGraph, capacity: IntArray) -> IntArray:
    """Optimal assignment on the candidate graph (LAPJVsp over replicated slots)."""
    mentee_count = graph.mentee_count
    slot_start = np.cumsum(capacity) - capacity
    slot_count = int(capacity.sum())
    copies = capacity[graph.columns]
    first_copy = np.repeat(np.cumsum(copies) - copies, copies)
    pair_slots = np.repeat(slot_start[graph.columns], copies)
    pair_slots += np.arange(int(copies.sum())) - first_copy
    pair_mentees = np.repeat(graph.rows, copies)
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
            np.repeat(SCORE_UNITS + 1 - graph.units, copies),
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
    rows, columns = min_weight_full_bipartite_matching(matrix)
    real = columns < column_count
    mentees, slots = (rows, columns) if mentees_are_rows else (columns, rows)
    slot_owner = np.repeat(np.arange(len(capacity), dtype=np.int64), capacity)
    mentor_of = np.full(mentee_count, -1, dtype=np.int64)
    mentor_of[mentees[real]] = slot_owner[slots[real]]
    return mentor_of


def _potentials(
    graph: _CandidateGraph, capacity: IntArray, mentor_of: IntArray
) -> tuple[IntArray, IntArray]:
    """Shortest distances from the hub in the residual graph of a restricted optimum.

    Nodes: mentees ``0..n-1``, mentors ``n..n+m-1``, the hub ``n+m``. Arcs: mentee → mentor
    for a pair not taken (cost ``-(BIG + units)``), mentor → mentee for a pair taken (cost
    ``BIG + units``), hub → unmatched mentee, matched mentee → hub, mentor with spare capacity
    → hub, hub → mentor in use (cost 0). Bellman–Ford runs vectorised, one pass over all arcs at
    a time, and stops as soon as a pass changes nothing (scipy's runs all N - 1 passes).
    """
    mentee_count, mentor_count = graph.mentee_count, graph.mentor_count
    big = big_weight(mentee_count)
    hub = mentee_count + mentor_count
    taken = mentor_of[graph.rows] == graph.columns
    load = np.bincount(mentor_of[mentor_of >= 0], minlength=mentor_count)
    matched = np.flatnonzero(mentor_of >= 0)
    unmatched = np.flatnonzero(mentor_of < 0)
    spare = np.flatnonzero(load < capacity)
    in_use = np.flatnonzero(load > 0)
    weight = big + graph.units
    tails = np.concatenate(
        [
            graph.rows[~taken],
            mentee_count + graph.columns[taken],
            np.full(len(unmatched), hub),
            matched,
            mentee_count + spare,
            np.full(len(in_use), hub),
        ]
    )
    heads = np.concatenate(
        [
            mentee_count + graph.columns[~taken],
            graph.rows[taken],
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
