"""``/people/{id}/profile`` and ``/people/{id}/traits`` on the real stack: the person edits their
own fields and answers the Mini-IPIP, HR reads, anyone else gets the 404 of an unknown person,
and bad bodies name every problem and record nothing."""

from __future__ import annotations

from typing import Any

import httpx

from domain.person import DesiredPerson
from eventstore import PostgresEventStore
from mentorflow.api.tokens import Role
from mentorflow.people import forget_person
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, profiled, unique
from tests.support import open_vault

OWN: dict[str, Any] = {
    "timezone": "America/Sao_Paulo",
    "languages": ["pt-BR", "en"],
    "skills": {"python": 5, "negotiation": 1},
    "wants_to_develop": ["public-speaking"],
    "career_objectives": ["staff-engineer"],
}
ANSWERS = [5, 2, 4, 2, 5, 1, 4, 3, 4, 2, 4, 1, 5, 1, 1, 2, 3, 4, 3, 4]
SCORES = {
    "openness": 0.75,
    "conscientiousness": 0.625,
    "extraversion": 0.875,
    "agreeableness": 0.25,
    "emotional_stability": 0.75,
}


def _profile(person_id: str) -> str:
    return f"/people/{person_id}/profile"


def _traits(person_id: str) -> str:
    return f"/people/{person_id}/traits"


async def _events(store: PostgresEventStore, person_id: str) -> list[tuple[str, str | None]]:
    """The person's stream: each event's type, and its source where it has one."""
    return [
        (event.event_type, event.data.get("source"))
        for event in await store.read_stream(f"person-{person_id}")
    ]


def _problems(response: httpx.Response) -> list[str]:
    problems: list[str] = response.json()["error"]["problems"]
    return problems


