"""Compatibility of a mentor for a mentee, a number in [0, 1], and its four parts.

Every part is in [0, 1]; a part that cannot be judged because a profile lacks the data (no
wanted skills, no career objectives, no traits, no languages) counts as a neutral 0.5, so that
nobody is penalised for an empty field and no mentor gains from it either.

**Skills** (weight ``skills``). The mean, over the skills the mentee wants to develop, of the
mentor's level in that skill divided by 5: a mentor at level 5 in every wanted skill scores 1,
a mentor who knows none of them 0.

**Objectives** (weight ``objectives``). The share of the mentee's career objectives (tracks)
that the mentor also has: ``|mentee ∩ mentor| / |mentee|``. A mentor with extra objectives of
their own is not penalised.

**Personality and work style** (weight ``personality``), from the Big Five (0..1 each)::

    0.3 * (1 - |Δ openness|) + 0.3 * (1 - |Δ conscientiousness|)
      + 0.2 * (1 - |Δ agreeableness|) + 0.2 * mentor's emotional_stability

Similarity on openness and conscientiousness stands for shared work style and values, the
"deep-level similarity" that mentoring research associates with satisfying relationships;
agreeableness similarity weighs less. A steady (emotionally stable) mentor is good for any
mentee, so it enters as the mentor's own level. Extraversion is left out: findings on whether
similar or complementary extraversion helps are mixed, and a guess would only add noise.

**Logistics** (weight ``logistics``)::

    0.5 * max(0, 8 - Δh) / 8 + 0.5 * (1 if they share a language else 0)

where Δh is the distance in hours between their UTC offsets at the program's start (the
shorter way round the clock), so the score is the share of an 8-hour working day they have in
common. Languages compare on their primary subtag (``en-GB`` speaks ``en``).

**Total**: the weighted mean of the four parts with the program's weights (divided by their
sum), rounded to an integer number of millionths (:data:`SCORE_UNITS`). The solver works on
those integers, so that sums are exact and the optimum does not depend on summation order.

Block scores (many mentees against all mentors) and pair scores use the same element-wise
arithmetic; the only reductions are sums of small integers, which are exact in any order, so a
pair scores identically whichever way it is computed (the tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.problem import TRAIT_NAMES, FloatArray, IntArray, MatchingProblem

SCORE_UNITS = 1_000_000
NEUTRAL = 0.5
WORKING_DAY_HOURS = 8.0
_OPENNESS, _CONSCIENTIOUSNESS = (
    TRAIT_NAMES.index("openness"),
    TRAIT_NAMES.index("conscientiousness"),
)
_AGREEABLENESS = TRAIT_NAMES.index("agreeableness")
_EMOTIONAL_STABILITY = TRAIT_NAMES.index("emotional_stability")


@dataclass(frozen=True)
class Scores:
    """The four parts and the total, for a block (mentees × mentors) or for pairs."""

    skills: FloatArray
    objectives: FloatArray
    personality: FloatArray
    logistics: FloatArray
    units: IntArray  # total in millionths, 0..SCORE_UNITS


# Above this many (mentee site × mentor site) cells the logistics table would cost more than it
# saves, so logistics is computed per pair instead (same formula, same numbers).
_SITE_TABLE_LIMIT = 1_000_000


class Scorer:
    """Scores pairs of one problem; build it once and score many blocks with it.

    Logistics depends only on a person's "site" (UTC offset and set of languages), and a cohort
    has few of those, so it is computed once per (mentee site, mentor site) and looked up.
    """

    def __init__(self, problem: MatchingProblem) -> None:
        self.problem = problem
        self._wanted_count = problem.mentee_wants.sum(axis=1)
        self._objective_count = problem.mentee_objectives.sum(axis=1)
        mentee_sites = np.column_stack([problem.mentee_utc_offset_hours, problem.mentee_languages])
        mentor_sites = np.column_stack([problem.mentor_utc_offset_hours, problem.mentor_languages])
        self._mentee_site_values, self._mentee_site = _unique_rows(mentee_sites)
        self._mentor_site_values, self._mentor_site = _unique_rows(mentor_sites)
        self._site_table: FloatArray | None = None
        if len(self._mentee_site_values) * len(self._mentor_site_values) <= _SITE_TABLE_LIMIT:
            table_sides = _Sides(
                np.arange(len(self._mentee_site_values), dtype=np.int64),
                np.arange(len(self._mentor_site_values), dtype=np.int64),
                block=True,
            )
            self._site_table = _logistics(
                self._mentee_site_values, self._mentor_site_values, table_sides
            )

    def block(self, mentees: IntArray, mentors: IntArray) -> Scores:
        """Scores of every listed mentee (rows) against every listed mentor (columns)."""
        return self._score(_Sides(mentees, mentors, block=True))

    def pairs(self, mentees: IntArray, mentors: IntArray) -> Scores:
        """Scores of the pairs ``(mentees[p], mentors[p])``."""
        return self._score(_Sides(mentees, mentors, block=False))

    def _score(self, sides: _Sides) -> Scores:
        problem = self.problem
        skills = _share(
            self._wanted_count[sides.mentees],
            sides.overlap(problem.mentee_wants, problem.mentor_levels),
            scale=5.0,
        )
        objectives = _share(
            self._objective_count[sides.mentees],
            sides.overlap(problem.mentee_objectives, problem.mentor_objectives),
            scale=1.0,
        )
        personality = _personality(problem, sides)
        if self._site_table is not None:
            logistics = self._site_table[
                self._mentee_site[sides.mentees], self._mentor_site[sides.mentors]
            ]
        else:
            site_sides = _Sides(
                self._mentee_site[sides.mentee_rows],
                self._mentor_site[sides.mentor_rows],
                block=sides.block,
            )
            logistics = _logistics(self._mentee_site_values, self._mentor_site_values, site_sides)
        weight_skills, weight_objectives, weight_personality, weight_logistics = problem.weights
        total = weight_skills * skills
        total += weight_objectives * objectives
        total += weight_personality * personality
        total += weight_logistics * logistics
        total *= SCORE_UNITS
        units = np.clip(np.rint(total, out=total), 0, SCORE_UNITS).astype(np.int64)
        return Scores(skills, objectives, personality, logistics, units)


def score_block(problem: MatchingProblem, mentees: IntArray, mentors: IntArray) -> Scores:
    """Scores of every listed mentee (rows) against every listed mentor (columns)."""
    return Scorer(problem).block(mentees, mentors)


def score_pairs(problem: MatchingProblem, mentees: IntArray, mentors: IntArray) -> Scores:
    """Scores of the pairs ``(mentees[p], mentors[p])``."""
    return Scorer(problem).pairs(mentees, mentors)


class _Sides:
    """Index arrays shaped to broadcast: mentees down, mentors across (block) or side by side."""

    def __init__(self, mentees: IntArray, mentors: IntArray, *, block: bool) -> None:
        self.mentees = mentees[:, None] if block else mentees
        self.mentors = mentors[None, :] if block else mentors
        self.mentee_rows, self.mentor_rows, self.block = mentees, mentors, block

    def overlap(self, mentee_matrix: FloatArray, mentor_matrix: FloatArray) -> FloatArray:
        """Row-by-row dot products; integer-valued, hence exact whatever the summation order."""
        left, right = mentee_matrix[self.mentee_rows], mentor_matrix[self.mentor_rows]
        if self.block:
            return np.asarray(left @ right.T, dtype=np.float64)
        return np.asarray((left * right).sum(axis=1), dtype=np.float64)


def _unique_rows(values: FloatArray) -> tuple[FloatArray, IntArray]:
    unique, inverse = np.unique(values, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1).astype(np.int64)


def _share(own: FloatArray, shared: FloatArray, *, scale: float) -> FloatArray:
    """``shared / (scale * own)``, or neutral where the mentee has nothing of their own."""
    return np.where(own > 0, shared / np.maximum(scale * own, 1.0), NEUTRAL)


def _personality(problem: MatchingProblem, sides: _Sides) -> FloatArray:
    mentee, mentor = problem.mentee_traits, problem.mentor_traits
    # 0.3 (1 - |dO|) + 0.3 (1 - |dC|) + 0.2 (1 - |dA|) + 0.2 ES, computed in place because
    # blocks are large; the same steps run for pairs, so both give identical numbers.
    fit = np.subtract(mentee[sides.mentees, _OPENNESS], mentor[sides.mentors, _OPENNESS])
    np.abs(fit, out=fit)
    fit *= -0.3
    for trait, weight in ((_CONSCIENTIOUSNESS, 0.3), (_AGREEABLENESS, 0.2)):
        gap = np.subtract(mentee[sides.mentees, trait], mentor[sides.mentors, trait])
        np.abs(gap, out=gap)
        gap *= weight
        fit -= gap
    fit += 0.8
    fit += 0.2 * mentor[sides.mentors, _EMOTIONAL_STABILITY]
    known = problem.mentee_has_traits[sides.mentees] & problem.mentor_has_traits[sides.mentors]
    return np.where(known, fit, NEUTRAL)


def time_zone_distance_hours(mentee_offset: FloatArray, mentor_offset: FloatArray) -> FloatArray:
    """Hours between two UTC offsets, the shorter way round the clock (0..12)."""
    distance = np.abs(mentee_offset - mentor_offset)
    return np.asarray(np.minimum(distance, 24.0 - distance), dtype=np.float64)


def _logistics(mentee_sites: FloatArray, mentor_sites: FloatArray, sides: _Sides) -> FloatArray:
    """Logistics of sites: column 0 is the UTC offset in hours, the rest 0/1 languages."""
    distance = time_zone_distance_hours(
        mentee_sites[sides.mentees, 0], mentor_sites[sides.mentors, 0]
    )
    overlap = np.maximum(WORKING_DAY_HOURS - distance, 0.0) / WORKING_DAY_HOURS
    shared = sides.overlap(mentee_sites[:, 1:], mentor_sites[:, 1:]) > 0
    both_known = (mentee_sites[:, 1:].sum(axis=1)[sides.mentees] > 0) & (
        mentor_sites[:, 1:].sum(axis=1)[sides.mentors] > 0
    )
    language = np.where(both_known, shared.astype(np.float64), NEUTRAL)
    return np.asarray(0.5 * overlap + 0.5 * language, dtype=np.float64)
