"""Mini-IPIP scoring (Donnellan, Oswald, Baird & Lucas, 2006): the published key, and known
answers to known traits."""

from __future__ import annotations

import pytest

from domain.personality import (
    INSTRUMENT,
    ITEMS,
    SCALE,
    AnswersInvalid,
    Item,
    answer_problems,
    scale_means,
    score,
)
from events.person import BigFiveScores

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "emotional_stability")
# The trait each scale feeds, and the direction: neuroticism lowers emotional stability.
TRAIT_OF_SCALE: dict[str, tuple[str, int]] = {
    "extraversion": ("extraversion", 1),
    "agreeableness": ("agreeableness", 1),
    "conscientiousness": ("conscientiousness", 1),
    "neuroticism": ("emotional_stability", -1),
    "openness": ("openness", 1),
}


def _traits(*values: float) -> BigFiveScores:
    """Traits in the order of `TRAITS`: openness, conscientiousness, extraversion,
    agreeableness, emotional stability."""
    return BigFiveScores.model_validate(dict(zip(TRAITS, values, strict=True)))


def test_the_items_follow_the_published_key() -> None:
    reversed_items = {item.number for item in ITEMS if item.reversed}
    scales = {
        scale: [item.number for item in ITEMS if item.scale == scale] for scale in TRAIT_OF_SCALE
    }

    assert INSTRUMENT == "Mini-IPIP"
    assert [item.number for item in ITEMS] == list(range(1, 21))
    assert reversed_items == {6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20}
    assert scales == {
        "extraversion": [1, 6, 11, 16],
        "agreeableness": [2, 7, 12, 17],
        "conscientiousness": [3, 8, 13, 18],
        "neuroticism": [4, 9, 14, 19],
        "openness": [5, 10, 15, 20],
    }
    assert [value for value, _ in SCALE] == [1, 2, 3, 4, 5]
    assert (SCALE[0][1], SCALE[-1][1]) == ("Very inaccurate", "Very accurate")
    assert (ITEMS[0].text, ITEMS[-1].text) == (
        "Am the life of the party.",
        "Do not have a good imagination.",
    )


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param([3] * 20, _traits(0.5, 0.5, 0.5, 0.5, 0.5), id="all neutral"),
        # Four scales have two reversed items of four, so agreeing with everything cancels
        # out; intellect/imagination has three, so it scores low.
        pytest.param([5] * 20, _traits(0.25, 0.5, 0.5, 0.5, 0.5), id="agreeing with everything"),
        pytest.param([1] * 20, _traits(0.75, 0.5, 0.5, 0.5, 0.5), id="disagreeing with all"),
        # Every reversed item is answered 1 and every other 5 (neuroticism the other way
        # round): each scale is at its end only if exactly the reversed items are reversed.
        pytest.param(
            [5, 5, 5, 1, 5, 1, 1, 1, 5, 1, 5, 5, 5, 1, 1, 1, 1, 1, 5, 1],
            _traits(1.0, 1.0, 1.0, 1.0, 1.0),
            id="highest, calmest",
        ),
        pytest.param(
            [1, 1, 1, 5, 1, 5, 5, 5, 1, 5, 1, 1, 1, 5, 5, 5, 5, 5, 1, 5],
            _traits(0.0, 0.0, 0.0, 0.0, 0.0),
            id="lowest, moodiest",
        ),
        # Extraversion 4, 2R->4, 3, 1R->5: mean 4; agreeableness 2, 4R->2, 1, 5R->1: 1.5;
        # conscientiousness 5, 3R->3, 3, 2R->4: 3.75; neuroticism 2, 4R->2, 3, 2R->4: 2.75;
        # intellect 5, 1R->5, 2R->4, 3R->3: 4.25.
        pytest.param(
            [4, 2, 5, 2, 5, 2, 4, 3, 4, 1, 3, 1, 3, 3, 2, 1, 5, 2, 2, 3],
            _traits(0.8125, 0.6875, 0.75, 0.125, 0.5625),
            id="mixed, quarter points",
        ),
        # The answers the service, API and console tests use.
        pytest.param(
            [5, 2, 4, 2, 5, 1, 4, 3, 4, 2, 4, 1, 5, 1, 1, 2, 3, 4, 3, 4],
            _traits(0.75, 0.625, 0.875, 0.25, 0.75),
            id="the other tests' answers",
        ),
    ],
)
def test_known_answers_give_known_traits(answers: list[int], expected: BigFiveScores) -> None:
    assert score(answers) == expected


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: f"item {item.number}")
def test_each_item_moves_its_own_trait_only_and_reversed_items_the_other_way(item: Item) -> None:
    answers = [3] * 20
    answers[item.number - 1] = 5
    trait, direction = TRAIT_OF_SCALE[item.scale]
    if item.reversed:
        direction = -direction

    traits = score(answers).model_dump()

    # One item of four two points up: the scale mean half a point, the trait 1/8.
    assert traits == {name: 0.5 + (direction / 8 if name == trait else 0) for name in TRAITS}


def test_the_scale_means_reverse_the_reversed_items_only() -> None:
    # Items 6 and 16 (reversed) answered 2 and 1 count as 4 and 5; items 1 and 11 as given.
    answers = [3] * 20
    answers[0], answers[5], answers[10], answers[15] = 4, 2, 3, 1

    assert scale_means(answers) == {
        "extraversion": 4.0,
        "agreeableness": 3.0,
        "conscientiousness": 3.0,
        "neuroticism": 3.0,
        "openness": 3.0,
    }


def test_answers_that_cannot_be_scored_name_every_problem() -> None:
    assert answer_problems([3] * 19) == ["answers: give 20 answers, one per item (got 19)"]
    assert answer_problems([0, 6, True, "3", *[3] * 15, 3.5]) == [
        "answers[0]: 0 is not within 1..5",
        "answers[1]: 6 is not within 1..5",
        "answers[2]: must be a whole number from 1 to 5",
        "answers[3]: must be a whole number from 1 to 5",
        "answers[19]: must be a whole number from 1 to 5",
    ]
    with pytest.raises(AnswersInvalid) as refused:
        score([3] * 21)
    assert refused.value.problems == ["answers: give 20 answers, one per item (got 21)"]
    # The old ten-item answer sets are refused, not scored as something else.
    with pytest.raises(AnswersInvalid, match="give 20 answers"):
        score([3] * 10)
