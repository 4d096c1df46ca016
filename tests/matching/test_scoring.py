"""Compatibility scores and the plain-word reasons that explain them."""

from __future__ import annotations

import numpy as np
import pytest

from matching.problem import MatchingProblem
from matching.reasons import FALLBACK_REASON, pair_reasons
from matching.scoring import NEUTRAL, Scores, score_block, score_pairs
from tests.matching import cohort, person

TRAITS = {
    "openness": 0.7,
    "conscientiousness": 0.8,
    "extraversion": 0.4,
    "agreeableness": 0.6,
    "emotional_stability": 0.9,
}


def scores_of(mentor: dict[str, object], mentee: dict[str, object], **program: object) -> Scores:
    problem = MatchingProblem.from_spec(cohort(mentor, mentee, **program))
    return score_pairs(problem, np.array([0]), np.array([0]))


def test_skill_coverage_is_the_mean_mentor_level_over_wanted_skills() -> None:
    mentor = person("m", "mentor", skills={"python": 5, "sql": 3})
    mentee = person("e", wants_to_develop=["python", "sql", "go", "leadership"])

    scores = scores_of(mentor, mentee)

    assert scores.skills[0] == pytest.approx((5 + 3 + 0 + 0) / (5 * 4))


def test_objective_alignment_is_the_share_of_the_mentees_tracks_the_mentor_shares() -> None:
    mentor = person("m", "mentor", career_objectives=["architecture", "engineering-management"])
    mentee = person("e", career_objectives=["engineering-management", "data-science"])

    assert scores_of(mentor, mentee).objectives[0] == pytest.approx(0.5)


def test_missing_data_counts_as_neutral_not_as_a_penalty() -> None:
    scores = scores_of(person("m", "mentor", languages=[]), person("e"))

    assert scores.skills[0] == NEUTRAL
    assert scores.objectives[0] == NEUTRAL
    assert scores.personality[0] == NEUTRAL
    # Same time zone (full working-day overlap) and unknown languages (neutral).
    assert scores.logistics[0] == pytest.approx(0.5 * 1.0 + 0.5 * NEUTRAL)


def test_personality_fit_follows_the_documented_formula() -> None:
    mentee_traits = {**TRAITS, "openness": 0.3, "conscientiousness": 0.6, "agreeableness": 0.9}
    scores = scores_of(person("m", "mentor", traits=TRAITS), person("e", traits=mentee_traits))

    expected = 0.3 * (1 - 0.4) + 0.3 * (1 - 0.2) + 0.2 * (1 - 0.3) + 0.2 * 0.9
    assert scores.personality[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mentor_zone", "starts_at", "hours"),
    [
        ("Europe/Berlin", "2027-01-11T09:00:00+00:00", 1.0),  # CET in January
        ("Europe/Berlin", "2027-07-05T09:00:00+00:00", 2.0),  # CEST in July
        ("Asia/Kolkata", "2027-01-11T09:00:00+00:00", 5.5),
        ("Pacific/Auckland", "2027-01-11T09:00:00+00:00", 11.0),  # the short way round
    ],
)
def test_time_zone_distance_is_taken_at_the_programs_start(
    mentor_zone: str, starts_at: str, hours: float
) -> None:
    mentor = person("m", "mentor", timezone=mentor_zone, languages=["fr"])
    mentee = person("e", languages=["de"])

    scores = scores_of(mentor, mentee, starts_at=starts_at)

    overlap = max(0.0, 8.0 - hours) / 8.0
    assert scores.logistics[0] == pytest.approx(0.5 * overlap + 0.5 * 0.0)


def test_languages_compare_on_their_primary_subtag() -> None:
    scores = scores_of(person("m", "mentor", languages=["en-GB"]), person("e", languages=["en_US"]))

    assert scores.logistics[0] == pytest.approx(1.0)


def test_total_is_the_weighted_mean_in_millionths() -> None:
    mentor = person("m", "mentor", skills={"python": 4})
    mentee = person("e", wants_to_develop=["python"])
    weights = {"skills": 2, "objectives": 0, "personality": 0, "logistics": 2}

    scores = scores_of(mentor, mentee, weights=weights)

    assert scores.units[0] == round((0.8 * 2 + 1.0 * 2) / 4 * 1_000_000)


def test_block_and_pair_scores_are_identical() -> None:
    mentors = [
        person(f"m{n}", "mentor", skills={"python": n % 6, "go": (n * 2) % 6}, traits=TRAITS)
        for n in range(5)
    ]
    mentees = [
        person(
            f"e{n}",
            wants_to_develop=["python", "go"][: n % 2 + 1],
            timezone=["UTC", "Asia/Kolkata", "America/New_York"][n % 3],
            traits={**TRAITS, "openness": n / 10},
        )
        for n in range(7)
    ]
    problem = MatchingProblem.from_spec(cohort(*mentors, *mentees))
    every_mentee, every_mentor = np.arange(7), np.arange(5)

    block = score_block(problem, every_mentee, every_mentor)
    rows, columns = np.meshgrid(every_mentee, every_mentor, indexing="ij")
    pairs = score_pairs(problem, rows.ravel(), columns.ravel())

    assert np.array_equal(block.units.ravel(), pairs.units)
    assert np.array_equal(block.personality.ravel(), pairs.personality)


def reasons_for(mentor: dict[str, object], mentee: dict[str, object]) -> list[str]:
    problem = MatchingProblem.from_spec(cohort(mentor, mentee))
    scores = score_pairs(problem, np.array([0]), np.array([0]))
    return pair_reasons(problem, 0, 0, scores, 0)


def test_reasons_name_covered_skills_tracks_and_languages_in_plain_words() -> None:
    mentor = person(
        "m",
        "mentor",
        skills={"python": 5, "sql": 5, "leadership": 5, "go": 1},
        career_objectives=["engineering-management"],
        languages=["de", "fr"],
        timezone="Europe/Berlin",
    )
    mentee = person(
        "e",
        wants_to_develop=["python", "sql", "leadership", "go"],
        career_objectives=["engineering-management"],
        languages=["de"],
        timezone="Europe/Lisbon",
    )

    reasons = reasons_for(mentor, mentee)

    assert reasons == [
        "covers 3 of 4 wanted skills (python, sql, leadership)",
        "same career track: engineering management",
        "shared language: German",
    ]


def test_time_zone_difference_is_a_reason_when_it_ranks_high_enough() -> None:
    mentor = person("m", "mentor", timezone="America/New_York", languages=["en"])
    mentee = person("e", timezone="America/Los_Angeles", languages=["es"])

    assert reasons_for(mentor, mentee) == ["3 h time-zone difference"]


def test_a_pair_with_nothing_in_common_gets_the_fallback_reason() -> None:
    mentor = person("m", "mentor", timezone="Asia/Tokyo", languages=["ja"])
    mentee = person("e", timezone="America/Chicago", languages=["es"])

    assert reasons_for(mentor, mentee) == [FALLBACK_REASON]
