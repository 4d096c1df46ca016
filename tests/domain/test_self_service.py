"""A person's own changes, as pure rules: which fields are theirs, what is refused, what is
recorded, and how traits fold into the person's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.person import OWN_FIELDS, DesiredPerson, PersonState, changes_towards, evolve
from domain.self_service import (
    OwnProfile,
    own_profile_changes,
    self_service_refusal,
    traits_assessment,
    traits_withdrawal,
)
from events import person as p
from events.person import BigFiveScores, PersonProfile

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
TRAITS = BigFiveScores(
    openness=0.75,
    conscientiousness=0.5,
    extraversion=0.25,
    agreeableness=1.0,
    emotional_stability=0.0,
)
OWN: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "languages": ["en", "de"],
    "skills": {"python": 4, "sql": 2},
    "wants_to_develop": ["public-speaking"],
    "career_objectives": ["engineering-management"],
}


def _known(**profile: Any) -> PersonState:
    state = PersonState()
    values = {"name": "Lin Park", "department": "Data", "timezone": "UTC", **profile}
    event = p.PersonProfiled(person_id="p-1", profile=PersonProfile(**values), source="scim")
    return evolve(state, event, NOW)


def test_the_own_fields_are_the_participants_and_none_of_the_hr_systems() -> None:
    assert set(OWN_FIELDS) == {
        "timezone",
        "languages",
        "skills",
        "wants_to_develop",
        "career_objectives",
    }
    with pytest.raises(ValidationError) as refused:
        OwnProfile.model_validate({**OWN, "name": "Someone Else", "manager_id": "p-9"})
    assert {error["loc"][0] for error in refused.value.errors()} == {"name", "manager_id"}


def test_every_problem_of_an_own_profile_is_named() -> None:
    bad = {
        "timezone": "Mars/Olympus",
        "languages": ["en", "en", "english!"],
        "skills": {"python": 6, "bad\x00skill": 2, "sealed:v2:p-1:abc": 1},
        "wants_to_develop": [f"skill-{index}" for index in range(51)],
        "career_objectives": ["x" * 101],
    }

    with pytest.raises(ValidationError) as refused:
        OwnProfile.model_validate(bad)

    problems = {(error["loc"][0], error["msg"]) for error in refused.value.errors()}
    fields = {field for field, _ in problems}
    assert fields == set(OWN_FIELDS)
    messages = " | ".join(message for _, message in problems)
    assert "unknown IANA time zone 'Mars/Olympus'" in messages
    assert "must be a language code" in messages
    assert "less than or equal to 5" in messages
    assert "control character U+0000" in messages
    assert "looks like a sealed value" in messages
    assert "at most 50 items" in messages
    assert "at most 100 characters" in messages


def test_repeated_languages_are_refused_even_when_each_is_valid() -> None:
    with pytest.raises(ValidationError, match="repeated value"):
        OwnProfile.model_validate({**OWN, "languages": ["en", "en"]})


def test_only_the_changed_own_fields_are_recorded_as_the_persons_own() -> None:
    state = _known(languages=["en"], skills={"python": 4})

    planned = own_profile_changes(state, "p-1", OwnProfile.model_validate(OWN))

    [event] = planned.events
    assert isinstance(event, p.ProfileUpdated)
    assert event.source == "self"
    assert event.changes.model_dump(exclude_none=True) == {
        "timezone": "Europe/Berlin",
        "languages": ["en", "de"],
        "skills": {"python": 4, "sql": 2},
        "wants_to_develop": ["public-speaking"],
        "career_objectives": ["engineering-management"],
    }
    after = evolve(state, event, NOW)
    assert after.profile is not None
    assert (after.profile.name, after.profile.department) == ("Lin Park", "Data")
    assert own_profile_changes(after, "p-1", OwnProfile.model_validate(OWN)).events == []


def test_who_may_change_their_own_data() -> None:
    known = _known()
    left = evolve(
        _known(),
        p.PersonDeactivated(person_id="p-1", deactivated_at=NOW, reason="hris", source="scim"),
        NOW,
    )
    gone = evolve(
        _known(),
        p.PersonForgotten(person_id="p-1", forgotten_at=NOW, requested_by="cli"),
        NOW,
    )

    assert self_service_refusal(known) is None
    assert self_service_refusal(PersonState(person_id="p-1")) == "unknown"
    assert self_service_refusal(left) == "inactive"
    assert self_service_refusal(left, withdrawing=True) is None  # consent: always withdrawable
    assert self_service_refusal(gone) == "forgotten"


def test_traits_are_kept_until_consent_is_withdrawn_and_the_same_scores_record_nothing() -> None:
    state = _known()
    consented = NOW + timedelta(minutes=5)

    [assessed] = traits_assessment(state, "p-1", TRAITS, consented_at=consented).events
    evolve(state, assessed, consented)
    again = traits_assessment(state, "p-1", TRAITS, consented_at=NOW + timedelta(days=1))
    kept = (state.traits, state.traits_instrument, state.traits_consented_at)
    [withdrawn] = traits_withdrawal(state, "p-1", now=NOW + timedelta(days=2)).events
    evolve(state, withdrawn, NOW + timedelta(days=2))

    assert isinstance(assessed, p.TraitsAssessed)
    assert (assessed.instrument, assessed.consented_at) == ("Mini-IPIP", consented)
    assert again.events == []
    assert kept == (TRAITS, "Mini-IPIP", consented)
    assert isinstance(withdrawn, p.TraitsConsentWithdrawn)
    assert (state.traits, state.traits_instrument, state.traits_consented_at) == (None,) * 3
    assert traits_withdrawal(state, "p-1", now=NOW).events == []


def test_forgetting_a_person_drops_their_traits() -> None:
    state = _known()
    evolve(
        state,
        p.TraitsAssessed(person_id="p-1", instrument="Mini-IPIP", traits=TRAITS, consented_at=NOW),
        NOW,
    )

    evolve(state, p.PersonForgotten(person_id="p-1", forgotten_at=NOW, requested_by="cli"), NOW)

    assert (state.traits, state.traits_assessed_at) == (None, None)


def test_an_hr_source_keeps_the_fields_it_does_not_set_as_the_state_holds_them_then() -> None:
    read_before = _known(skills={"python": 3})
    assert read_before.profile is not None
    desired = DesiredPerson(
        read_before.profile.model_copy(update={"department": "Ops"}), kept=OWN_FIELDS
    )
    # The person's own edit lands after the HR source read the profile.
    [edit] = own_profile_changes(read_before, "p-1", OwnProfile.model_validate(OWN)).events
    now = evolve(_known(skills={"python": 3}), edit, NOW)

    [update] = changes_towards(now, "p-1", desired, source="scim", now=NOW).events

    assert isinstance(update, p.ProfileUpdated)
    assert update.changes.model_dump(exclude_none=True) == {"department": "Ops"}
