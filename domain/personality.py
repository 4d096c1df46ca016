"""The Mini-IPIP personality questionnaire and its scoring into the traits the matching uses.

Source: Donnellan, M. B., Oswald, F. L., Baird, B. M., & Lucas, R. E. (2006). The Mini-IPIP
scales: Tiny-yet-effective measures of the Big Five factors of personality. *Psychological
Assessment*, 18(2), 192–203. https://doi.org/10.1037/1040-3590.18.2.192 — twenty items from
the International Personality Item Pool (IPIP, https://ipip.ori.org), four per Big Five
scale, each answered on the IPIP's five-point accuracy scale.

Scoring follows the published key: the items marked R are reversed (6 minus the answer) and
each scale is the mean of its four items — extraversion 1, 6R, 11, 16R; agreeableness 2, 7R,
12, 17R; conscientiousness 3, 8R, 13, 18R; neuroticism 4, 9R, 14, 19R; intellect/imagination
5, 10R, 15R, 20R. Intellect/imagination is the matching's openness. A scale mean (1 to 5) is
then mapped linearly onto the matching's 0..1 (`domain.cohort_spec.TraitScore`):
``(mean - 1) / 4``. Emotional stability, which the matching uses, is the reverse of
neuroticism: ``(5 - neuroticism mean) / 4``.

The instruction keeps the IPIP's "describe yourself as you generally are now" and leaves out
its comparison with "people you know of the same sex as you are, and roughly your same age":
the scores are not compared with norms here, only between participants.

Licence: IPIP items are in the public domain (https://ipip.ori.org); they may be used,
reordered and reworded for any purpose, commercial ones included, without permission. Four
items per scale still give a rough picture, not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from events.person import BigFiveScores

INSTRUMENT: Literal["Mini-IPIP"] = "Mini-IPIP"
CITATION = (
    "Donnellan, M. B., Oswald, F. L., Baird, B. M., & Lucas, R. E. (2006). The Mini-IPIP "
    "scales: Tiny-yet-effective measures of the Big Five factors of personality. "
    "Psychological Assessment, 18(2), 192-203. doi:10.1037/1040-3590.18.2.192"
)
INSTRUCTION = (
    "How accurately does each statement describe you? Describe yourself as you generally "
    "are now, not as you wish to be in the future, and as you honestly see yourself."
)
SCALE: tuple[tuple[int, str], ...] = (
    (1, "Very inaccurate"),
    (2, "Moderately inaccurate"),
    (3, "Neither accurate nor inaccurate"),
    (4, "Moderately accurate"),
    (5, "Very accurate"),
)
"""The answers, from 1 to 5, as the questionnaire words them."""
LOWEST, HIGHEST = SCALE[0][0], SCALE[-1][0]

Scale = Literal["extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness"]
"""The Big Five scales; ``openness`` is the Mini-IPIP's intellect/imagination."""


@dataclass(frozen=True, slots=True)
class Item:
    """One statement of the questionnaire.

    Attributes:
        number: Its place in the questionnaire, 1 to 20.
        text: The statement, as the person would say it of themselves.
        scale: The Big Five scale it measures.
        reversed: Whether agreeing with it means a lower score (R in the key).
    """

    number: int
    text: str
    scale: Scale
    reversed: bool


ITEMS: tuple[Item, ...] = (
    Item(1, "Am the life of the party.", "extraversion", reversed=False),
    Item(2, "Sympathize with others' feelings.", "agreeableness", reversed=False),
    Item(3, "Get chores done right away.", "conscientiousness", reversed=False),
    Item(4, "Have frequent mood swings.", "neuroticism", reversed=False),
    Item(5, "Have a vivid imagination.", "openness", reversed=False),
    Item(6, "Don't talk a lot.", "extraversion", reversed=True),
    Item(7, "Am not interested in other people's problems.", "agreeableness", reversed=True),
    Item(
        8,
        "Often forget to put things back in their proper place.",
        "conscientiousness",
        reversed=True,
    ),
    Item(9, "Am relaxed most of the time.", "neuroticism", reversed=True),
    Item(10, "Am not interested in abstract ideas.", "openness", reversed=True),
    Item(11, "Talk to a lot of different people at parties.", "extraversion", reversed=False),
    Item(12, "Feel others' emotions.", "agreeableness", reversed=False),
    Item(13, "Like order.", "conscientiousness", reversed=False),
    Item(14, "Get upset easily.", "neuroticism", reversed=False),
    Item(15, "Have difficulty understanding abstract ideas.", "openness", reversed=True),
    Item(16, "Keep in the background.", "extraversion", reversed=True),
    Item(17, "Am not really interested in others.", "agreeableness", reversed=True),
    Item(18, "Make a mess of things.", "conscientiousness", reversed=True),
    Item(19, "Seldom feel blue.", "neuroticism", reversed=True),
    Item(20, "Do not have a good imagination.", "openness", reversed=True),
)
"""The twenty items in the order they are asked."""


class AnswersInvalid(ValueError):
    """Answers that cannot be scored; ``problems`` names every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def answer_problems(answers: Sequence[object]) -> list[str]:
    """Every reason ``answers`` cannot be scored (empty: they can).

    There must be one answer per item, in the items' order, each a whole number from 1 to 5.
    """
    problems: list[str] = []
    if len(answers) != len(ITEMS):
        problems.append(f"answers: give {len(ITEMS)} answers, one per item (got {len(answers)})")
    for index, answer in enumerate(answers[: len(ITEMS)]):
        # bool is an int in Python; an answer of True is not a point on the scale.
        if isinstance(answer, bool) or not isinstance(answer, int):
            problems.append(f"answers[{index}]: must be a whole number from {LOWEST} to {HIGHEST}")
        elif not LOWEST <= answer <= HIGHEST:
            problems.append(f"answers[{index}]: {answer} is not within {LOWEST}..{HIGHEST}")
    return problems


def scale_means(answers: Sequence[int]) -> dict[Scale, float]:
    """Each scale's mean (1 to 5), reversed items reversed.

    Raises:
        AnswersInvalid: The answers cannot be scored (every problem named).
    """
    problems = answer_problems(answers)
    if problems:
        raise AnswersInvalid(problems)
    points: dict[Scale, list[int]] = {}
    for item, answer in zip(ITEMS, answers, strict=True):
        value = LOWEST + HIGHEST - answer if item.reversed else answer
        points.setdefault(item.scale, []).append(value)
    return {scale: sum(values) / len(values) for scale, values in points.items()}


def score(answers: Sequence[int]) -> BigFiveScores:
    """The traits the matching uses, from the twenty answers.

    Raises:
        AnswersInvalid: The answers cannot be scored (every problem named).
    """
    means = scale_means(answers)
    span = HIGHEST - LOWEST
    return BigFiveScores(
        openness=(means["openness"] - LOWEST) / span,
        conscientiousness=(means["conscientiousness"] - LOWEST) / span,
        extraversion=(means["extraversion"] - LOWEST) / span,
        agreeableness=(means["agreeableness"] - LOWEST) / span,
        emotional_stability=(HIGHEST - means["neuroticism"]) / span,
    )
