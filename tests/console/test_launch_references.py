"""HR launches a cohort of directory people from the console in Chromium: a reference to
someone the directory does not know is shown against its entry and nothing starts; without
it the cohort launches with the directory's people."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import yaml
from playwright.async_api import Page, expect
from temporalio.service import RPCError, RPCStatusCode

from domain.person import DesiredPerson
from events.person import PersonProfile
from mentorflow.api.tokens import Role
from mentorflow.directory import PeopleDirectory
from tests.api.conftest import ApiStack
from tests.api.support import cohort_spec
from tests.console.conftest import Console, assert_accessible
from tests.support import open_vault
from workflows.ids import cohort_workflow_id


async def _people(api_stack: ApiStack) -> tuple[str, str]:
    """A mentor and a mentee in the directory."""
    suffix = uuid.uuid4().hex[:8]
    mentor, mentee = f"m-{suffix}", f"e-{suffix}"
    directory = PeopleDirectory(api_stack.store.pool, await open_vault(api_stack.store.pool))
    for person_id, name in ((mentor, "Ada Obi"), (mentee, "Lin Park")):
        profile = PersonProfile(
            name=name, timezone="Europe/Berlin", skills={"python": 5}, wants_to_develop=["python"]
        )
        await directory.apply(person_id, DesiredPerson(profile), source="api")
    return mentor, mentee


async def test_hr_launches_directory_people_after_seeing_an_unknown_one_refused(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    mentor, mentee = await _people(api_stack)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    spec: dict[str, Any] = cohort_spec()
    spec.pop("notifications")
    spec["participants"] = [
        {"person_id": mentor, "roles": ["mentor"], "seniority": 8},
        {"person_id": unknown, "roles": ["mentee"], "seniority": 2},
        {"person_id": mentee, "roles": ["mentee"], "seniority": 2},
    ]
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(f"{console.base_url}/hr/cohorts/new")

    await page.get_by_label("Or paste the spec").fill(yaml.safe_dump(spec))
    await page.get_by_role("button", name="Check and launch").click()

    problems = page.locator("#spec-problems")
    await expect(problems).to_contain_text("1 problem in this spec; nothing was launched")
    entry = problems.locator("section", has=page.get_by_role("heading", name=re.compile(unknown)))
    await expect(entry.locator("div", has_text="person_id")).to_contain_text(
        "not in the people directory"
    )
    await assert_accessible(page)
    handle = api_stack.client.get_workflow_handle(cohort_workflow_id(spec["cohort_id"]))
    with pytest.raises(RPCError) as missing:
        await handle.describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND

    del spec["participants"][1]
    await page.get_by_label("Or paste the spec").fill(yaml.safe_dump(spec))
    await page.get_by_role("button", name="Check and launch").click()

    await expect(
        page.get_by_role("heading", name=f"Matching of {spec['cohort_id']}")
    ).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Launched")
    await expect(page.locator("main")).to_contain_text(mentee)
