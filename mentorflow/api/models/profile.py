"""A person's directory profile and traits as they read and change them themselves:
``/people/{id}/profile`` and ``/people/{id}/traits``."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from domain.personality import CITATION, HIGHEST, INSTRUMENT, ITEMS, LOWEST, SCALE
from events.person import BigFiveScores


class OwnProfileView(BaseModel):
    """The fields that are the person's own (what ``PUT`` replaces), as stored.

    An HR import may have set them before the person did, so they may hold values a ``PUT``
    would refuse (an empty time zone, say).
    """

    timezone: str = Field(description="IANA time zone name; empty: not given")
    languages: list[str]
    skills: dict[str, int] = Field(description="Skill name to level 0..5")
    wants_to_develop: list[str]
    career_objectives: list[str]


class HrSystemProfileView(BaseModel):
    """What the HR system says of the person (SCIM or a CSV import): read-only here."""

    name: str
    email: str
    department: str
    manager_id: str | None
    employee_number: str


class ProfileView(BaseModel):
    """A person's directory profile: their own fields, and the HR system's."""

    person_id: str
    active: bool = Field(description="False once the HR system deactivated them")
    own: OwnProfileView
    hr_system: HrSystemProfileView


class TraitsView(BaseModel):
    """The Big Five the person gave with their consent; null when none are kept."""

    person_id: str
    traits: BigFiveScores | None = Field(
        description="Each 0..1 as a cohort spec's traits; null: never given, or withdrawn"
    )
    instrument: str | None = Field(description=f"The questionnaire ({INSTRUMENT})")
    consented_at: AwareDatetime | None
    assessed_at: AwareDatetime | None


_ITEM_LIST = " ".join(f"{item.number}. {item.text}" for item in ITEMS)
_SCALE_LIST = ", ".join(f"{value} {label.lower()}" for value, label in SCALE)


class TraitsAssessmentRequest(BaseModel):
    """The person's answers to the Mini-IPIP, and their consent to keep the scores.

    The answers and the consent are checked by the questionnaire's own rules
    (`domain.personality.answer_problems`), so that a refusal names every problem at once
    (a count and an answer off the scale, say); the schema documents the same.
    """

    model_config = ConfigDict(extra="forbid")

    consent: StrictBool = Field(
        default=False,
        description=(
            "Must be true: the person agrees that their answers are scored into Big Five "
            "traits, which are kept (the answers are not) and used to match them, until they "
            "withdraw (DELETE)"
        ),
    )
    answers: list[Any] = Field(
        description=(
            f"The {len(ITEMS)} answers in the items' order, each {LOWEST}..{HIGHEST} "
            f"({_SCALE_LIST}), how accurately each statement describes the person: "
            f"{_ITEM_LIST} Items from the International Personality Item Pool, in the public "
            f"domain. {CITATION}"
        ),
        json_schema_extra={
            "items": {"type": "integer", "minimum": LOWEST, "maximum": HIGHEST},
            "minItems": len(ITEMS),
            "maxItems": len(ITEMS),
        },
    )
