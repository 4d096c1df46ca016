"""Cohort-spec participants that reference directory people: resolution and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.cohort_references import (
    COHORT_FIELDS,
    DIRECTORY_FIELDS,
    ParticipantReference,
    managers_to_read,
    parse_referencing_spec,
    referenced_people,
)
from domain.cohort_spec import CohortSpecInvalid, ParticipantSpec, Traits, parse_cohort_spec
from domain.person import PersonState
from events.person import BigFiveScores, PersonProfile

NOW = datetime(2027, 1, 4, tzinfo=UTC)


def person(
    person_id: str, *, active: bool = True, removed: bool = False, **fields: Any
) -> PersonState:
    values: dict[str, Any] = {
        "name": f"Person {person_id}",
        "email": f"{person_id}@example.com",
        "department": "Data",
        "timezone": "Europe/Berlin",
        "languages": ["en"],
        "skills": {"python": 4},
        "wants_to_develop": ["leadership"],
        "career_objectives": ["architecture"],
    }
    return PersonState(
        person_id=person_id,
        profile=PersonProfile.model_validate({**values, **fields}),
        active=active,
        removed=removed,
    )


def forgotten(person_id: str) -> PersonState:
    return PersonState(person_id=person_id, profile=PersonProfile(), forgotten=True)


def document(*participants: dict[str, Any]) -> dict[str, Any]:
    return {
        "cohort_id": "ref-2027",
        "program": {
            "name": "Referenced",
            "starts_at": "2027-01-11T09:00:00+00:00",
            "ends_at": "2027-12-17T17:00:00+00:00",
        },
        "participants": list(participants),
    }


def inline(participant_id: str, roles: list[str], seniority: int) -> dict[str, Any]:
    return {
        "id": participant_id,
        "name": f"Inline {participant_id}",
        "roles": roles,
        "seniority": seniority,
        "timezone": "UTC",
    }


def reference(person_id: str, roles: list[str], seniority: int, **own: Any) -> dict[str, Any]:
    return {"person_id": person_id, "roles": roles, "seniority": seniority, **own}


def problems_of(spec: dict[str, Any], people: dict[str, PersonState]) -> list[str]:
    with pytest.raises(CohortSpecInvalid) as caught:
        parse_referencing_spec(spec, people)
    return caught.value.problems


def test_a_reference_becomes_the_participant_the_directory_describes() -> None:
    people = {
        "p-1": person("p-1", department="Platform", languages=["en", "de"]),
        "p-2": person("p-2", timezone="Asia/Tokyo", manager_id="p-1", email=""),
    }
    spec = parse_referencing_spec(
        document(
            reference("p-1", ["mentor"], 8, mentor_capacity=3),
            reference("p-2", ["mentee"], 3, avoid=["p-9"]),
            inline("p-9", ["mentor"], 9),
        ),
        people,
    )

    mentor, mentee, _ = spec.participants
    assert mentor == ParticipantSpec(
        id="p-1",
        name="Person p-1",
        email="p-1@example.com",
        roles=["mentor"],
        department="Platform",
        seniority=8,
        timezone="Europe/Berlin",
        languages=["en", "de"],
        skills={"python": 4},
        wants_to_develop=["leadership"],
        career_objectives=["architecture"],
        mentor_capacity=3,
    )
    assert (mentee.timezone, mentee.manager_id, mentee.email, mentee.avoid) == (
        "Asia/Tokyo",
        "p-1",
        None,
        ["p-9"],
    )


def test_the_manager_is_the_nearest_one_up_the_line_who_is_in_the_cohort() -> None:
    people = {
        "lead": person("lead", manager_id="director"),
        "director": person("director", manager_id="vp"),
        "mentee": person("mentee", manager_id="lead"),
        "loner": person("loner", manager_id="director"),
    }
    spec_document = document(
        reference("mentee", ["mentee"], 2),
        reference("loner", ["mentee"], 2),
        inline("vp", ["mentor"], 9),
    )

    assert managers_to_read(spec_document, {k: people[k] for k in ("mentee", "loner")}) == {
        "lead",
        "director",
    }
    assert managers_to_read(spec_document, people) == set()
    spec = parse_referencing_spec(spec_document, people)

    assert [p.manager_id for p in spec.participants] == ["vp", "vp", None]


def test_a_reporting_line_through_unknown_people_or_a_cycle_ends_without_a_manager() -> None:
    people = {
        "a": person("a", manager_id="b"),
        "b": person("b", manager_id="a"),
        "c": person("c", manager_id="nobody"),
        "nobody": PersonState(person_id="nobody"),
    }
    spec = parse_referencing_spec(
        document(
            reference("a", ["mentee"], 2),
            reference("c", ["mentee"], 2),
            inline("m", ["mentor"], 9),
        ),
        people,
    )

    assert [p.manager_id for p in spec.participants] == [None, None, None]


def test_unknown_deactivated_removed_and_forgotten_people_are_all_named() -> None:
    people = {
        "ok": person("ok"),
        "gone": person("gone", active=False),
        "deleted": person("deleted", active=False, removed=True),
        "shredded": forgotten("shredded"),
    }
    spec = document(
        reference("ok", ["mentor"], 9),
        reference("p-404", ["mentee"], 2),
        reference("gone", ["mentee"], 2),
        reference("deleted", ["mentee"], 2),
        reference("shredded", ["mentee"], 2),
    )

    assert problems_of(spec, people) == [
        "participants[1].person_id: unknown person 'p-404' (not in the people directory)",
        "participants[2].person_id: person 'gone' is deactivated in the people directory",
        "participants[3].person_id: person 'deleted' was removed from the people directory",
        "participants[4].person_id: person 'shredded' was forgotten",
    ]


def test_a_profile_without_a_time_zone_or_name_is_refused_naming_the_field() -> None:
    people = {"m": person("m"), "tz": person("tz", timezone=""), "anon": person("anon", name="")}

    problems = problems_of(
        document(
            reference("m", ["mentor"], 9),
            reference("tz", ["mentee"], 2),
            reference("anon", ["mentee"], 2),
        ),
        people,
    )

    assert problems == [
        "participants[1].timezone: the directory has no time zone for person 'tz'",
        "participants[2].name: the directory has no name for person 'anon'",
    ]


def test_given_and_family_names_stand_in_for_a_missing_display_name() -> None:
    people = {
        "m": person("m"),
        "e": person("e", name="", given_name="Ada", family_name="Obi"),
    }
    spec = parse_referencing_spec(
        document(reference("m", ["mentor"], 9), reference("e", ["mentee"], 2)), people
    )

    assert spec.participants[1].name == "Ada Obi"


def test_a_reference_with_profile_fields_of_its_own_is_refused() -> None:
    people = {"m": person("m"), "e": person("e")}

    problems = problems_of(
        document(
            reference("m", ["mentor"], 9, timezone="UTC", id="m"),
            reference("e", ["mentee"], 2, colour="teal"),
        ),
        people,
    )

    assert problems == [
        "participants[0].timezone: comes from the people directory for a reference; leave it "
        "out (or inline the whole participant, with id instead of person_id)",
        "participants[0].id: a reference names its person by person_id alone",
        "participants[1].colour: unknown field",
    ]


def test_cohort_fields_of_references_are_checked_like_inline_ones() -> None:
    people = {"m": person("m"), "e": person("e")}

    problems = problems_of(
        document(
            reference("m", ["mentor"], 11),
            {"person_id": "e", "roles": ["mentee"], "avoid": ["p-missing"]},
            reference("bad id!", ["mentee"], 2),
        ),
        people,
    )

    assert "participants[2].person_id: 'bad id!' must be 1 to 64 characters" in problems[0]
    assert problems[1:] == [
        "participants[0].seniority: Input should be less than or equal to 10 (got 11)",
        "participants[1].seniority: required field is missing",
        "participants[1].avoid[0]: unknown participant 'p-missing'",
    ]


def test_problems_in_the_directory_data_say_where_they_come_from() -> None:
    people = {"m": person("m", languages=["English"]), "e": person("e")}

    problems = problems_of(
        document(
            reference("m", ["mentor"], 9),
            reference("e", ["mentee"], 2),
            inline("e", ["mentee"], 2),
        ),
        people,
    )

    assert problems == [
        "participants[0].languages[0]: 'English' must be a language code such as 'de' "
        "(in the directory's profile of m)",
        "participants[2].id: duplicate id 'e' (also participants[1])",
    ]


def test_a_mixed_spec_keeps_inline_participants_as_they_are() -> None:
    mentor = inline("p-1", ["mentor"], 9) | {"manager_id": None, "languages": ["fr"]}
    spec = parse_referencing_spec(
        document(mentor, reference("e", ["mentee"], 2, avoid=["p-1"])), {"e": person("e")}
    )

    assert spec.participants[0] == ParticipantSpec.model_validate(mentor)
    assert spec.participants[1].avoid == ["p-1"]
    assert referenced_people(document(mentor, reference("e", ["mentee"], 2))) == ["e"]


def test_a_way_in_without_the_directory_refuses_references_plainly() -> None:
    with pytest.raises(CohortSpecInvalid) as caught:
        parse_cohort_spec(
            document(inline("p-1", ["mentor"], 9), reference("e", ["mentee"], 2, avoid=["p-1"]))
        )

    assert caught.value.problems == [
        "participants[1].person_id: a reference to the people directory, which is not read "
        "here: launch through the API, the console or the CLI, or inline the person's profile"
    ]


def test_every_participant_field_is_either_the_directorys_or_the_cohorts() -> None:
    assert set(DIRECTORY_FIELDS).isdisjoint(COHORT_FIELDS)
    assert set(ParticipantSpec.model_fields) == {*DIRECTORY_FIELDS, *COHORT_FIELDS}
    assert set(ParticipantReference.model_fields) == {"person_id", *COHORT_FIELDS}
    assert ParticipantReference.model_json_schema()["required"] == [
        "person_id",
        "roles",
        "seniority",
    ]


def test_the_big_five_a_person_assessed_come_along_unless_the_entry_gives_its_own() -> None:
    scores = {
        "openness": 0.75,
        "conscientiousness": 0.5,
        "extraversion": 0.25,
        "agreeableness": 1.0,
        "emotional_stability": 0.0,
    }
    assessed = person("p-1")
    assessed.traits = BigFiveScores.model_validate(scores)
    given = {**scores, "openness": 0.1}
    spec = parse_referencing_spec(
        document(
            reference("p-1", ["mentor"], 8),
            reference("p-2", ["mentee"], 3, traits=given),
        ),
        {"p-1": assessed, "p-2": person("p-2")},
    )

    mentor, mentee = spec.participants
    assert mentor.traits == Traits.model_validate(scores)
    assert mentee.traits == Traits.model_validate(given)
