"""Journeys through the console in Chromium, as a mentor, a mentee and HR would take them."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import BrowserContext, Page, expect

from mentorflow.api.read_models import cohort_summary, mentorship_overview
from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import MODULES, Tokens, cohort_spec, project, start_pair
from tests.console.conftest import Console, add_goal, assert_accessible, screenshot, train
from tests.support import assert_eventually


async def _projected(api_stack: ApiStack, mentorship_id: str) -> None:
    """Wait until the pair's relationship is in the read models (the list page reads them)."""

    async def probe() -> object:
        await project(api_stack.store)
        return await mentorship_overview(api_stack.store.pool, mentorship_id)

    await assert_eventually(probe, timeout=30, message="the relationship was not projected")


async def _relationship(page: Page, console: Console, mentorship_id: str) -> None:
    await page.goto(f"{console.base_url}/relationships/{mentorship_id}")
    await expect(page.get_by_role("heading", name="Where it stands")).to_be_visible()


async def test_a_mentor_and_a_mentee_onboard_log_a_conversation_and_give_feedback(
    console: Console, api_stack: ApiStack, context: BrowserContext, new_context: object
) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await _projected(api_stack, pair.mentorship_id)
    mentee = await context.new_page()
    mentor_context = await new_context(timezone_id="Europe/Berlin")  # type: ignore[operator]
    mentor = await mentor_context.new_page()

    # The mentee signs in, finds the relationship, trains and sets two goals.
    await console.sign_in(mentee, Role.MENTEE, pair.mentee_id)
    await expect(mentee.get_by_role("heading", name="My relationships")).to_be_visible()
    await assert_accessible(mentee)
    await screenshot(mentee, "my-relationships")
    await mentee.get_by_role("link", name=f"Mentored by {pair.mentor_id}").click()
    await expect(mentee.get_by_text("Still needed to finish onboarding")).to_be_visible()
    await train(mentee, MODULES)
    await add_goal(mentee, "short", "Lead a design review ✓ — Ünïcödé")
    await add_goal(mentee, "long", "Become a staff engineer")

    # The mentor signs in (dates in Berlin time), trains, and tries a conversation without an
    # action plan: the browser will not send it, and the server refuses it too.
    await console.sign_in(mentor, Role.MENTOR, pair.mentor_id)
    await _relationship(mentor, console, pair.mentorship_id)
    await expect(mentor.get_by_text("Dates are shown in Europe/Berlin.")).to_be_visible()
    await train(mentor, MODULES)
    form = mentor.locator("#log_conversation form")
    await form.get_by_label("Lead a design review").check()
    await form.get_by_role("button", name="Log the conversation").click()
    first_item = form.get_by_label("Action item 1")
    assert await first_item.evaluate("input => !input.validity.valid")
    await expect(form.get_by_text("Every conversation ends with an action plan")).to_be_visible()
    await form.evaluate(  # an old browser, or a person who removed the check
        "form => form.querySelectorAll('[required]').forEach(i => i.removeAttribute('required'))"
    )
    await form.get_by_role("button", name="Log the conversation").click()
    refusal = mentor.locator("#log_conversation-action_items-problems")
    await expect(refusal).to_contain_text("must conclude with an action plan")
    await expect(mentor.locator("fieldset.plan")).to_have_attribute("aria-invalid", "true")
    await screenshot(mentor, "conversation-refused")

    form = mentor.locator("#log_conversation form")
    await expect(form.get_by_label("Lead a design review")).to_be_checked()  # kept
    await form.get_by_label("Action item 1").fill("Draft the design-review proposal")
    await form.get_by_label("Due (Europe/Berlin)").first.fill("2099-01-15T10:00")
    await form.get_by_role("button", name="Log the conversation").click()
    await expect(mentor.get_by_text("Saved: log a career conversation")).to_be_visible()
    item = mentor.locator("#complete_action_item li", has_text="Draft the design-review")
    await expect(item).to_contain_text("2099-01-15 10:00")  # as typed, in Berlin time
    await assert_accessible(mentor)

    # The mentee sees the item in UTC, completes it and gives feedback with ratings.
    await _relationship(mentee, console, pair.mentorship_id)
    await expect(mentee.get_by_text("Dates are shown in UTC.")).to_be_visible()
    await expect(
        mentee.locator("#complete_action_item li", has_text="Draft the design-review")
    ).to_contain_text("2099-01-15 09:00")
    await mentee.get_by_role("button", name="Complete “Draft the design-review proposal”").click()
    await expect(mentee.get_by_text("Saved: complete an action item")).to_be_visible()
    await expect(mentee.locator("#complete_action_item .done")).to_have_count(1)
    await mentee.get_by_text("Give feedback on conversation 1").click()
    feedback = mentee.locator("#give_feedback form")
    for rating, value in (("Usefulness", "5"), ("Listening", "4"), ("Clarity", "5")):
        await feedback.get_by_label(rating).select_option(value)
    await feedback.get_by_label("Comment").fill("Very helpful, thank you")
    await feedback.get_by_role("button", name="Send feedback").click()
    await expect(mentee.get_by_text("Saved: give your own feedback")).to_be_visible()
    await expect(mentee.locator("#give_feedback")).to_contain_text("feedback given")
    await expect(mentee.locator(".stage")).to_have_text("active")
    await mentee.get_by_text("Change “Become a staff engineer”").click()
    await mentee.get_by_label("Progress of “Become a staff engineer” (%)").fill("40")
    await (
        mentee.locator("#goals li", has_text="Become a staff engineer")
        .get_by_role("button", name="Save the goal")
        .click()
    )
    await expect(mentee.get_by_text("Saved: revise a goal")).to_be_visible()
    await expect(mentee.locator("#goals li", has_text="Become a staff engineer")).to_contain_text(
        "40%"
    )
    await assert_accessible(mentee)
    await screenshot(mentee, "relationship")
    await mentee.set_viewport_size({"width": 390, "height": 844})  # a phone
    await screenshot(mentee, "relationship-phone")

    state = await pair.handle.query("state")
    assert state["conversations_held"] == 1
    assert state["feedback_given"] == ["1:mentee"]
    assert state["goals"]["g-1"]["description"] == "Lead a design review ✓ — Ünïcödé"
    assert state["goals"]["g-2"]["progress"] == 40


