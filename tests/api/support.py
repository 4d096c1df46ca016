"""Helpers of the API tests: tokens per person, relationships started on the real server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from temporalio.client import Client, WorkflowHandle

from domain.mentorship.terms import ProgramTerms
from domain.person import DesiredPerson
from events.person import PersonProfile
from eventstore import PostgresEventStore
from mentorflow.api.tokens import Role, add_token
from mentorflow.directory import PeopleDirectory, migrate_directory
from projections import rebuild_projections
from tests.support import open_vault
from vault import PersonalDataVault
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_models import MentorshipWorkflowInput, MentorshipWorkflowResult

EXAMPLE_COHORT = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"
MODULES = ["active-listening", "constructive-feedback", "career-goal-setting"]
MentorshipHandle = WorkflowHandle[MentorshipWorkflow, MentorshipWorkflowResult]


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tokens:
    """Tokens in the API's tokens file, created on demand (the API re-reads the file)."""

    path: Path
    hr_admin: str
    service: str
    _people: dict[tuple[Role, str], str] = field(default_factory=dict)

    @classmethod
    def create(cls, path: Path) -> Tokens:
        """A tokens file with an hr_admin and a service token."""
        return cls(path, add_token(path, Role.HR_ADMIN), add_token(path, Role.SERVICE))

    def of(self, person_id: str, role: Role = Role.MENTEE) -> str:
        """A participant token of ``person_id``."""
        key = (role, person_id)
        if key not in self._people:
            self._people[key] = add_token(self.path, role, person_id)
        return self._people[key]

    def headers(self, person_id: str, role: Role = Role.MENTEE) -> dict[str, str]:
        """Authorization header of a participant."""
        return bearer(self.of(person_id, role))

    @property
    def hr(self) -> dict[str, str]:
        """Authorization header of HR."""
        return bearer(self.hr_admin)

    @property
    def integration(self) -> dict[str, str]:
        """Authorization header of the service token."""
        return bearer(self.service)


@dataclass(frozen=True)
class Pair:
    """A relationship started for a test, with people of its own."""

    mentorship_id: str
    cohort_id: str
    mentor_id: str
    mentee_id: str
    handle: MentorshipHandle


def terms(cohort_id: str, **overrides: Any) -> ProgramTerms:
    """A one-year program starting now with a 14-day cadence (no timer fires in a test)."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    values: dict[str, Any] = {
        "cohort_id": cohort_id,
        "program_name": "API test program",
        "starts_at": start,
        "ends_at": start + timedelta(days=365),
        "conversation_cadence": timedelta(days=14),
        "grace_period": timedelta(days=3),
        "onboarding_window": timedelta(days=21),
        "escalate_after_missed": 2,
        "training_modules": MODULES,
        "review_cycles": [],
    }
    values.update(overrides)
    return ProgramTerms(**values)


async def start_pair(client: Client, task_queue: str) -> Pair:
    """Start a relationship between two new people in a cohort of its own."""
    cohort_id = unique("api")
    mentor_id, mentee_id = unique("mentor"), unique("mentee")
    mentorship_id = f"mentorship-{cohort_id}-{mentee_id}"
    handle = await client.start_workflow(
        MentorshipWorkflow.run,
        MentorshipWorkflowInput(
            cohort_id=cohort_id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            terms=terms(cohort_id),
            match_score=0.8,
        ),
        id=mentorship_id,
        task_queue=task_queue,
    )
    return Pair(mentorship_id, cohort_id, mentor_id, mentee_id, handle)


def cohort_spec(cohort_id: str | None = None) -> dict[str, Any]:
    """The small example cohort, starting now, with an id of its own."""
    spec: dict[str, Any] = yaml.safe_load(EXAMPLE_COHORT.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    spec["cohort_id"] = cohort_id or unique("cohort")
    spec["program"].update(
        {
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=90)).isoformat(),
            "review_cycles": [],
        }
    )
    return spec


def conversation(goal_ids: list[str], **overrides: Any) -> dict[str, Any]:
    """A valid conversation body held a minute ago, with a one-item plan due in a week."""
    held_at = datetime.now(UTC) - timedelta(minutes=1)
    body: dict[str, Any] = {
        "held_at": held_at.isoformat(),
        "goal_ids": goal_ids,
        "skills": ["stakeholder-management"],
        "feedback_to_mentee": "Clear structure in the proposal",
        "notes": "private",
        "action_items": [
            {
                "owner": "mentee",
                "description": "Draft the proposal",
                "due_at": (held_at + timedelta(days=7)).isoformat(),
            }
        ],
    }
    body.update(overrides)
    return body


async def onboard(http: httpx.AsyncClient, tokens: Tokens, pair: Pair, **kickoff: Any) -> list[str]:
    """Through the API: both train, the mentee sets two goals, the kickoff is held (its body
    fields overridden by ``kickoff``)."""
    path = f"/mentorships/{pair.mentorship_id}"
    for person, role in ((pair.mentor_id, Role.MENTOR), (pair.mentee_id, Role.MENTEE)):
        for module in MODULES:
            response = await http.post(
                f"{path}/training",
                json={"person_id": person, "module": module},
                headers=tokens.headers(person, role),
            )
            assert response.status_code == 200, response.text
    goals: list[str] = []
    for horizon in ("short", "long"):
        response = await http.post(
            f"{path}/goals",
            json={"horizon": horizon, "description": f"A {horizon}-term goal"},
            headers=tokens.headers(pair.mentee_id),
        )
        assert response.status_code == 201, response.text
        goals.append(response.json()["goal_id"])
    response = await http.post(
        f"{path}/conversations",
        json=conversation(goals[:1], **kickoff),
        headers=tokens.headers(pair.mentor_id, Role.MENTOR),
    )
    assert response.status_code == 201, response.text
    return goals


async def project(store: PostgresEventStore) -> None:
    """Bring the read models up to date with the store (a rebuild: simple and exact)."""
    await rebuild_projections(store)


def directory_of(store: PostgresEventStore, vault: PersonalDataVault) -> PeopleDirectory:
    """The directory service over the module's database."""
    return PeopleDirectory(store.pool, vault)


async def profiled(store: PostgresEventStore, person_id: str, **fields: Any) -> PeopleDirectory:
    """Put ``person_id`` in the directory as the HR system would (SCIM), with a profile of
    ``fields`` over a default one; return the directory service."""
    await migrate_directory(store.pool)
    directory = directory_of(store, await open_vault(store.pool))
    values: dict[str, Any] = {
        "user_name": f"{person_id}@example.com",
        "name": "Ana Lima",
        "email": f"{person_id}@example.com",
        "department": "Data",
        "employee_number": "4711",
        "timezone": "Europe/Lisbon",
        "languages": ["pt"],
        "skills": {"python": 3},
        **fields,
    }
    profile = PersonProfile.model_validate(values)
    await directory.apply(person_id, DesiredPerson(profile), source="scim")
    return directory
