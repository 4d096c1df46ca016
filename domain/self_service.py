"""What a person changes in the directory themselves: their own profile fields and their traits.

The HR system owns who a person is (names, email, department, manager, employee number); the
person owns what they bring and want (time zone, languages, skills with levels, skills they
want to develop, career objectives). `OwnProfile` is exactly those fields, validated as a
cohort spec validates a participant's (`domain.cohort_spec.ParticipantSpec`), so that
whatever a person saves can be used in a cohort as it is.

The planners return the events that bring a person's state to what they asked for, and none
when it is already so (saving the same form twice records nothing the second time), like
`domain.person.changes_towards` does for HR's sources.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.cohort_spec import LanguageCode, SkillLevel
from domain.person import PersonState, PlannedChanges
from domain.personality import INSTRUMENT
from domain.spec_fields import TimeZoneName
from domain.text import LIST_ITEMS, Label
from events import person as p
from events.person import BigFiveScores, ProfileChanges


def _distinct(values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"repeated value(s): {', '.join(repeated)}")
    return values


Labels = Annotated[list[Label], Field(max_length=LIST_ITEMS), AfterValidator(_distinct)]


class OwnProfile(BaseModel):
    """The fields of a profile that are the person's own (`domain.person.OWN_FIELDS`), all of
    them: a replacement."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: TimeZoneName = Field(description="IANA time zone name, e.g. Europe/Berlin")
    languages: Annotated[
        list[LanguageCode], Field(max_length=LIST_ITEMS), AfterValidator(_distinct)
    ] = Field(description="Language codes (en, de, pt-BR), at most 50")
    skills: Annotated[dict[Label, SkillLevel], Field(max_length=LIST_ITEMS)] = Field(
        description="Skills offered, name to level 0..5, at most 50"
    )
    wants_to_develop: Labels = Field(description="Skills the person wants to develop, at most 50")
    career_objectives: Labels = Field(description="Career objectives, at most 50")


Standing = Literal["unknown", "forgotten", "inactive"]


def self_service_refusal(state: PersonState, *, withdrawing: bool = False) -> Standing | None:
    """Why the person may not change their own data now; None when they may.

    The directory must know them (HR's sources create people, not the people themselves), and
    a deactivated person's data stays as it was, except that consent can always be withdrawn.
    """
    if state.forgotten:
        return "forgotten"
    if state.profile is None:
        return "unknown"
    if not state.active and not withdrawing:
        return "inactive"
    return None


def own_profile_changes(state: PersonState, person_id: str, edit: OwnProfile) -> PlannedChanges:
    """A `ProfileUpdated` (source ``self``) with the own fields that differ; none when equal.

    Raises:
        ValueError: The directory has no profile of the person (see `self_service_refusal`).
    """
    if state.profile is None:
        raise ValueError(f"the directory has no profile of {person_id}")
    current = state.profile
    changed = {
        name: value for name, value in edit.model_dump().items() if getattr(current, name) != value
    }
    if not changed:
        return PlannedChanges()
    update = p.ProfileUpdated(person_id=person_id, changes=ProfileChanges(**changed), source="self")
    return PlannedChanges([update])


def traits_assessment(
    state: PersonState, person_id: str, traits: BigFiveScores, *, consented_at: datetime
) -> PlannedChanges:
    """A `TraitsAssessed` with the new scores; none when the kept ones are the same.

    The same scores again keep the consent they were given with.
    """
    if state.traits == traits and state.traits_instrument == INSTRUMENT:
        return PlannedChanges()
    assessed = p.TraitsAssessed(
        person_id=person_id, instrument=INSTRUMENT, traits=traits, consented_at=consented_at
    )
    return PlannedChanges([assessed])


def traits_withdrawal(state: PersonState, person_id: str, *, now: datetime) -> PlannedChanges:
    """A `TraitsConsentWithdrawn` when traits are kept; none when there are none."""
    if state.traits is None:
        return PlannedChanges()
    return PlannedChanges([p.TraitsConsentWithdrawn(person_id=person_id, withdrawn_at=now)])
