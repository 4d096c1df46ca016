"""BFI-10 scoring (Rammstedt & John, 2007): the published key, and known answers to known traits."""

from __future__ import annotations

import pytest

from domain.personality import (
    ITEMS,
    SCALE,
    AnswersInvalid,
    answer_problems,
    scale_means,
    score,
)
from events.person import BigFiveScores


def test_the_items_follow_the_published_key() -> None:
    reversed_items = {item.number for item in ITEMS if item.reversed}
    scales = {
        scale: [item.number for item in ITEMS if item.scale == scale]
        for scale in (
            "extraversion",
            "agreeableness",
            "conscientiousness",
            "neuroticism",
            "openness",
        )
    }

    assert [item.number for item in ITEMS] == list(range(1, 11))
    assert reversed_items == {1, 3, 4, 5, 7}
    assert scales == {
        "extraversion": [1, 6],
        "agreeableness": [2, 7],
        "conscientiousness": [3, 8],
        "neuroticism": [4, 9],
        "openness": [5, 10],
    }
    assert [value for value, _ in SCALE] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param([3] * 10, (0.5, 0.5, 0.5, 0.5, 0.5), id="all neutral"),
        # Every scale has one reversed item: agreeing with everything cancels out.
        pytest.param([5] * 10, (0.5, 0.5, 0.5, 0.5, 0.5), id="agreeing with everything"),
        pytest.param(
            [1, 5, 1, 1, 1, 5, 1, 5, 5, 5], (1.0, 1.0, 1.0, 1.0, 0.0), id="highest, most nervous"
        ),
        pytest.param(
            [5, 1, 5, 5, 5, 1, 5, 1, 1, 1], (0.0, 0.0, 0.0, 0.0, 1.0), id="lowest, calmest"
        ),
        pytest.param([4, 2, 2, 2, 3, 2, 4, 4, 4, 5], (0.75, 0.75, 0.25, 0.25, 0.25), id="mixed"),
        pytest.param(
            [1, 3, 2, 4, 2, 4, 5, 3, 2, 4], (0.75, 0.625, 0.875, 0.25, 0.75), id="half points"
        ),
    ],
)
def test_known_answers_give_known_traits(
    answers: list[int], expected: tuple[float, float, float, float, float]
) -> None:
    openness, conscientiousness, extraversion, agreeableness, stability = expected

    assert score(answers) == BigFiveScores(
        openness=openness,
        conscientiousness=conscientiousness,
        extraversion=extraversion,
        agreeableness=agreeableness,
        emotional_stability=stability,
    )


def test_the_scale_means_reverse_the_reversed_items_only() -> None:
    # Item 1 (reserved, R) 2 -> 4 and item 6 (outgoing) 4: extraversion 4; item 4 (relaxed, R)
    # 5 -> 1 and item 9 (nervous) 1: neuroticism 1.
    means = scale_means([2, 4, 3, 5, 1, 4, 2, 5, 1, 3])

    assert means == {
        "extraversion": 4.0,
        "agreeableness": 4.0,
        "conscientiousness": 4.0,
        "neuroticism": 1.0,
        "openness": 4.0,
    }
    assert score([2, 4, 3, 5, 1, 4, 2, 5, 1, 3]).emotional_stability == 1.0


def test_answers_that_cannot_be_scored_name_every_problem() -> None:
    assert answer_problems([3] * 9) == ["answers: give 10 answers, one per item (got 9)"]
    assert answer_problems([0, 6, True, "3", 3, 3, 3, 3, 3, 3]) == [
        "answers[0]: 0 is not within 1..5",
        "answers[1]: 6 is not within 1..5",
        "answers[2]: must be a whole number from 1 to 5",
        "answers[3]: must be a whole number from 1 to 5",
    ]
    with pytest.raises(AnswersInvalid) as refused:
        score([3] * 11)
    assert refused.value.problems == ["answers: give 10 answers, one per item (got 11)"]
