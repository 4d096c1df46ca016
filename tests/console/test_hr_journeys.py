"""HR's journeys through the console in Chromium: launch, approve with overrides, review
cycles, forgetting a person, and the links to the Temporal UI."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from playwright.async_api import FilePayload, Page, expect

from domain.cohort_spec import parse_cohort_spec
from matching.engine import assignment_violations
from mentorflow.api.read_models import cohort_relationships, cohort_summary
from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, cohort_spec, project
from tests.console.conftest import Console, assert_accessible, screenshot, serving_console
from tests.support import assert_eventually
from workflows.cohort import CohortWorkflow
from workflows.ids import cohort_workflow_id, mentorship_workflow_id

TEMPORAL_UI = "http://temporal-ui.test:8233"


@pytest.fixture(scope="module")
async def console(api_stack: ApiStack) -> AsyncIterator[Console]:
    """The console, told where the Temporal UI is."""
    async with serving_console(api_stack, temporal_ui_url=TEMPORAL_UI) as served:
        yield served


async def _cohort_projected(api_stack: ApiStack, cohort_id: str, relationships: int) -> None:
    async def probe() -> bool:
        await project(api_stack.store)
        summary = await cohort_summary(api_stack.store.pool, cohort_id)
        found = await cohort_relationships(api_stack.store.pool, cohort_id)
        return summary is not None and len(found) == relationships

    await assert_eventually(probe, timeout=30, message="the cohort was not projected")


async def test_hr_uploads_a_bad_spec_sees_every_problem_fixes_it_and_launches(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    spec = cohort_spec()
    bad = yaml.safe_load(yaml.safe_dump(spec))
    bad["participants"][1]["manager_id"] = "p-999"  # p-002
    bad["participants"][3]["seniority"] = 42  # p-004
    bad["participants"][3]["timezone"] = "Mars/Olympus_Mons"
    bad["participants"][8]["skills"]["python"] = 9  # p-009
    bad["program"]["conversation_cadence"] = "fortnightly"
    await console.sign_in(page, Role.HR_ADMIN)

    await page.get_by_role("link", name="Launch a cohort").first.click()
    await expect(page.get_by_role("heading", name="Launch a cohort")).to_be_visible()
    upload: FilePayload = {
        "name": "cohort.yaml",
        "mimeType": "application/yaml",
        "buffer": yaml.safe_dump(bad, allow_unicode=True).encode(),
    }
    await page.get_by_label("Spec file (.yaml, .yml or .json)").set_input_files(files=upload)
    await page.get_by_role("button", name="Check and launch").click()

    problems = page.locator("#spec-problems")
    await expect(problems).to_contain_text("5 problems in this spec; nothing was launched")
    p002 = problems.locator("section", has=page.get_by_role("heading", name=re.compile("p-002")))
    await expect(p002.locator("div", has_text="manager_id")).to_contain_text("p-999")
    p004 = problems.locator("section", has=page.get_by_role("heading", name=re.compile("p-004")))
    await expect(p004.locator("div", has_text="seniority")).to_contain_text("less than or equal")
    await expect(p004.locator("div", has_text="timezone")).to_contain_text("Mars/Olympus_Mons")
    p009 = problems.locator("section", has=page.get_by_role("heading", name=re.compile("p-009")))
    await expect(p009.locator("div", has_text="skills.python")).to_be_visible()
    await expect(problems.locator("div", has_text="program.conversation_cadence")).to_be_visible()
    await expect(page.get_by_label("Or paste the spec")).to_have_value(re.compile("p-999"))
    await assert_accessible(page)
    await screenshot(page, "launch")
    with pytest.raises(Exception, match="workflow not found"):  # nothing started
        await api_stack.client.get_workflow_handle(cohort_workflow_id(spec["cohort_id"])).describe()

    # HR fixes the spec in the text area (the file is not sent again) and launches.
    await page.get_by_label("Or paste the spec").fill(yaml.safe_dump(spec, allow_unicode=True))
    await page.get_by_role("button", name="Check and launch").click()

    await expect(
        page.get_by_role("heading", name=f"Matching of {spec['cohort_id']}")
    ).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Launched")
    ops = page.get_by_role("link", name=f"Workflows of {spec['cohort_id']} in the Temporal UI")
    expected = f'MentorflowCohortId="{spec["cohort_id"]}"'
    await expect(ops).to_have_attribute(
        "href", f"{TEMPORAL_UI}/namespaces/default/workflows?query={quote(expected, safe='')}"
    )
    first = page.get_by_role("link", name=re.compile(r"^Workflow of p-")).first
    await expect(first).to_have_attribute("href", re.compile("MentorflowMenteeId"))


async def test_a_pasted_spec_with_yaml_aliases_is_refused(console: Console, page: Page) -> None:
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(f"{console.base_url}/hr/cohorts/new")

    await page.get_by_label("Or paste the spec").fill("a: &a [x, x]\nb: [*a, *a]\n")
    await page.get_by_role("button", name="Check and launch").click()

    await expect(page.locator("#spec-problems")).to_contain_text("aliases (*name) are not accepted")


def _valid_override(spec: dict[str, Any], pairs: list[dict[str, Any]]) -> tuple[str, str]:
    """A mentee and another mentor the cohort's rules allow, with the other pairs kept."""
    parsed = parse_cohort_spec(spec)
    proposed = {pair["mentee_id"]: pair["mentor_id"] for pair in pairs}
    mentors = [p.id for p in parsed.participants if p.is_mentor]
    for mentee_id, mentor_id in sorted(proposed.items()):
        for candidate in mentors:
            if candidate == mentor_id:
                continue
            changed = {**proposed, mentee_id: candidate}
            if not assignment_violations(parsed, [(m, e) for e, m in changed.items()]):
                return mentee_id, candidate
    raise AssertionError("no valid override in the example cohort")