async def test_a_participant_opening_another_pairs_page_gets_404(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    mine = await start_pair(api_stack.client, api_stack.task_queue)
    theirs = await start_pair(api_stack.client, api_stack.task_queue)
    await project(api_stack.store)
    await console.sign_in(page, Role.MENTEE, mine.mentee_id)

    response = await page.goto(f"{console.base_url}/relationships/{theirs.mentorship_id}")
    unknown = await page.request.get(f"{console.base_url}/relationships/mentorship-nope-x")
    posted = await page.request.post(
        f"{console.base_url}/relationships/{theirs.mentorship_id}/goals",
        form={"horizon": "short", "description": "not mine", "csrf_token": await _csrf(page)},
    )

    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert unknown.status == 404
    assert posted.status == 404
    assert (await theirs.handle.query("state"))["goals"] == {}


async def _csrf(page: Page) -> str:
    value = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert value
    return value


async def test_a_form_post_without_the_csrf_token_is_refused(
    console: Console, api_stack: ApiStack, page: Page
) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await console.sign_in(page, Role.MENTEE, pair.mentee_id)
    url = f"{console.base_url}/relationships/{pair.mentorship_id}/goals"

    without = await page.request.post(url, form={"horizon": "short", "description": "x"})
    wrong = await page.request.post(
        url, form={"horizon": "short", "description": "x", "csrf_token": "forged"}
    )
    other_site = await page.request.post(
        url,
        form={"horizon": "short", "description": "x", "csrf_token": await _csrf(page)},
        headers={"Origin": "https://evil.example"},
    )
    signed_out = await page.context.browser.new_context()  # type: ignore[union-attr]
    anonymous = await signed_out.request.post(url, form={"horizon": "short"}, max_redirects=0)

    assert (without.status, wrong.status, other_site.status) == (403, 403, 403)
    assert "did not come from this console" in await without.text()
    assert anonymous.status == 303  # to the sign-in page
    assert (await pair.handle.query("state"))["goals"] == {}
    await signed_out.close()


async def test_a_sign_in_link_works_once(console: Console, page: Page) -> None:
    link = await console.link(Role.HR_ADMIN)
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cohorts")).to_be_visible()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "mentorflow_console")

    second = await page.context.browser.new_context()  # type: ignore[union-attr]
    again = await second.new_page()
    await again.goto(link)
    await again.get_by_role("button", name="Sign in").click()

    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    await expect(
        again.get_by_role("heading", name="This sign-in link cannot be used")
    ).to_be_visible()
    await second.close()


async def test_hr_sees_the_cohorts_and_a_matching(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    spec = cohort_spec()
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    pairs = launched.json()["outcome"]["pairs"]

    async def projected() -> object:
        await project(api_stack.store)
        return await cohort_summary(api_stack.store.pool, spec["cohort_id"])

    await assert_eventually(projected, timeout=30, message="the cohort was not projected")

    await console.sign_in(page, Role.HR_ADMIN)
    row = page.get_by_role("row", name=re.compile(spec["cohort_id"]))
    await expect(row).to_contain_text(spec["program"]["name"])
    await assert_accessible(page)
    await screenshot(page, "cohorts")
    await row.get_by_role("link", name=f"Matching of {spec['cohort_id']}").click()

    await expect(
        page.get_by_role("heading", name=f"Matching of {spec['cohort_id']}")
    ).to_be_visible()
    table = page.get_by_role("table")
    await expect(table.locator("tbody tr")).to_have_count(len(pairs))
    await expect(table).to_contain_text(pairs[0]["reasons"][0])
    await assert_accessible(page)
    await screenshot(page, "matching")
    participant_view = await page.request.get(f"{console.base_url}/relationships")
    assert participant_view.ok  # HR is sent on to the cohorts

    # HR opens a pair's relationship (read-only in the console): no participant's forms.
    first = pairs[0]
    mentorship_id = f"mentorship-{spec['cohort_id']}-{first['mentee_id']}"
    await _projected(api_stack, mentorship_id)
    await table.get_by_role("link", name=first["mentee_id"], exact=True).click()
    names = {person["id"]: person["name"] for person in spec["participants"]}
    await expect(  # names from the spec, not ids
        page.get_by_role(
            "heading", name=f"{names[first['mentor_id']]} mentors {names[first['mentee_id']]}"
        )
    ).to_be_visible()
    await expect(page.locator("form[action$='/conversations']")).to_have_count(0)