async def test_a_person_edits_their_own_profile_once_and_hr_reads_it(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("ana")
    await profiled(api_stack.store, person)
    own = tokens.headers(person)

    before = await http.get(_profile(person), headers=own)
    edited = await http.put(_profile(person), json=OWN, headers=own)
    again = await http.put(_profile(person), json=OWN, headers=own)
    by_hr = await http.get(_profile(person), headers=tokens.hr)
    as_mentor = await http.get(_profile(person), headers=tokens.headers(person, Role.MENTOR))

    assert before.status_code == 200, before.text
    assert before.json() == {
        "person_id": person,
        "active": True,
        "own": {
            "timezone": "Europe/Lisbon",
            "languages": ["pt"],
            "skills": {"python": 3},
            "wants_to_develop": [],
            "career_objectives": [],
        },
        "hr_system": {
            "name": "Ana Lima",
            "email": f"{person}@example.com",
            "department": "Data",
            "manager_id": None,
            "employee_number": "4711",
        },
    }
    assert edited.status_code == 200, edited.text
    assert edited.json()["own"] == OWN
    assert again.status_code == 200, again.text
    assert await _events(api_stack.store, person) == [
        ("PersonProfiled", "scim"),
        ("ProfileUpdated", "self"),
    ]
    assert by_hr.status_code == 200, by_hr.text
    assert by_hr.json()["own"] == OWN
    assert by_hr.json()["hr_system"]["name"] == "Ana Lima"
    assert as_mentor.status_code == 200, as_mentor.text


async def test_only_the_person_changes_it_hr_reads_and_anyone_else_gets_the_404_of_nobody(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person, other = unique("owner"), unique("other")
    await profiled(api_stack.store, person)
    await profiled(api_stack.store, other)
    answers = {"consent": True, "answers": ANSWERS}

    by_other = [
        await http.get(_profile(person), headers=tokens.headers(other)),
        await http.put(_profile(person), json=OWN, headers=tokens.headers(other)),
        await http.get(_traits(person), headers=tokens.headers(other, Role.MENTOR)),
        await http.put(_traits(person), json=answers, headers=tokens.headers(other)),
        await http.delete(_traits(person), headers=tokens.headers(other)),
        await http.get(_profile(person), headers=tokens.integration),
        await http.get(_traits(person), headers=tokens.integration),
    ]
    nobody = await http.get(_profile("nobody-at-all"), headers=tokens.hr)
    by_hr = [
        await http.put(_profile(person), json=OWN, headers=tokens.hr),
        await http.put(_traits(person), json=answers, headers=tokens.hr),
        await http.delete(_traits(person), headers=tokens.hr),
    ]

    assert [response.status_code for response in by_other] == [404] * 7
    assert nobody.status_code == 404
    messages = {response.json()["error"]["message"] for response in [*by_other, nobody]}
    assert messages == {f"no profile for {person}", "no profile for nobody-at-all"}
    assert [response.status_code for response in by_hr] == [403] * 3
    assert "only the person themselves" in by_hr[0].json()["error"]["message"]
    assert await _events(api_stack.store, person) == [("PersonProfiled", "scim")]


async def test_a_bad_profile_names_every_problem_and_records_nothing(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("typo")
    await profiled(api_stack.store, person)
    sealed = f"sealed:v2:{person}:AAAA"
    bad = {
        "timezone": "Mars/Olympus",
        "languages": ["en", "en"],
        "skills": {"python": 7, "go\x07": 2, sealed: 1},
        "wants_to_develop": [f"skill-{index}" for index in range(51)],
        "career_objectives": ["lead\x00", "x" * 101],
        "department": "Research",
        "name": "Someone Else",
    }

    refused = await http.put(_profile(person), json=bad, headers=tokens.headers(person))
    missing = await http.put(_profile(person), json={"skills": {}}, headers=tokens.headers(person))

    assert refused.status_code == 422, refused.text
    problems = " | ".join(_problems(refused))
    for expected in (
        "timezone: Value error, unknown IANA time zone 'Mars/Olympus'",
        "languages: Value error, repeated value(s): en",
        "skills.python: Input should be less than or equal to 5",
        "control character U+0007",
        "looks like a sealed value",
        "wants_to_develop: List should have at most 50 items",
        "career_objectives.0: Value error, contains the control character U+0000",
        "career_objectives.1: String should have at most 100 characters",
        "department: Extra inputs are not permitted",
        "name: Extra inputs are not permitted",
    ):
        assert expected in problems, problems
    assert missing.status_code == 422, missing.text
    assert {problem.split(":")[0] for problem in _problems(missing)} == {
        "timezone",
        "languages",
        "wants_to_develop",
        "career_objectives",
    }
    assert await _events(api_stack.store, person) == [("PersonProfiled", "scim")]


async def test_traits_from_the_mini_ipip_with_consent_until_it_is_withdrawn(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("ipip")
    await profiled(api_stack.store, person)
    own = tokens.headers(person)

    none_yet = await http.get(_traits(person), headers=own)
    assessed = await http.put(
        _traits(person), json={"consent": True, "answers": ANSWERS}, headers=own
    )
    same = await http.put(_traits(person), json={"consent": True, "answers": ANSWERS}, headers=own)
    by_hr = await http.get(_traits(person), headers=tokens.hr)
    withdrawn = await http.delete(_traits(person), headers=own)
    withdrawn_again = await http.delete(_traits(person), headers=own)

    assert none_yet.status_code == 200, none_yet.text
    assert none_yet.json()["traits"] is None
    assert assessed.status_code == 200, assessed.text
    body = assessed.json()
    assert (body["traits"], body["instrument"]) == (SCORES, "Mini-IPIP")
    assert body["consented_at"] is not None
    assert same.json()["consented_at"] == body["consented_at"]  # the first consent stands
    assert by_hr.json()["traits"] == SCORES
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == {
        "person_id": person,
        "traits": None,
        "instrument": None,
        "consented_at": None,
        "assessed_at": None,
    }
    assert withdrawn_again.status_code == 200, withdrawn_again.text
    events = await api_stack.store.read_stream(f"person-{person}")
    assert [event.event_type for event in events] == [
        "PersonProfiled",
        "TraitsAssessed",
        "TraitsConsentWithdrawn",
    ]
    assert "answers" not in events[1].data


async def test_answers_without_consent_or_off_the_scale_name_every_problem_and_record_nothing(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("noconsent")
    await profiled(api_stack.store, person)
    own = tokens.headers(person)

    refused = await http.put(
        _traits(person),
        json={"consent": False, "answers": [3, 3, 0, 6, "3", True, *[3] * 12, 2.5]},
        headers=own,
    )
    no_consent = await http.put(_traits(person), json={"answers": ANSWERS}, headers=own)
    extra = await http.put(
        _traits(person), json={"consent": True, "answers": ANSWERS, "raw": ANSWERS}, headers=own
    )

    assert refused.status_code == 422, refused.text
    assert _problems(refused) == [
        "answers: give 20 answers, one per item (got 19)",
        "answers[2]: 0 is not within 1..5",
        "answers[3]: 6 is not within 1..5",
        "answers[4]: must be a whole number from 1 to 5",
        "answers[5]: must be a whole number from 1 to 5",
        "answers[18]: must be a whole number from 1 to 5",
        "consent: the traits are scored and kept only with your consent",
    ]
    assert no_consent.status_code == 422, no_consent.text
    assert _problems(no_consent) == [
        "consent: the traits are scored and kept only with your consent"
    ]
    assert extra.status_code == 422, extra.text
    assert await _events(api_stack.store, person) == [("PersonProfiled", "scim")]


async def test_outside_the_directory_deactivated_or_forgotten(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    stranger, leaver, gone = unique("stranger"), unique("leaver"), unique("gone")
    await profiled(api_stack.store, leaver)
    directory = await profiled(api_stack.store, gone)
    assessed = await http.put(
        _traits(leaver), json={"consent": True, "answers": ANSWERS}, headers=tokens.headers(leaver)
    )
    assert assessed.status_code == 200, assessed.text
    state = await directory.get(leaver)
    assert state is not None
    assert state.profile is not None
    await directory.apply(leaver, DesiredPerson(state.profile, active=False), source="scim")
    vault = await open_vault(api_stack.store.pool)
    await forget_person(api_stack.store.pool, vault, gone, requested_by="cli")

    unknown = await http.get(_profile(stranger), headers=tokens.headers(stranger))
    unknown_edit = await http.put(_profile(stranger), json=OWN, headers=tokens.headers(stranger))
    left_read = await http.get(_profile(leaver), headers=tokens.headers(leaver))
    left_edit = await http.put(_profile(leaver), json=OWN, headers=tokens.headers(leaver))
    left_withdraws = await http.delete(_traits(leaver), headers=tokens.headers(leaver))
    forgotten = await http.get(_profile(gone), headers=tokens.headers(gone))
    forgotten_by_hr = await http.get(_traits(gone), headers=tokens.hr)

    assert (unknown.status_code, unknown_edit.status_code) == (404, 404)
    assert await _events(api_stack.store, stranger) == []
    assert left_read.status_code == 200, left_read.text
    assert left_read.json()["active"] is False
    assert left_edit.status_code == 409, left_edit.text
    assert "deactivated" in left_edit.json()["error"]["message"]
    assert left_withdraws.status_code == 200, left_withdraws.text
    assert left_withdraws.json()["traits"] is None
    assert (forgotten.status_code, forgotten_by_hr.status_code) == (404, 404)
