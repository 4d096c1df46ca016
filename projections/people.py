"""People: one row per person of the directory, folded with the directory's own `evolve`.

The read model the console and analytics read (who works here, in which department, under
which manager, with which skills and objectives, and the Big Five traits they gave with
their consent: ``openness`` … ``emotional_stability``, 0..1 as a cohort spec's ``traits``,
NULL without consent). The row's personal values (user name, names, email) are the events'
sealed tokens, opened by whoever shows them; forgetting the person erases them. A stream with
no profile (someone forgotten who was never in the directory) has no row.
"""

from __future__ import annotations

from datetime import datetime

from domain.person import PersonState, evolve
from events import DomainEvent
from events.person import BigFiveScores
from projections.base import SingleStateProjection
from projections.dispatch import StateCodec
from projections.tables import Rows, Table

TRAIT_COLUMNS = tuple(BigFiveScores.model_fields)
"""The Big Five columns, named as the fields of a cohort spec's ``traits``."""

PEOPLE = Table(
    "people",
    (
        "stream_id",
        "person_id",
        "active",
        "removed",
        "forgotten",
        "user_name",
        "name",
        "given_name",
        "family_name",
        "email",
        "email_type",
        "external_id",
        "employee_number",
        "department",
        "manager_id",
        "timezone",
        "languages",
        "skills",
        "skill_levels",
        "wants_to_develop",
        "career_objectives",
        "deactivated_at",
        "deactivation_reason",
        "created_at",
        "updated_at",
        "traits_instrument",
        *TRAIT_COLUMNS,
        "traits_consented_at",
        "traits_assessed_at",
    ),
)

_CODEC = StateCodec(PersonState)


class People(SingleStateProjection[PersonState]):
    """The people directory."""

    name = "people"
    description = "Per person: profile, manager, department and whether they are active."
    stream_types = frozenset({"person"})
    tables = (PEOPLE,)

    def __init__(self) -> None:
        super().__init__(PersonState, _CODEC)

    def apply(self, state: PersonState, event: DomainEvent, occurred_at: datetime) -> None:
        """Fold one event."""
        evolve(state, event, occurred_at)

    def rows(self, stream_id: str, state: PersonState) -> Rows:
        """The person's row, once the directory has their profile."""
        profile = state.profile
        if profile is None:
            return {PEOPLE.name: []}
        skills = sorted(profile.skills.items())
        row = (
            stream_id,
            stream_id.removeprefix("person-"),
            state.active,
            state.removed,
            state.forgotten,
            profile.user_name,
            profile.name,
            profile.given_name,
            profile.family_name,
            profile.email,
            profile.email_type,
            profile.external_id,
            profile.employee_number,
            profile.department,
            profile.manager_id,
            profile.timezone,
            list(profile.languages),
            [skill for skill, _ in skills],
            [level for _, level in skills],
            list(profile.wants_to_develop),
            list(profile.career_objectives),
            state.deactivated_at,
            state.deactivation_reason,
            state.created_at,
            state.updated_at,
            state.traits_instrument,
            *_scores(state.traits),
            state.traits_consented_at,
            state.traits_assessed_at,
        )
        return {PEOPLE.name: [row]}


def _scores(traits: BigFiveScores | None) -> tuple[float | None, ...]:
    if traits is None:
        return (None,) * len(TRAIT_COLUMNS)
    return tuple(getattr(traits, name) for name in TRAIT_COLUMNS)