async def test_hr_reviews_a_draft_is_refused_a_reporting_line_override_and_approves_another(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    spec = cohort_spec()
    spec["program"]["require_hr_approval"] = True
    cohort_id = spec["cohort_id"]
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]
    mentee_id, mentor_id = _valid_override(spec, pairs)
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(f"{console.base_url}/hr/cohorts/{cohort_id}/matching")
    await expect(page.get_by_text("Draft: awaiting HR's approval.")).to_be_visible()
    approval = page.locator("#approval")
    await expect(approval).to_contain_text("No changes")
    await assert_accessible(page)

    # p-002 manages p-008: checked live as HR types, and refused with the reason.
    assign = page.locator("#assign-form")
    await assign.get_by_label("Mentee id").fill("p-008")
    await assign.get_by_label("Mentor id").fill("p-002")
    await assign.get_by_label("Mentor id").dispatch_event("change")
    await expect(page.locator("#assign-check")).to_contain_text(
        "p-002 is in p-008's reporting line"
    )
    await assign.get_by_role("button", name="Add the change").click()
    await expect(page.locator("#assign-rules-problems")).to_contain_text(
        "p-002 is in p-008's reporting line"
    )
    await expect(page.get_by_label("Mentor id")).to_have_value("p-002")  # kept to fix
    await expect(page.locator("#pending-overrides")).to_have_count(0)

    # A valid change: allowed live, then added, then approved.
    assign = page.locator("#assign-form")
    await assign.get_by_label("Mentee id").fill(mentee_id)
    await assign.get_by_label("Mentor id").fill(mentor_id)
    await assign.get_by_label("Mentor id").dispatch_event("change")
    await expect(page.locator("#assign-check")).to_contain_text(
        f"Allowed: {mentor_id} would mentor {mentee_id}"
    )
    await assign.get_by_role("button", name="Add the change").click()
    await expect(page.locator("#pending-overrides")).to_contain_text(
        f"{mentor_id} mentors {mentee_id}"
    )
    await assert_accessible(page)
    await screenshot(page, "approval")
    await page.get_by_role("button", name="Approve the matching with 1 change").click()

    await expect(page.get_by_role("status")).to_contain_text("Approved")
    await expect(page.get_by_text("Final: the relationships have started.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(mentee_id))
    await expect(row).to_contain_text(mentor_id)
    await expect(row).to_contain_text("chosen by HR")
    handle = api_stack.client.get_workflow_handle_for(
        CohortWorkflow.run, cohort_workflow_id(cohort_id)
    )
    await assert_eventually(
        lambda: handle.query(CohortWorkflow.state),
        lambda state: state["relationships"] == len(pairs),
        timeout=30,
        message="the relationships did not start",
    )
    outcome = await handle.query(CohortWorkflow.matching)
    assert outcome is not None
    assert outcome.approved_pairs is not None
    assert {(p.mentee_id, p.mentor_id) for p in outcome.approved_pairs} >= {(mentee_id, mentor_id)}

    # The approved pair's page links ops to its workflow in the Temporal UI.
    await row.get_by_role("link", name=mentee_id, exact=True).click()
    mentorship_id = mentorship_workflow_id(cohort_id, mentee_id)
    workflow = page.get_by_role("link", name="This relationship's workflow in the Temporal UI")
    await expect(workflow).to_have_attribute(
        "href", f"{TEMPORAL_UI}/namespaces/default/workflows/{mentorship_id}"
    )


async def test_hr_starts_a_review_cycle_and_sees_who_shared(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    spec = cohort_spec()
    cohort_id = spec["cohort_id"]
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]
    await _cohort_projected(api_stack, cohort_id, len(pairs))
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(f"{console.base_url}/hr/cohorts/{cohort_id}/review-cycles")
    await expect(page.get_by_text("No review cycle has started")).to_be_visible()

    await page.get_by_label("Cycle name (optional)").fill("not a name!")
    await page.get_by_role("button", name=re.compile("Start the cycle")).click()
    await expect(page.locator("#cycle_id-problems")).to_be_visible()
    await page.get_by_label("Cycle name (optional)").fill("2027-h1")
    await page.get_by_role("button", name=f"Start the cycle for {len(pairs)} running").click()
    await expect(page.get_by_role("status")).to_contain_text("Review cycle 2027-h1 started")

    # The first mentee shares; the others have not decided yet.
    sharer = pairs[0]
    mentorship_id = f"mentorship-{cohort_id}-{sharer['mentee_id']}"

    async def drafted() -> int:
        await project(api_stack.store)
        response = await http.get(
            f"/mentorships/{mentorship_id}/review-summaries/2027-h1",
            headers=tokens.headers(sharer["mentee_id"]),
        )
        return response.status_code

    await assert_eventually(drafted, lambda status: status == 200, timeout=30)
    shared = await http.post(
        f"/mentorships/{mentorship_id}/review-summaries/2027-h1/approve",
        json={},
        headers=tokens.headers(sharer["mentee_id"]),
    )
    assert shared.status_code == 200, shared.text

    async def table_shows_the_decisions() -> str:
        await project(api_stack.store)
        await page.reload()
        return await page.locator("main").inner_text()

    await assert_eventually(
        table_shows_the_decisions,
        lambda text: f"1 shared · 0 withheld · {len(pairs) - 1} pending" in text,
        timeout=30,
        message="the decisions did not show",
    )
    row = page.get_by_role("row", name=re.compile(sharer["mentee_id"]))
    await expect(row.get_by_role("cell").nth(1)).to_have_text("shared")
    other = page.get_by_role("row", name=re.compile(pairs[1]["mentee_id"]))
    await expect(other).to_contain_text("pending: awaiting the mentee")
    await expect(other.get_by_role("link", name=re.compile("Workflow of"))).to_have_attribute(
        "href", re.compile(quote(f'MentorflowMenteeId="{pairs[1]["mentee_id"]}"', safe=""))
    )
    await assert_accessible(page)
    await screenshot(page, "review-cycles")


async def test_hr_forgets_a_person_after_seeing_what_will_be_erased(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    spec = cohort_spec()
    cohort_id = spec["cohort_id"]
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]
    await _cohort_projected(api_stack, cohort_id, len(pairs))
    mentee_id = pairs[0]["mentee_id"]
    await console.sign_in(page, Role.HR_ADMIN)
    await page.get_by_role("link", name="Forget a person").click()

    await page.get_by_role("button", name="Show what will be erased").click()
    await expect(page.locator("#person_id-problems")).to_contain_text("give the person's id")
    await page.get_by_label("Person id").fill(mentee_id)
    await page.get_by_role("button", name="Show what will be erased").click()

    await expect(page.get_by_role("heading", name=f"Forget {mentee_id}?")).to_be_visible()
    table = page.get_by_role("table", name=f"Relationships of {mentee_id}")
    await expect(table).to_contain_text(f"mentorship-{cohort_id}-{mentee_id}")
    await expect(page.locator("main")).to_contain_text("goals and their motivation")
    await assert_accessible(page)
    await screenshot(page, "forget")
    await page.get_by_role("button", name=f"Forget {mentee_id} for good").click()

    await expect(page.get_by_role("heading", name=f"{mentee_id} forgotten")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text(
        re.compile(f"{mentee_id} (is forgotten|had been forgotten before)")
    )
    again = await http.post(f"/people/{mentee_id}/forget", headers=tokens.hr)
    assert again.status_code == 200, again.text
    assert again.json()["already_forgotten"] is True


async def test_hr_pages_refuse_posts_without_the_form_token_and_hide_from_participants(
    console: Console, page: Page, new_context: Any
) -> None:
    await console.sign_in(page, Role.HR_ADMIN)
    posts: dict[str, dict[str, str | float | bool]] = {
        "/hr/cohorts/new": {"spec_text": "cohort_id: x"},
        "/hr/cohorts/c-1/overrides/check": {"mentee_id": "p-1", "mentor_id": "p-2"},
        "/hr/cohorts/c-1/overrides": {"mentee_id": "p-1", "mentor_id": "p-2"},
        "/hr/cohorts/c-1/approval": {},
        "/hr/cohorts/c-1/review-cycles": {"cycle_id": "x"},
        "/hr/people/forget/confirm": {"person_id": "p-1"},
        "/hr/people/forget": {"person_id": "p-1", "confirmed": "yes"},
    }
    refused = {
        path: (await page.request.post(f"{console.base_url}{path}", form=form)).status
        for path, form in posts.items()
    }
    participant_context = await new_context()
    participant = await participant_context.new_page()
    await console.sign_in(participant, Role.MENTEE, "p-007")
    hidden = {
        path: (await participant.request.get(f"{console.base_url}{path}")).status
        for path in ("/hr/cohorts/new", "/hr/people/forget", "/hr/cohorts/c-1/review-cycles")
    }

    assert set(refused.values()) == {403}, refused
    assert set(hidden.values()) == {404}, hidden
