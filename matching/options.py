"""Tuning of the solver: none of it changes the optimum, only the time to reach it."""

from __future__ import annotations

from dataclasses import dataclass

from matching.scoring import SCORE_UNITS


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
