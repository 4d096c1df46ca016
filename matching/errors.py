"""Errors of the matching engine."""

from __future__ import annotations


class MatchingError(Exception):
    """Base of every error the matching engine raises."""


class UnknownParticipant(MatchingError):
    """An id names nobody with the needed role in the cohort."""

    def __init__(self, participant_id: str, role: str) -> None:
        self.participant_id = participant_id
        self.role = role
        super().__init__(f"{participant_id!r} is not a {role} of this cohort")


class SolverFailed(MatchingError):
    """The solver met a state that proves a bug (for example a negative cycle after solving)."""
