"""A mentor and a mentee in a launched cohort, through the console in Chromium: onboarding, two
conversations with action plans, a challenge, feedback, the review summary, the closing
survey. Names, languages and time zones come from the cohort spec."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from mentorflow.api.read_models import mentorship_overview
from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Tokens, cohort_spec, onboard, project, start_pair
from tests.console.conftest import Console, add_goal, assert_accessible, screenshot, train
from tests.support import assert_eventually
from workflows.mentorship import MentorshipWorkflow

MENTEE_NAME = "Zoë Ñúñez-Đặng"  # (no CJK: Debian's Chromium here has no CJK font)
PRIVATE_NOTE = "Seems overloaded this quarter — keep it between us"
CYCLE = "2027-h1"


async def _launch(api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """Launch the example cohort, a mentee renamed in Unicode; their pair, projected."""
    spec = cohort_spec()
    renamed = next(p for p in spec["participants"] if p["roles"] == ["mentee"])
    renamed["name"] = MENTEE_NAME
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]
    pair = next(pair for pair in pairs if pair["mentee_id"] == renamed["id"])
    people = {person["id"]: person for person in spec["participants"]}
    mentorship_id = f"mentorship-{spec['cohort_id']}-{pair['mentee_id']}"
    await assert_eventually(
        _projected(api_stack, mentorship_id), timeout=30, message="the pair was not projected"
    )
    return {
        "spec": spec,
        "mentorship_id": mentorship_id,
        "mentor": people[pair["mentor_id"]],
        "mentee": people[pair["mentee_id"]],
    }


def _projected(api_stack: ApiStack, mentorship_id: str) -> Any:
    async def probe() -> object:
        await project(api_stack.store)
        return await mentorship_overview(api_stack.store.pool, mentorship_id)

    return probe


async def _log_conversation(
    page: Page, zone: str, goal: str, item: str, *, notes: str = ""
) -> None:
    form = page.locator("#log_conversation form")
    await form.get_by_label(goal).check()
    await form.get_by_label("Action item 1").fill(item)
    await form.get_by_label(f"Due ({zone})").first.fill("2099-01-15T10:00")
    if notes:
        await form.get_by_label("Private notes").fill(notes)
    await form.get_by_role("button", name="Log the conversation").click()
    await expect(page.get_by_text("Saved: log a career conversation")).to_be_visible()


async def test_a_pair_goes_from_onboarding_to_review_summary_and_closing_survey(
    console: Console,
    api_stack: ApiStack,
    http: httpx.AsyncClient,
    tokens: Tokens,
    new_context: Any,
) -> None:
    launched = await _launch(api_stack, http, tokens)
    mentor, mentee = launched["mentor"], launched["mentee"]
    mentorship_id = launched["mentorship_id"]
    modules = launched["spec"]["program"]["training_modules"]
    url = f"{console.base_url}/relationships/{mentorship_id}"
    # Both browsers are in UTC: the pages use each person's zone from the spec instead.
    mentee_page = await (await new_context(timezone_id="UTC")).new_page()
    mentor_page = await (await new_context(timezone_id="UTC")).new_page()

    # The mentee finds the relationship by the mentor's name, with the next thing to do.
    await console.sign_in(mentee_page, Role.MENTEE, mentee["id"])
    card = mentee_page.locator(".cards li", has_text=mentor["name"])
    await expect(card.locator(".next-step")).to_contain_text("onboarding")
    await expect(mentee_page.locator(".who")).to_have_text(MENTEE_NAME)
    await expect(
        mentee_page.get_by_text(f"Dates are shown in {mentee['timezone']}.")
    ).to_be_visible()
    await card.get_by_role("link", name=f"Mentored by {mentor['name']}").click()
    heading = mentee_page.get_by_role("heading", level=1)
    await expect(heading).to_have_text(f"Mentored by {mentor['name']}")
    assert await heading.locator("span").get_attribute("lang") == mentor["languages"][0]
    await train(mentee_page, modules)
    await add_goal(mentee_page, "short", "Lead a design review ✓ — Ünïcödé")
    await add_goal(mentee_page, "long", "Become a staff engineer")
    await expect(mentee_page.locator("#give_feedback .empty")).to_contain_text("No conversation")
    await expect(mentee_page.locator("#set_challenge .empty")).to_contain_text("No challenges")
    await expect(mentee_page.locator("#reviews .empty")).to_contain_text("No review summary")

    # The mentor sees the mentee's Unicode name, their load against capacity, and logs the
    # kickoff with a private note, then sets a challenge and logs a second conversation.
    await console.sign_in(mentor_page, Role.MENTOR, mentor["id"])
    await mentor_page.goto(url)
    await expect(mentor_page.get_by_role("heading", level=1)).to_have_text(
        f"Mentoring {MENTEE_NAME}"
    )
    await expect(mentor_page.locator("#mentor-load")).to_contain_text(" of ")
    await train(mentor_page, modules)
    zone = mentor["timezone"]
    await _log_conversation(
        mentor_page, zone, "Lead a design review", "Draft the proposal", notes=PRIVATE_NOTE
    )
    await expect(mentor_page.locator(".stage")).to_have_text("active")
    form = mentor_page.locator("#set_challenge form")
    await form.get_by_label("Skill").fill("stakeholder-management")
    await form.get_by_label("The challenge").fill("Present the proposal to two other teams")
    await form.get_by_label(f"Due ({zone})").fill("2099-02-01T09:00")
    await form.get_by_role("button", name="Set the challenge").click()
    await expect(
        mentor_page.get_by_text("Saved: set a skill-development challenge")
    ).to_be_visible()
    await _log_conversation(mentor_page, zone, "Become a staff engineer", "Shadow a staff engineer")
    history = mentor_page.locator("#give_feedback .history > li")
    await expect(history).to_have_count(2)
    await expect(history.first).to_contain_text("Conversation 2")
    await expect(history.first).to_contain_text("Shadow a staff engineer")
    await expect(history.nth(1)).to_contain_text("Draft the proposal")
    await expect(history.first).to_contain_text("2099-01-15 10:00")  # as typed, mentor's zone
    await expect(mentor_page.locator("#reviews")).to_have_count(0)
    await expect(history.nth(1).locator(".private-note")).to_contain_text(PRIVATE_NOTE)
    await assert_accessible(mentor_page)
    await screenshot(mentor_page, "relationship-mentor")

    # The mentee: history, the item, feedback with ratings, challenge progress; never the
    # mentor's private note.
    await mentee_page.goto(url)
    await expect(mentee_page.locator("#give_feedback .history > li")).to_have_count(2)
    assert PRIVATE_NOTE not in await mentee_page.content()
    await expect(mentee_page.locator(".private-note")).to_have_count(0)
    await mentee_page.get_by_role("button", name="Complete “Draft the proposal”").click()
    await expect(mentee_page.get_by_text("Saved: complete an action item")).to_be_visible()
    await mentee_page.get_by_text("Give feedback on conversation 2").click()
    feedback = mentee_page.locator("#give_feedback form").first
    for rating, value in (("Usefulness", "5"), ("Listening", "4"), ("Clarity", "5")):
        await feedback.get_by_label(rating).select_option(value)
    await feedback.get_by_role("button", name="Send feedback").click()
    await expect(mentee_page.get_by_text("Saved: give your own feedback")).to_be_visible()
    await mentee_page.get_by_text("Record progress on “Present the proposal").click()
    await mentee_page.get_by_label(
        "Progress of “Present the proposal to two other teams” (%)"
    ).fill("50")
    await mentee_page.get_by_role("button", name="Save progress").click()
    await expect(mentee_page.get_by_text("Saved: record progress on a challenge")).to_be_visible()
    await expect(mentee_page.locator("#set_challenge li")).to_contain_text("50%")
    await assert_accessible(mentee_page)

    # HR starts a review cycle; the mentee reads the draft, rewords it and shares it.
    await project(api_stack.store)
    started = await http.post(
        "/review-cycles",
        json={"cohort_id": launched["spec"]["cohort_id"], "cycle_id": CYCLE},
        headers=tokens.hr,
    )
    assert started.status_code == 202, started.text
    workflow = api_stack.client.get_workflow_handle(mentorship_id)
    await assert_eventually(
        lambda: workflow.query(MentorshipWorkflow.state),
        lambda state: CYCLE in state.reviews,
        timeout=30,
    )
    await mentee_page.goto(url)
    await expect(mentee_page.get_by_role("link", name=f"Review cycle {CYCLE}")).to_be_visible()
    # My relationships names it as the next thing to do (once projected).
    await project(api_stack.store)
    await mentee_page.get_by_role("link", name="My relationships").click()
    await mentee_page.get_by_role("link", name=f"Decide on your review summary ({CYCLE})").click()
    await expect(mentee_page.get_by_role("heading", name="The draft")).to_be_visible()
    await expect(mentee_page.locator("#summary-text")).to_contain_text("Held 2 of")
    assert PRIVATE_NOTE not in await mentee_page.content()
    await assert_accessible(mentee_page)
    await screenshot(mentee_page, "review-summary")
    wording = "Two conversations: a design-review proposal, and shadowing a staff engineer. ✓"
    await mentee_page.get_by_label("Your wording").fill(wording)
    await mentee_page.get_by_role("button", name="Share the summary").click()
    await expect(mentee_page.get_by_text("Saved: the summary is shared.")).to_be_visible()
    await expect(mentee_page.locator("#review-status")).to_have_text("shared")
    await expect(mentee_page.locator("#summary-text")).to_have_text(wording)
    # The mentor may not read it: a refusal page, not the summary.
    refused = await mentor_page.goto(f"{url}/review-summaries/{CYCLE}")
    assert refused is not None
    assert refused.status == 403
    assert wording not in await mentor_page.content()

    # HR closes the relationship: the mentee answers the closing survey.
    closed = await http.post(
        f"/mentorships/{mentorship_id}/close", json={"reason": "completed"}, headers=tokens.hr
    )
    assert closed.status_code == 200, closed.text
    await mentee_page.goto(url)
    survey = mentee_page.locator("#submit_survey form")
    await survey.get_by_label("How satisfied").select_option("5")
    await survey.get_by_label("How valuable").select_option("4")
    await survey.get_by_label("Yes").check()
    await survey.get_by_label("Comment").fill("Très utile — merci")
    await assert_accessible(mentee_page)
    await screenshot(mentee_page, "closing-survey")
    await survey.get_by_role("button", name="Send the survey").click()
    await expect(mentee_page.locator("#submit_survey")).to_contain_text("you answered")
    await mentee_page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert await mentee_page.evaluate("document.documentElement.scrollWidth <= 390")
    await screenshot(mentee_page, "relationship-closing-phone")

    state = await workflow.query(MentorshipWorkflow.state)
    assert state.conversations_held == 2
    assert state.reviews[CYCLE].status == "shared"
    assert state.reviews[CYCLE].summary.text == wording
    assert state.surveys[mentee["id"]].satisfaction == 5
    assert state.challenges["c-1"].progress == 50


async def test_a_review_summary_is_the_mentees_to_share_or_decline_and_hidden_from_others(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    other = await start_pair(api_stack.client, api_stack.task_queue)
    await onboard(http, tokens, pair)
    await project(api_stack.store)
    started = await http.post(
        "/review-cycles", json={"cohort_id": pair.cohort_id, "cycle_id": CYCLE}, headers=tokens.hr
    )
    assert started.status_code == 202, started.text
    await assert_eventually(
        lambda: pair.handle.query(MentorshipWorkflow.state),
        lambda state: CYCLE in state.reviews,
        timeout=30,
    )
    path = f"{console.base_url}/relationships/{pair.mentorship_id}/review-summaries/{CYCLE}"

    # Someone of another pair learns nothing: 404, like a relationship that does not exist.
    await console.sign_in(page, Role.MENTEE, other.mentee_id)
    stranger = await page.request.get(path)
    assert stranger.status == 404

    # The mentee's wording is checked like the API's body: the problem is shown by the field,
    # and nothing is shared.
    await console.sign_in(page, Role.MENTEE, pair.mentee_id)
    await page.goto(path)
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = await page.request.post(
        f"{path}/approve", form={"edited_text": "fine\x00text", "csrf_token": token or ""}
    )
    assert refused.status == 422
    await page.set_content(await refused.text())
    await expect(page.locator("#approve_review_summary-edited_text-problems")).to_be_visible()
    state = await pair.handle.query(MentorshipWorkflow.state)
    assert state.reviews[CYCLE].status == "awaiting_mentee"

    # The mentee declines: the summary stays private, at once.
    await page.goto(path)
    await page.get_by_role("button", name="Keep it private").click()
    await expect(page.get_by_text("Saved: the summary stays private.")).to_be_visible()
    await expect(page.locator("#review-status")).to_have_text("not shared")
    await expect(page.get_by_role("button", name="Share the summary")).to_have_count(0)
    state = await pair.handle.query(MentorshipWorkflow.state)
    assert state.reviews[CYCLE].status == "withheld"

    # HR reads it (as the API lets HR), and cannot decide for the mentee.
    await console.sign_in(page, Role.HR_ADMIN)
    await page.goto(path)
    await expect(page.get_by_role("heading", name="The draft (not shared)")).to_be_visible()
    await expect(page.get_by_role("button", name="Keep it private")).to_have_count(0)
