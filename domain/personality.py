"""The BFI-10 personality questionnaire and its scoring into the traits the matching uses.

Source: Rammstedt, B., & John, O. P. (2007). Measuring personality in one minute or less: A
10-item short version of the Big Five Inventory in English and German. *Journal of Research
in Personality*, 41(1), 203–212. https://doi.org/10.1016/j.jrp.2006.02.001 — the English
version of its appendix: the instruction, the ten items and the scoring key below.

Scoring follows the published key: each scale is the mean of its two items, after the items
marked R are reversed (6 minus the answer) — extraversion 1R, 6; agreeableness 2, 7R;
conscientiousness 3R, 8; neuroticism 4R, 9; openness 5R, 10. A scale mean (1 to 5) is then
mapped linearly onto the matching's 0..1 (`domain.cohort_spec.TraitScore`): ``(mean - 1) /
4``. Emotional stability, which the matching uses, is the reverse of neuroticism:
``(5 - neuroticism mean) / 4``.

Licence: GESIS, which publishes the BFI-10, describes it as an open-access instrument free to
use without permission for non-commercial research, not for commercial purposes, and not
meant for diagnosing individuals (two items per scale are too few for that). It is not in
the public domain. See the README ("Personality traits") before using it in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from events.person import BigFiveScores

INSTRUMENT: Literal["BFI-10"] = "BFI-10"
CITATION = (
    "Rammstedt, B., & John, O. P. (2007). Measuring personality in one minute or less: "
    "A 10-item short version of the Big Five Inventory in English and German. "
    "Journal of Research in Personality, 41(1), 203-212. doi:10.1016/j.jrp.2006.02.001"
)
INSTRUCTION = "How well do the following statements describe your personality?"
STEM = "I see myself as someone who …"
SCALE: tuple[tuple[int, str], ...] = (
    (1, "Disagree strongly"),
    (2, "Disagree a little"),
    (3, "Neither agree nor disagree"),
    (4, "Agree a little"),
    (5, "Agree strongly"),
)
"""The answers, from 1 to 5, as the questionnaire words them."""
LOWEST, HIGHEST = SCALE[0][0], SCALE[-1][0]

Scale = Literal["extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness"]


@dataclass(frozen=True, slots=True)
class Item:
    """One statement of the questionnaire.

    Attributes:
        number: Its place in the questionnaire, 1 to 10.
        text: The statement, completing `STEM`.
        scale: The Big Five scale it measures.
        reversed: Whether agreeing with it means a lower score (R in the key).
    """

    number: int
    text: str
    scale: Scale
    reversed: bool


ITEMS: tuple[Item, ...] = (
    Item(1, "is reserved", "extraversion", reversed=True),
    Item(2, "is generally trusting", "agreeableness", reversed=False),
    Item(3, "tends to be lazy", "conscientiousness", reversed=True),
    Item(4, "is relaxed, handles stress well", "neuroticism", reversed=True),
    Item(5, "has few artistic interests", "openness", reversed=True),
    Item(6, "is outgoing, sociable", "extraversion", reversed=False),
    Item(7, "tends to find fault with others", "agreeableness", reversed=True),
    Item(8, "does a thorough job", "conscientiousness", reversed=False),
    Item(9, "gets nervous easily", "neuroticism", reversed=False),
    Item(10, "has an active imagination", "openness", reversed=False),
)
"""The ten items in the order they are asked."""


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
    """The traits the matching uses, from the ten answers.

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
