"""HR imports people through the console in Chromium: check a file, see every problem or the
diff, apply it, and see that applying it again has nothing to do."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.async_api import FilePayload, Page, expect

from mentorflow.api.tokens import Role
from mentorflow.directory import PeopleDirectory
from tests.api.conftest import ApiStack
from tests.console.conftest import Console, assert_accessible
from tests.support import open_vault

HEADER = "person_id,user_name,display_name,email,department,manager_id,active"


def _people(suffix: str) -> list[str]:
    boss, report = f"boss-{suffix}", f"report-{suffix}"
    return [
        f"{boss},{boss}@example.com,Ada Obi,{boss}@example.com,Platform,,true",
        f"{report},{report}@example.com,Lin Park,{report}@example.com,Data,{boss},true",
    ]


def _payload(*lines: str) -> FilePayload:
    text = "\n".join([HEADER, *lines]) + "\n"
    return {"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}


async def _check(page: Page, payload: FilePayload) -> None:
    await page.get_by_label(re.compile("CSV file")).set_input_files(payload)
    await page.get_by_role("button", name="Check the file").click()


async def _stream_versions(api_stack: ApiStack, *person_ids: str) -> list[int]:
    directory = PeopleDirectory(api_stack.store.pool, await open_vault(api_stack.store.pool))
    states = await directory.states(person_ids)
    return [states[person_id].version for person_id in person_ids]


async def test_hr_checks_a_file_sees_every_problem_then_applies_it_once(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    suffix = uuid.uuid4().hex[:8]
    boss, report = f"boss-{suffix}", f"report-{suffix}"
    good = _people(suffix)
    await console.sign_in(page, Role.HR_ADMIN)
    await page.get_by_role("link", name="Import people").click()
    await expect(page.get_by_role("heading", name="Import people")).to_be_visible()

    await _check(page, _payload(good[0], good[1].replace(",Data,", ",Data,,extra")))
    problems = page.locator("#import-problems")
    await expect(problems).to_contain_text("1 problem in this file; nothing was recorded")
    await expect(problems).to_contain_text("row 3: 8 fields, the header has 7")
    assert await _stream_versions(api_stack, boss, report) == [0, 0]

    await _check(page, _payload(*good))
    await expect(page.locator("#import-summary")).to_contain_text("2 rows: 2 new")
    table = page.get_by_role("table", name="People the import changes")
    await expect(table).to_contain_text(boss)
    await expect(page.locator("main")).not_to_contain_text("Ada Obi")  # names, never values
    await assert_accessible(page)
    assert await _stream_versions(api_stack, boss, report) == [0, 0]
    await page.get_by_role("button", name="Apply").click()

    await expect(page.get_by_role("heading", name="People imported")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("2 events recorded")
    assert await _stream_versions(api_stack, boss, report) == [1, 1]
    await page.get_by_role("link", name="Import another file").click()
    await _check(page, _payload(*good))
    await expect(page.locator("#import-summary")).to_contain_text("2 unchanged")
    await expect(page.locator("main")).to_contain_text("there is nothing to apply")
    await expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    assert await _stream_versions(api_stack, boss, report) == [1, 1]


async def test_a_diff_that_changed_since_the_check_is_shown_again_not_applied(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    suffix = uuid.uuid4().hex[:8]
    boss = f"boss-{suffix}"
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(f"{console.base_url}/hr/people/import")
    await _check(page, _payload(_people(suffix)[0]))
    await page.locator("input[name=diff]").evaluate("field => field.value = 'tampered'")

    await page.get_by_role("button", name="Apply").click()

    await expect(page.get_by_role("status")).to_contain_text("The directory changed")
    assert await _stream_versions(api_stack, boss) == [0]
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("heading", name="People imported")).to_be_visible()
    assert await _stream_versions(api_stack, boss) == [1]


async def test_the_import_refuses_posts_without_the_form_token_and_hides_from_participants(
    console: Console, page: Page, new_context: Any
) -> None:
    await console.sign_in(page, Role.HR_ADMIN)
    refused = [
        (await page.request.post(f"{console.base_url}{path}", form={"content": "eA=="})).status
        for path in ("/hr/people/import", "/hr/people/import/apply")
    ]
    participant_context = await new_context()
    participant = await participant_context.new_page()
    await console.sign_in(participant, Role.MENTEE, "p-007")

    hidden = await participant.request.get(f"{console.base_url}/hr/people/import")

    assert refused == [403, 403]
    assert hidden.status == 404
