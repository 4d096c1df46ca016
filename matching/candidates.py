"""The sparse candidate graph of the solver, and the pricing that proves it sufficient.

See :mod:`matching.solver` for the method; this module keeps the pairs, the per-mentee
reserve of best pairs, and adds left-out pairs whose reduced cost says they could help.
"""

from __future__ import annotations

import numpy as np

from matching.lap import UnitsRows, big_weight, row_blocks
from matching.options import SolverOptions
from matching.problem import BoolArray, IntArray


def top_per_row(keys: IntArray, count: int) -> IntArray:
    """Columns of the ``count`` largest keys of each row (unordered)."""
    count = min(count, keys.shape[1])
    return np.argpartition(keys, keys.shape[1] - count, axis=1)[:, keys.shape[1] - count :]


class CandidateGraph:
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
    ) -> CandidateGraph:
        mentor_count = len(capacity)
        reserve = min(max(options.reserve, options.mentee_candidates), mentor_count)
        graph = cls(mentee_count, mentor_count, reserve)
        per_mentor = max(1, options.mentor_candidates * int(capacity.max()) + 2)
        # Ties prefer the lower mentor index (for mentees) and the lower mentee index (for
        # mentors), which makes the candidate graph, hence the answer, reproducible.
        mentor_order = mentor_count - 1 - np.arange(mentor_count, dtype=np.int64)
        mentor_side_keys, mentor_side_rows = [], []
        for block in row_blocks(mentee_count, mentor_count, options.block_cells):
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
        top = top_per_row(reserve_keys, options.mentee_candidates)
        kept = np.take_along_axis(graph.reserve_units, top, axis=1) >= 0
        all_keys, all_rows = np.vstack(mentor_side_keys), np.vstack(mentor_side_rows)
        best = top_per_row(all_keys.T, per_mentor).T
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
        top = top_per_row(keys, per_row)
        chosen = np.take_along_axis(eligible, top, axis=1)
        mask = np.zeros_like(eligible)
        np.put_along_axis(mask, top, chosen, axis=1)
        pairs = (
            np.broadcast_to(rows[:, None], top.shape)[chosen],
            np.take_along_axis(columns, top, axis=1)[chosen],
            np.take_along_axis(units, top, axis=1)[chosen],
        )
        return mask, pairs
