"""Cohort specs that reference directory people, launched on the real stack: through
``POST /cohorts`` and ``mentorflow cohort launch``.

The people are put in the directory with the directory service (as SCIM or a CSV import
would); a reference launch starts relationships carrying the directory's data, a mixed spec
keeps its inline people, and a spec naming unknown, deactivated or forgotten people is
refused naming each of them, with no workflow and no event.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from temporalio.service import RPCError, RPCStatusCode

from domain.person import DesiredPerson
from events.person import PersonProfile
from mentorflow.directory import PeopleDirectory, migrate_directory
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, cohort_spec
from tests.support import assert_eventually, open_vault
from workflows.cohort import CohortWorkflow


@dataclass(frozen=True)
class Staff:
    """Directory people of one test: two mentors, a team lead outside the cohort, a mentee
    reporting to the lead (who reports to the first mentor)."""

    mentor: str
    other_mentor: str
    lead: str
    mentee: str


async def _directory(api_stack: ApiStack) -> PeopleDirectory:
    await migrate_directory(api_stack.store.pool)  # the API does it at start; a test may be first
    return PeopleDirectory(api_stack.store.pool, await open_vault(api_stack.store.pool))


async def _put(directory: PeopleDirectory, person_id: str, **fields: Any) -> None:
    values: dict[str, Any] = {
        "user_name": f"{person_id}@example.com",
        "name": f"Person {person_id}",
        "email": f"{person_id}@example.com",
        "department": "Platform",
        "timezone": "Europe/Berlin",
        "languages": ["en"],
        "skills": {"python": 5, "leadership": 4},
        "wants_to_develop": ["python"],
        "career_objectives": ["architecture"],
    }
    profile = PersonProfile.model_validate({**values, **fields})
    await directory.apply(person_id, DesiredPerson(profile), source="api")


async def _staff(api_stack: ApiStack) -> Staff:
    suffix = uuid.uuid4().hex[:8]
    staff = Staff(f"m1-{suffix}", f"m2-{suffix}", f"lead-{suffix}", f"e-{suffix}")
    directory = await _directory(api_stack)
    await _put(directory, staff.mentor, name="Ada Obi", timezone="Europe/Berlin")
    await _put(
        directory,
        staff.other_mentor,
        name="Kwame Mensah",
        timezone="Europe/London",
        skills={"python": 3},  # a weaker match than the first mentor, on every count
    )
    await _put(directory, staff.lead, manager_id=staff.mentor)
    await _put(
        directory,
        staff.mentee,
        name="Mei Tanaka",
        email=f"mei.{suffix}@example.org",
        department="Data",
        timezone="Asia/Tokyo",
        languages=["ja", "en"],
        skills={},
        wants_to_develop=["python", "leadership"],
        manager_id=staff.lead,
    )
    return staff


def _spec(*participants: dict[str, Any]) -> dict[str, Any]:
    spec = cohort_spec()
    spec["participants"] = list(participants)
    spec.pop("notifications", None)
    return spec


def _reference(person_id: str, roles: list[str], seniority: int) -> dict[str, Any]:
    return {"person_id": person_id, "roles": roles, "seniority": seniority}


async def _nothing_started(api_stack: ApiStack, cohort_id: str) -> None:
    with pytest.raises(RPCError) as missing:
        await api_stack.client.get_workflow_handle(f"cohort-{cohort_id}").describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND
    assert await api_stack.store.read_stream(f"cohort-{cohort_id}") == []


async def _relationships_started(api_stack: ApiStack, cohort_id: str, pairs: int) -> None:
    handle = api_stack.client.get_workflow_handle_for(CohortWorkflow.run, f"cohort-{cohort_id}")
    await assert_eventually(
        lambda: handle.query(CohortWorkflow.state),
        lambda state: state["relationships"] == pairs,
        timeout=60,
    )


async def test_a_reference_launch_starts_relationships_with_the_directorys_data(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    staff = await _staff(api_stack)
    spec = _spec(
        _reference(staff.mentor, ["mentor"], 9),
        _reference(staff.other_mentor, ["mentor"], 8),
        _reference(staff.mentee, ["mentee"], 3),
    )

    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)

    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]
    # The mentee reports to the lead, who reports to the first mentor: the directory's
    # reporting line keeps that mentor away, although the lead is not in the cohort.
    assert [(p["mentee_id"], p["mentor_id"]) for p in pairs] == [(staff.mentee, staff.other_mentor)]
    cohort_id = spec["cohort_id"]
    await _relationships_started(api_stack, cohort_id, 1)
    events = await api_stack.store.read_stream(f"mentorship-{cohort_id}-{staff.mentee}")
    assert events[0].event_type == "MentorshipMatched"
    assert (events[0].data["mentor_id"], events[0].data["mentee_id"]) == (
        staff.other_mentor,
        staff.mentee,
    )
    contacts = await http.get(
        f"/cohorts/{cohort_id}/contacts",
        params={"person_id": [staff.mentee, staff.other_mentor]},
        headers=tokens.hr,
    )
    assert contacts.status_code == 200, contacts.text
    people = {person["person_id"]: person for person in contacts.json()["people"]}
    mentee = people[staff.mentee]
    assert (mentee["name"], mentee["email"], mentee["timezone"], mentee["languages"]) == (
        "Mei Tanaka",
        f"mei.{staff.mentee.removeprefix('e-')}@example.org",
        "Asia/Tokyo",
        ["ja", "en"],
    )
    assert (people[staff.other_mentor]["name"], people[staff.other_mentor]["timezone"]) == (
        "Kwame Mensah",
        "Europe/London",
    )


async def test_a_mixed_spec_launches_inline_and_referenced_people_together(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    staff = await _staff(api_stack)
    inline_id = f"inline-{uuid.uuid4().hex[:8]}"
    inline_mentee: dict[str, Any] = {
        "id": inline_id,
        "name": "Inline Person",
        "roles": ["mentee"],
        "seniority": 2,
        "timezone": "America/New_York",
        "wants_to_develop": ["leadership"],
        "avoid": [staff.other_mentor],
    }
    spec = _spec(
        _reference(staff.mentor, ["mentor"], 9),
        _reference(staff.other_mentor, ["mentor"], 8),
        inline_mentee,
    )

    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)

    assert launched.status_code == 202, launched.text
    assert [(p["mentee_id"], p["mentor_id"]) for p in launched.json()["outcome"]["pairs"]] == [
        (inline_id, staff.mentor)
    ]
    await _relationships_started(api_stack, spec["cohort_id"], 1)
    contacts = await http.get(
        f"/cohorts/{spec['cohort_id']}/contacts",
        params={"person_id": [inline_id, staff.mentor]},
        headers=tokens.hr,
    )
    names = {person["person_id"]: person["name"] for person in contacts.json()["people"]}
    assert names == {inline_id: "Inline Person", staff.mentor: "Ada Obi"}


async def test_unknown_deactivated_and_forgotten_people_are_refused_and_nothing_starts(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    staff = await _staff(api_stack)
    directory = await _directory(api_stack)
    state = await directory.get(staff.other_mentor)
    assert state is not None
    assert state.profile is not None
    await directory.apply(
        staff.other_mentor, DesiredPerson(state.profile, active=False), source="api"
    )
    forgotten = await http.post(f"/people/{staff.lead}/forget", headers=tokens.hr)
    assert forgotten.status_code == 200, forgotten.text
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    spec = _spec(
        _reference(staff.mentor, ["mentor"], 9),
        _reference(unknown, ["mentor"], 8),
        _reference(staff.other_mentor, ["mentor"], 8),
        _reference(staff.lead, ["mentee"], 3),
        _reference(staff.mentee, ["mentee"], 3),
    )

    refused = await http.post("/cohorts", json=spec, headers=tokens.hr)

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "cohort_spec_invalid"
    assert error["problems"] == [
        f"participants[1].person_id: unknown person '{unknown}' (not in the people directory)",
        f"participants[2].person_id: person '{staff.other_mentor}' is deactivated in the "
        "people directory",
        f"participants[3].person_id: person '{staff.lead}' was forgotten",
    ]
    await _nothing_started(api_stack, spec["cohort_id"])


async def test_a_profile_without_a_time_zone_is_refused_naming_the_field(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    staff = await _staff(api_stack)
    zoneless = f"nozone-{uuid.uuid4().hex[:8]}"
    await _put(await _directory(api_stack), zoneless, timezone="")
    spec = _spec(_reference(staff.mentor, ["mentor"], 9), _reference(zoneless, ["mentee"], 2))

    refused = await http.post("/cohorts", json=spec, headers=tokens.hr)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["problems"] == [
        f"participants[1].timezone: the directory has no time zone for person '{zoneless}'"
    ]
    await _nothing_started(api_stack, spec["cohort_id"])


async def _cli(api_stack: ApiStack, state_dir: Path, *arguments: str) -> tuple[int, str, str]:
    """``mentorflow …`` in a process of its own, on the module's database and task queue:
    its exit code, standard output and standard error."""
    environment = {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(state_dir),
        "MENTORFLOW_DATABASE_URL": api_stack.settings.database_url,
        "MENTORFLOW_TEMPORAL_ADDRESS": api_stack.settings.temporal_address,
        "MENTORFLOW_TASK_QUEUE": api_stack.task_queue,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mentorflow.cli.app",
        *arguments,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output, errors = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode(), errors.decode()


async def test_the_cli_launches_a_spec_with_references_and_refuses_unknown_people(
    api_stack: ApiStack, tmp_path: Path
) -> None:
    staff = await _staff(api_stack)
    good = _spec(
        _reference(staff.mentor, ["mentor"], 9),
        _reference(staff.other_mentor, ["mentor"], 8),
        _reference(staff.mentee, ["mentee"], 3),
    )
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    bad = _spec(_reference(staff.mentor, ["mentor"], 9), _reference(unknown, ["mentee"], 3))
    good_file, bad_file = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good_file.write_text(yaml.safe_dump(good), encoding="utf-8")
    bad_file.write_text(yaml.safe_dump(bad), encoding="utf-8")

    code, output, errors = await _cli(
        api_stack, tmp_path, "cohort", "launch", str(good_file), "--json"
    )
    bad_code, bad_output, bad_errors = await _cli(
        api_stack, tmp_path, "cohort", "launch", str(bad_file)
    )

    assert code == 0, output + errors
    launched = json.loads(output)
    assert [(p["mentee_id"], p["mentor_id"]) for p in launched["outcome"]["pairs"]] == [
        (staff.mentee, staff.other_mentor)
    ]
    assert bad_code == 2, bad_output + bad_errors
    assert f"participants[1].person_id: unknown person '{unknown}'" in bad_output + bad_errors
    await _nothing_started(api_stack, bad["cohort_id"])
