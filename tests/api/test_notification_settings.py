"""Notification preferences and the notifier's contacts, against the real stack.

A cohort of the module's own (people with ids no other test uses) is launched with a
``notifications`` block; preferences are set through the API and read back, merged over the
spec's defaults by ``GET /cohorts/{id}/contacts``, and erased by forgetting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from mentorflow.api.tokens import Role, add_token
from notifications import OutboxMessage, PostgresOutbox
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, unique

SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"
SPEC_QUIET_HOURS = {"start": "21:00", "end": "07:00"}


@dataclass(frozen=True)
class Cohort:
    """The module's cohort: a mentor and two mentees (one without an email address), a
    mentor to forget, and an HR contact."""

    cohort_id: str
    mentor: str
    mentee: str
    no_email: str
    gone: str
    hr_contact: str


def _spec(cohort: Cohort) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "cohort_id": cohort.cohort_id,
        "program": {
            "name": "Notification settings",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=90)).isoformat(),
        },
        "participants": [
            {
                "id": cohort.mentor,
                "name": "Mona Mentor",
                "roles": ["mentor"],
                "seniority": 8,
                "timezone": "Europe/Berlin",
                "languages": ["en", "de"],
                "skills": {"python": 5},
                "email": "mona@example.com",
            },
            {
                "id": cohort.mentee,
                "name": "Tom Mentee",
                "roles": ["mentee"],
                "seniority": 3,
                "timezone": "America/Sao_Paulo",
                "languages": ["pt"],
                "wants_to_develop": ["python"],
                "email": "tom@example.com",
            },
            {
                "id": cohort.no_email,
                "name": "Ines Quiet",
                "roles": ["mentee"],
                "seniority": 2,
                "timezone": "Asia/Singapore",
                "wants_to_develop": ["python"],
            },
            {
                "id": cohort.gone,
                "name": "Gerd Gone",
                "roles": ["mentor"],
                "seniority": 9,
                "timezone": "UTC",
                "email": "gerd@example.com",
            },
        ],
        "notifications": {
            "channel": "email",
            "quiet_hours": SPEC_QUIET_HOURS,
            "hr_contacts": [
                {
                    "id": cohort.hr_contact,
                    "name": "HR Operations",
                    "email": "hr@example.com",
                    "timezone": "Europe/Berlin",
                    "digest": "daily",
                }
            ],
            "webhooks": [{"kind": "slack", "url": SLACK}],
        },
    }


@pytest.fixture(scope="module")
async def cohort(http: httpx.AsyncClient, tokens: Tokens) -> Cohort:
    suffix = uuid.uuid4().hex[:8]
    launched = Cohort(
        cohort_id=f"notify-{suffix}",
        mentor=f"mona-{suffix}",
        mentee=f"tom-{suffix}",
        no_email=f"ines-{suffix}",
        gone=f"gerd-{suffix}",
        hr_contact=f"hr-{suffix}",
    )
    response = await http.post("/cohorts", json=_spec(launched), headers=tokens.hr)
    assert response.status_code == 202, response.text
    return launched


def _path(person_id: str) -> str:
    return f"/people/{person_id}/notification-preferences"


async def _stored(http: httpx.AsyncClient, tokens: Tokens, person_id: str) -> dict[str, Any]:
    response = await http.get(_path(person_id), headers=tokens.hr)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _contacts(
    http: httpx.AsyncClient, tokens: Tokens, cohort_id: str, *person_ids: str
) -> httpx.Response:
    return await http.get(
        f"/cohorts/{cohort_id}/contacts",
        params=[("person_id", person_id) for person_id in person_ids],
        headers=tokens.integration,
    )


# --- preferences --------------------------------------------------------------------------


async def test_a_participant_reads_and_replaces_their_own_preferences(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("self")
    own = tokens.headers(person, Role.MENTOR)

    before = await http.get(_path(person), headers=own)
    chosen = {
        "channel": "none",
        "quiet_hours": {"start": "22:30", "end": "06:45"},
        "digest": "weekly",
    }
    put = await http.put(_path(person), json=chosen, headers=own)
    after = await http.get(_path(person), headers=own)
    turned_off = await http.put(_path(person), json={"quiet_hours": "off"}, headers=own)
    reset = await http.put(_path(person), json={}, headers=own)

    nothing = {"person_id": person, "channel": None, "quiet_hours": None, "digest": None}
    assert before.status_code == 200, before.text
    assert before.json() == nothing
    assert put.status_code == 200, put.text
    assert put.json() == {"person_id": person, **chosen}
    assert after.json() == put.json()
    assert turned_off.status_code == 200, turned_off.text
    assert turned_off.json() == {**nothing, "quiet_hours": "off"}
    assert reset.json() == nothing
    assert await _stored(http, tokens, person) == nothing


async def test_another_participants_preferences_are_404_to_read_and_to_set(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person, other = unique("owner"), unique("other")
    await http.put(_path(person), json={"channel": "none"}, headers=tokens.headers(person))
    stranger = tokens.headers(other, Role.MENTEE)

    read = await http.get(_path(person), headers=stranger)
    written = await http.put(_path(person), json={"channel": "email"}, headers=stranger)
    nobody = await http.get(_path("nobody-ever"), headers=stranger)

    assert (read.status_code, written.status_code) == (404, 404)
    # The same answer as for anyone else's: no existence oracle.
    assert read.json()["error"]["message"] == nobody.json()["error"]["message"].replace(
        "nobody-ever", person
    )
    assert (await _stored(http, tokens, person))["channel"] == "none"


async def test_hr_sets_anyones_preferences_and_services_read_but_cannot_set_them(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("managed")
    ops = {"Authorization": f"Bearer {add_token(tokens.path, Role.OPS)}"}

    by_hr = await http.put(_path(person), json={"digest": "off"}, headers=tokens.hr)
    by_service = await http.get(_path(person), headers=tokens.integration)
    service_write = await http.put(
        _path(person), json={"digest": "daily"}, headers=tokens.integration
    )
    ops_read = await http.get(_path(person), headers=ops)

    assert by_hr.status_code == 200, by_hr.text
    assert by_service.status_code == 200, by_service.text
    assert by_service.json() == by_hr.json()
    assert by_service.json()["digest"] == "off"
    assert service_write.status_code == 403, service_write.text
    assert ops_read.status_code == 404, ops_read.text
    assert (await _stored(http, tokens, person))["digest"] == "off"


async def test_a_bad_body_is_refused_naming_every_problem_and_stores_nothing(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("picky")
    own = tokens.headers(person)
    kept = {"channel": "email", "quiet_hours": {"start": "20:00", "end": "08:00"}, "digest": None}
    assert (await http.put(_path(person), json=kept, headers=own)).status_code == 200

    bad = await http.put(
        _path(person),
        json={
            "channel": "e\x00mail",
            "quiet_hours": {"start": "25:00", "end": "7:00"},
            "digest": "hourly",
            "colour": "teal",
        },
        headers=own,
    )
    empty_window = await http.put(
        _path(person), json={"quiet_hours": {"start": "22:00", "end": "22:00"}}, headers=own
    )
    word = await http.put(_path(person), json={"quiet_hours": "never"}, headers=own)

    assert bad.status_code == 422, bad.text
    problems = bad.json()["error"]["problems"]
    assert [problem.split(":")[0] for problem in problems] == [
        "channel",
        "quiet_hours.start",
        "quiet_hours.end",
        "digest",
        "colour",
    ], problems
    assert "HH:MM" in problems[1]
    assert empty_window.status_code == 422, empty_window.text
    assert empty_window.json()["error"]["problems"] == [
        "quiet_hours: Value error, start and end are both 22:00: quiet hours need a window"
    ]
    assert word.status_code == 422, word.text
    assert "'off'" in word.json()["error"]["problems"][0]
    assert await _stored(http, tokens, person) == {"person_id": person, **kept}
    rows = await api_stack.store.pool.fetchval(
        "SELECT count(*) FROM notifications.preferences WHERE person_id = $1", person
    )
    assert rows == 1


# --- contacts ---------------------------------------------------------------------------------


async def test_contacts_merge_each_persons_choices_over_the_spec_defaults(
    http: httpx.AsyncClient, tokens: Tokens, cohort: Cohort
) -> None:
    await http.put(
        _path(cohort.mentee),
        json={"channel": "none", "quiet_hours": "off"},
        headers=tokens.headers(cohort.mentee),
    )
    await http.put(
        _path(cohort.no_email),
        json={"quiet_hours": {"start": "12:00", "end": "13:00"}},
        headers=tokens.hr,
    )
    await http.put(
        _path(cohort.hr_contact),
        json={"digest": "weekly", "quiet_hours": {"start": "18:00", "end": "09:00"}},
        headers=tokens.hr,
    )

    with capture_logs() as logs:
        response = await _contacts(
            http,
            tokens,
            cohort.cohort_id,
            cohort.no_email,
            "stranger-x",
            cohort.mentee,
            cohort.mentor,
        )

    assert logs, "the request was logged"
    assert not any(part in repr(logs) for part in ("@example.com", "Mentee", SLACK)), logs
    assert response.status_code == 200, response.text
    assert response.json() == {
        "cohort_id": cohort.cohort_id,
        "people": [
            {
                "person_id": cohort.no_email,
                "name": "Ines Quiet",
                "email": None,
                "timezone": "Asia/Singapore",
                "languages": [],
                "channel": "email",
                "quiet_hours": {"start": "12:00", "end": "13:00"},
            },
            {
                "person_id": cohort.mentee,
                "name": "Tom Mentee",
                "email": "tom@example.com",
                "timezone": "America/Sao_Paulo",
                "languages": ["pt"],
                "channel": "none",
                "quiet_hours": None,
            },
            {
                "person_id": cohort.mentor,
                "name": "Mona Mentor",
                "email": "mona@example.com",
                "timezone": "Europe/Berlin",
                "languages": ["en", "de"],
                "channel": "email",
                "quiet_hours": SPEC_QUIET_HOURS,
            },
        ],
        "hr_contacts": [
            {
                "id": cohort.hr_contact,
                "name": "HR Operations",
                "email": "hr@example.com",
                "timezone": "Europe/Berlin",
                "digest": "weekly",
                "quiet_hours": {"start": "18:00", "end": "09:00"},
            }
        ],
        "webhooks": [{"kind": "slack", "url": SLACK}],
    }


async def test_contacts_are_for_hr_and_services_only_and_404_for_unknown_cohorts(
    http: httpx.AsyncClient, tokens: Tokens, cohort: Cohort
) -> None:
    path = f"/cohorts/{cohort.cohort_id}/contacts"
    query = {"person_id": cohort.mentee}

    by_hr = await http.get(path, params=query, headers=tokens.hr)
    by_participant = await http.get(path, params=query, headers=tokens.headers(cohort.mentee))
    unknown = await _contacts(http, tokens, "no-such-cohort", cohort.mentee)
    unknown_to_participant = await http.get(
        "/cohorts/no-such-cohort/contacts", params=query, headers=tokens.headers(cohort.mentee)
    )
    none_asked = await http.get(path, headers=tokens.hr)
    too_many = await _contacts(http, tokens, cohort.cohort_id, *(f"p-{n}" for n in range(51)))

    assert by_hr.status_code == 200, by_hr.text
    assert [person["person_id"] for person in by_hr.json()["people"]] == [cohort.mentee]
    assert by_participant.status_code == 404, by_participant.text
    assert unknown.status_code == 404, unknown.text
    assert by_participant.json()["error"]["message"] == f"no cohort {cohort.cohort_id}"
    assert unknown_to_participant.json()["error"]["message"] == "no cohort no-such-cohort"
    assert none_asked.status_code == 422, none_asked.text
    assert too_many.status_code == 422, too_many.text
    assert "person_id" in too_many.json()["error"]["problems"][0]


# --- forgetting -------------------------------------------------------------------------------


async def test_forgetting_erases_preferences_and_outbox_rows_and_leaves_the_person_out(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, cohort: Cohort
) -> None:
    pool = api_stack.store.pool
    outbox = PostgresOutbox(pool)
    for recipient in (cohort.gone, cohort.gone, cohort.mentor):
        await outbox.record(
            OutboxMessage(
                event_id=uuid.uuid4(),
                recipient=recipient,
                address="someone@example.com",
                subject="A reminder",
                text_body="Your next conversation is due.",
            )
        )
    chosen = await http.put(_path(cohort.gone), json={"channel": "email"}, headers=tokens.hr)
    assert chosen.status_code == 200, chosen.text

    forgotten = await http.post(f"/people/{cohort.gone}/forget", headers=tokens.hr)

    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json()["notifications_erased"] == 3  # one preference, two outbox rows
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications.outbox WHERE recipient = $1", cohort.gone
        )
        == 0
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications.preferences WHERE person_id = $1", cohort.gone
        )
        == 0
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications.outbox WHERE recipient = $1", cohort.mentor
        )
        == 1
    )
    contacts = await _contacts(http, tokens, cohort.cohort_id, cohort.gone, cohort.mentor)
    assert [p["person_id"] for p in contacts.json()["people"]] == [cohort.mentor]
    # Nothing of theirs can be read or stored again.
    read = await http.get(_path(cohort.gone), headers=tokens.hr)
    written = await http.put(_path(cohort.gone), json={"channel": "none"}, headers=tokens.hr)
    assert (read.status_code, written.status_code) == (404, 404)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM notifications.preferences WHERE person_id = $1", cohort.gone
        )
        == 0
    )


# --- the spec's ways in -----------------------------------------------------------------------


async def test_a_launch_names_every_problem_of_the_notifications_block(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    suffix = uuid.uuid4().hex[:8]
    mentor = f"a-{suffix}"
    spec = _spec(
        Cohort(f"bad-{suffix}", mentor, f"b-{suffix}", f"c-{suffix}", f"d-{suffix}", mentor)
    )
    spec["participants"][1]["email"] = "tom@"
    spec["notifications"]["webhooks"][0]["url"] = "ftp://hooks.example.com/x"

    response = await http.post("/cohorts", json=spec, headers=tokens.hr)

    assert response.status_code == 422, response.text
    problems = response.json()["error"]["problems"]
    assert [problem.split(":")[0] for problem in problems] == [
        "participants[1].email",
        "notifications.webhooks[0].url",
        "notifications.hr_contacts[0].id",
    ], problems
    assert "also the id of participants[0]" in problems[2]


async def test_a_late_joiner_is_checked_for_its_email_and_against_hr_contact_ids(
    http: httpx.AsyncClient, tokens: Tokens, cohort: Cohort
) -> None:
    path = f"/cohorts/{cohort.cohort_id}/participants"
    late = unique("late")
    joiner = {
        "id": late,
        "name": "Late Joiner",
        "roles": ["mentor"],
        "seniority": 7,
        "timezone": "UTC",
        "email": "late@example.com",
    }

    bad_email = await http.post(
        path, json={**joiner, "email": "late at example.com"}, headers=tokens.hr
    )
    clash = await http.post(path, json={**joiner, "id": cohort.hr_contact}, headers=tokens.hr)
    joined = await http.post(path, json=joiner, headers=tokens.hr)
    card = await _contacts(http, tokens, cohort.cohort_id, late)

    assert bad_email.status_code == 422, bad_email.text
    assert bad_email.json()["error"]["problems"][0].startswith("email:")
    assert clash.status_code == 422, clash.text
    assert clash.json()["error"]["problems"] == [
        f"notifications.hr_contacts[0].id: '{cohort.hr_contact}' is also the id of "
        "participants[4]; HR contact ids must differ from participant ids"
    ]
    assert "hooks.slack.com" not in clash.text  # the spec's secrets stay out of the answer
    assert joined.status_code == 201, joined.text
    assert card.json()["people"][0]["email"] == "late@example.com"
