"""The lean, array-shaped view of a cohort that scoring, constraints and the solver work on.

Mentors and mentees are sorted by id, so that the engine's answer does not depend on the order
of participants in the spec; every tie the solver meets is then broken the same way.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntFlag
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from domain.cohort_spec import CohortSpec, ParticipantSpec, Traits
from matching.errors import UnknownParticipant

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The Big Five in a fixed column order for the trait matrices.
TRAIT_NAMES = (
    "openness",
    "conscientiousness",
    "extraversion",
    "agreeableness",
    "emotional_stability",
)


class Exclusion(IntFlag):
    """Why a pair is forbidden regardless of seniority and capacity (flags combine)."""

    SELF = 1
    REPORTING_LINE = 2
    AVOID = 4
    EXCLUDED = 8  # excluded by the caller, e.g. the mentee's previous mentor on a rematch


@dataclass(frozen=True)
class Vocabulary:
    """Names behind the columns of a 0/1 (or level) matrix, in sorted order."""

    names: tuple[str, ...]

    @classmethod
    def of(cls, groups: Iterable[Iterable[str]]) -> Vocabulary:
        return cls(tuple(sorted({name for group in groups for name in group})))

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> FloatArray:
        """One row per item, one column per name; missing names are 0."""
        column = {name: position for position, name in enumerate(self.names)}
        result = np.zeros((len(rows), len(self.names)), dtype=np.float64)
        for row_index, values in enumerate(rows):
            for name, value in values.items():
                result[row_index, column[name]] = value
        return result


def primary_language(code: str) -> str:
    """``en-GB`` and ``en_US`` both speak ``en``."""
    return code.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class MatchingProblem:
    """Mentors and mentees of one cohort as arrays, with the program's matching rules.

    Row ``i`` of every ``mentee_*`` array is the mentee ``mentee_ids[i]``; row ``j`` of every
    ``mentor_*`` array is the mentor ``mentor_ids[j]``. Forbidden pairs are sparse (reporting
    lines and avoid lists touch few pairs) and kept as parallel arrays sorted by mentee.
    """

    mentee_ids: tuple[str, ...]
    mentor_ids: tuple[str, ...]
    mentee_seniority: IntArray
    mentor_seniority: IntArray
    capacity: IntArray
    skills: Vocabulary
    mentee_wants: FloatArray  # 0/1 per wanted skill
    mentor_levels: FloatArray  # 0..5 per skill
    objectives: Vocabulary
    mentee_objectives: FloatArray  # 0/1
    mentor_objectives: FloatArray  # 0/1
    mentee_traits: FloatArray  # TRAIT_NAMES columns; rows of 0 when unknown
    mentee_has_traits: BoolArray
    mentor_traits: FloatArray
    mentor_has_traits: BoolArray
    languages: Vocabulary  # primary language subtags
    mentee_languages: FloatArray  # 0/1
    mentor_languages: FloatArray  # 0/1
    mentee_utc_offset_hours: FloatArray
    mentor_utc_offset_hours: FloatArray
    forbidden_mentee: IntArray
    forbidden_mentor: IntArray
    forbidden_reason: IntArray  # Exclusion flags
    min_seniority_gap: int
    weights: tuple[float, float, float, float]  # skills, objectives, personality, logistics
    participants: Mapping[str, ParticipantSpec]

    @property
    def mentee_count(self) -> int:
        """Number of mentees."""
        return len(self.mentee_ids)

    @property
    def mentor_count(self) -> int:
        """Number of mentors."""
        return len(self.mentor_ids)

    def mentee_index(self, mentee_id: str) -> int:
        """Row of a mentee; raises :class:`UnknownParticipant` for anyone else."""
        position = bisect_left(self.mentee_ids, mentee_id)
        if position >= len(self.mentee_ids) or self.mentee_ids[position] != mentee_id:
            raise UnknownParticipant(mentee_id, "mentee")
        return position

    def mentor_index(self, mentor_id: str) -> int:
        """Row of a mentor; raises :class:`UnknownParticipant` for anyone else."""
        position = bisect_left(self.mentor_ids, mentor_id)
        if position >= len(self.mentor_ids) or self.mentor_ids[position] != mentor_id:
            raise UnknownParticipant(mentor_id, "mentor")
        return position

    def forbidden_rows(self, start: int, stop: int) -> tuple[IntArray, IntArray, IntArray]:
        """Forbidden pairs of the mentees ``start..stop-1``: (mentee, mentor, reason flags)."""
        low, high = np.searchsorted(self.forbidden_mentee, [start, stop])
        return (
            self.forbidden_mentee[low:high],
            self.forbidden_mentor[low:high],
            self.forbidden_reason[low:high],
        )

    @classmethod
    def from_spec(
        cls,
        spec: CohortSpec,
        *,
        excluded_pairs: Collection[tuple[str, str]] = (),
        capacity_override: Mapping[str, int] | None = None,
    ) -> MatchingProblem:
        """Build the problem of a validated spec.

        Args:
            spec: The cohort.
            excluded_pairs: Extra ``(mentor_id, mentee_id)`` pairs to forbid.
            capacity_override: Remaining capacity per mentor id, replacing the spec's capacity
                (mentors not named keep theirs).
        """
        by_id = {participant.id: participant for participant in spec.participants}
        mentees = sorted((p for p in spec.participants if p.is_mentee), key=lambda p: p.id)
        mentors = sorted((p for p in spec.participants if p.is_mentor), key=lambda p: p.id)
        program = spec.program
        overrides = capacity_override or {}
        capacity = [
            overrides.get(mentor.id, mentor.mentor_capacity or program.default_mentor_capacity)
            for mentor in mentors
        ]
        skills = Vocabulary.of(
            [*(m.wants_to_develop for m in mentees), *(m.skills for m in mentors)]
        )
        objectives = Vocabulary.of(p.career_objectives for p in [*mentees, *mentors])
        languages = Vocabulary.of(
            [primary_language(code) for code in p.languages] for p in [*mentees, *mentors]
        )

        def one_hot(names: Iterable[str]) -> dict[str, float]:
            return dict.fromkeys(names, 1.0)

        def languages_of(person: ParticipantSpec) -> dict[str, float]:
            return one_hot(primary_language(code) for code in person.languages)

        weights = program.weights
        total = weights.skills + weights.objectives + weights.personality + weights.logistics
        forbidden = _forbidden_pairs(mentees, mentors, by_id, excluded_pairs)
        return cls(
            mentee_ids=tuple(m.id for m in mentees),
            mentor_ids=tuple(m.id for m in mentors),
            mentee_seniority=np.array([m.seniority for m in mentees], dtype=np.int64),
            mentor_seniority=np.array([m.seniority for m in mentors], dtype=np.int64),
            capacity=np.array(capacity, dtype=np.int64),
            skills=skills,
            mentee_wants=skills.matrix([one_hot(m.wants_to_develop) for m in mentees]),
            mentor_levels=skills.matrix(
                [{k: float(v) for k, v in m.skills.items()} for m in mentors]
            ),
            objectives=objectives,
            mentee_objectives=objectives.matrix([one_hot(m.career_objectives) for m in mentees]),
            mentor_objectives=objectives.matrix([one_hot(m.career_objectives) for m in mentors]),
            mentee_traits=_traits([m.traits for m in mentees]),
            mentee_has_traits=np.array([m.traits is not None for m in mentees], dtype=np.bool_),
            mentor_traits=_traits([m.traits for m in mentors]),
            mentor_has_traits=np.array([m.traits is not None for m in mentors], dtype=np.bool_),
            languages=languages,
            mentee_languages=languages.matrix([languages_of(m) for m in mentees]),
            mentor_languages=languages.matrix([languages_of(m) for m in mentors]),
            mentee_utc_offset_hours=_offsets(mentees, spec),
            mentor_utc_offset_hours=_offsets(mentors, spec),
            forbidden_mentee=forbidden[0],
            forbidden_mentor=forbidden[1],
            forbidden_reason=forbidden[2],
            min_seniority_gap=program.min_seniority_gap,
            weights=(
                weights.skills / total,
                weights.objectives / total,
                weights.personality / total,
                weights.logistics / total,
            ),
            participants=by_id,
        )


def _traits(traits: Sequence[Traits | None]) -> FloatArray:
    rows = [[getattr(t, name) for name in TRAIT_NAMES] if t else [0.0] * 5 for t in traits]
    return np.array(rows, dtype=np.float64).reshape(len(traits), len(TRAIT_NAMES))


def _offsets(people: Sequence[ParticipantSpec], spec: CohortSpec) -> FloatArray:
    # Offsets change with daylight saving time; one fixed reference instant (the program's
    # start) keeps every score reproducible for the whole life of the cohort.
    reference = spec.program.starts_at
    hours: dict[str, float] = {}
    for person in people:
        if person.timezone not in hours:
            offset = reference.astimezone(ZoneInfo(person.timezone)).utcoffset()
            hours[person.timezone] = offset.total_seconds() / 3600 if offset else 0.0
    return np.array([hours[person.timezone] for person in people], dtype=np.float64)


def _forbidden_pairs(
    mentees: Sequence[ParticipantSpec],
    mentors: Sequence[ParticipantSpec],
    by_id: Mapping[str, ParticipantSpec],
    excluded_pairs: Collection[tuple[str, str]],
) -> tuple[IntArray, IntArray, IntArray]:
    mentor_row = {mentor.id: row for row, mentor in enumerate(mentors)}
    mentee_row = {mentee.id: row for row, mentee in enumerate(mentees)}
    flags: dict[tuple[int, int], int] = {}

    def forbid(mentee: int, mentor_id: str, reason: Exclusion) -> None:
        mentor = mentor_row.get(mentor_id)
        if mentor is not None:
            flags[mentee, mentor] = flags.get((mentee, mentor), 0) | reason

    for row, mentee in enumerate(mentees):
        forbid(row, mentee.id, Exclusion.SELF)
        for manager_id in reporting_line(mentee.id, by_id):
            forbid(row, manager_id, Exclusion.REPORTING_LINE)
        for avoided_id in mentee.avoid:
            forbid(row, avoided_id, Exclusion.AVOID)
    for mentor in mentors:
        for avoided_id in mentor.avoid:
            if avoided_id in mentee_row:
                forbid(mentee_row[avoided_id], mentor.id, Exclusion.AVOID)
    for mentor_id, mentee_id in excluded_pairs:
        if mentee_id in mentee_row:
            forbid(mentee_row[mentee_id], mentor_id, Exclusion.EXCLUDED)

    ordered = sorted(flags.items())
    return (
        np.array([pair[0] for pair, _ in ordered], dtype=np.int64),
        np.array([pair[1] for pair, _ in ordered], dtype=np.int64),
        np.array([flag for _, flag in ordered], dtype=np.int64),
    )


def reporting_line(person_id: str, by_id: Mapping[str, ParticipantSpec]) -> list[str]:
    """The person's manager, their manager's manager, and so on up (a validated spec is acyclic)."""
    line: list[str] = []
    seen = {person_id}
    manager_id = by_id[person_id].manager_id if person_id in by_id else None
    while manager_id is not None and manager_id not in seen and manager_id in by_id:
        line.append(manager_id)
        seen.add(manager_id)
        manager_id = by_id[manager_id].manager_id
    return line
