"""Hard constraints: which mentor may mentor which mentee at all.

A pair is allowed only when all of these hold:

* the mentor is not the mentee (a participant may have both roles);
* the mentor is not the mentee's manager, nor anyone further up the mentee's reporting line;
* neither of them lists the other under ``avoid``;
* the mentor's seniority is at least the mentee's plus the program's ``min_seniority_gap``;
* the mentor has capacity left (``mentor_capacity``, or the program's default).

The first three are sparse and precomputed in :class:`~matching.problem.MatchingProblem`; the
seniority rule is evaluated on whole blocks with one comparison. :class:`CohortRules` checks
single pairs (HR's overrides) from the spec alone.
"""

from __future__ import annotations

import numpy as np

from domain.cohort_spec import CohortSpec
from matching.problem import BoolArray, IntArray, MatchingProblem, reporting_line


def allowed_block(problem: MatchingProblem, mentees: IntArray, capacity: IntArray) -> BoolArray:
    """Which pairs of the listed mentees (rows, sorted) and all mentors (columns) are allowed."""
    senior_enough = (
        problem.mentor_seniority[None, :] - problem.mentee_seniority[mentees, None]
        >= problem.min_seniority_gap
    )
    allowed = np.asarray(senior_enough & (capacity > 0)[None, :], dtype=np.bool_)
    forbidden_mentees = problem.forbidden_mentee
    selected = np.isin(forbidden_mentees, mentees)
    rows = np.searchsorted(mentees, forbidden_mentees[selected])
    allowed[rows, problem.forbidden_mentor[selected]] = False
    return allowed


class CohortRules:
    """The same hard constraints, read straight from a spec in plain Python.

    Cheap to build and free of numpy and time zones, so that code that must stay light and
    deterministic (an update validator in a workflow checking HR's overrides) can use it.
    """

    def __init__(self, spec: CohortSpec) -> None:
        self._people = {participant.id: participant for participant in spec.participants}
        self._program = spec.program

    def capacity(self, mentor_id: str) -> int:
        """Mentees the mentor can take (their own capacity, or the program's default)."""
        mentor = self._people[mentor_id]
        return mentor.mentor_capacity or self._program.default_mentor_capacity

    def is_mentor(self, participant_id: str) -> bool:
        """Whether the id names a mentor of the cohort."""
        person = self._people.get(participant_id)
        return person is not None and person.is_mentor

    def violations(
        self, mentor_id: str, mentee_id: str, *, mentor_load: int | None = None
    ) -> list[str]:
        """Every hard constraint one pair breaks, in plain words (empty when it is allowed).

        Args:
            mentor_id: The mentor.
            mentee_id: The mentee.
            mentor_load: Mentees the mentor already has, not counting this one; ``None``
                skips the capacity check.
        """
        mentor, mentee = self._people.get(mentor_id), self._people.get(mentee_id)
        problems: list[str] = []
        if mentee is None or not mentee.is_mentee:
            problems.append(f"{mentee_id!r} is not a mentee of this cohort")
        if mentor is None or not mentor.is_mentor:
            problems.append(f"{mentor_id!r} is not a mentor of this cohort")
        if mentor is None or mentee is None or problems:
            return problems
        if mentor_id == mentee_id:
            return [f"{mentor_id} cannot mentor themselves"]
        if mentor_id in reporting_line(mentee_id, self._people):
            problems.append(f"{mentor_id} is in {mentee_id}'s reporting line")
        if mentee_id in mentor.avoid or mentor_id in mentee.avoid:
            problems.append(f"{mentor_id} and {mentee_id} are on each other's avoid list")
        required = mentee.seniority + self._program.min_seniority_gap
        if mentor.seniority < required:
            problems.append(
                f"{mentor_id} has seniority {mentor.seniority}, below the required {required} "
                f"({self._program.min_seniority_gap} above {mentee_id})"
            )
        capacity = self.capacity(mentor_id)
        if mentor_load is not None and mentor_load >= capacity:
            problems.append(f"{mentor_id} is at capacity ({mentor_load} of {capacity} mentees)")
        return problems
