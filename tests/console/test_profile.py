"""The profile pages against the real stack: over HTTP (httpx, one client per signed-in person)
and in Chromium at phone width, as a participant editing their profile and answering the
Mini-IPIP. What is recorded is read back from the person's stream and through the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, ViewportSize, expect

from mentorflow.api.tokens import Role
from mentorflow.console.auth import CSRF_FIELD, SESSION_COOKIE
from mentorflow.console.sessions import ConsoleSessionStore
from tests.api.conftest import ApiStack, build_app
from tests.api.support import Tokens, profiled, unique
from tests.console.conftest import Console, assert_accessible, screenshot

ANSWERS = [5, 2, 4, 2, 5, 1, 4, 3, 4, 2, 4, 1, 5, 1, 1, 2, 3, 4, 3, 4]
"""Openness 75, conscientiousness 63 (0.625), extraversion 88 (0.875), agreeableness 25,
emotional stability 75 (of 100)."""
PHONE = ViewportSize(width=390, height=844)


@dataclass
class Browser:
    """An HTTP client signed in to the console as one person."""

    http: httpx.AsyncClient
    csrf: str

    async def get(self, url: str) -> httpx.Response:
        """A page."""
        return await self.http.get(url)

    async def post(self, url: str, fields: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        """A form (with the session's form token unless ``csrf`` is False)."""
        data = {CSRF_FIELD: self.csrf, **fields} if csrf else fields
        return await self.http.post(url, data=data)


SignIn = Callable[..., Awaitable[Browser]]


@pytest.fixture(scope="module")
async def app(api_stack: ApiStack) -> AsyncIterator[FastAPI]:
    """The API with its console, its lifespan running."""
    built = build_app(api_stack)
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def sign_in(app: FastAPI, api_stack: ApiStack) -> AsyncIterator[SignIn]:
    """Sign a person in by a sign-in link: a client of their own with their session."""
    clients: list[httpx.AsyncClient] = []

    async def signed_in(role: Role, person_id: str | None = None) -> Browser:
        store = ConsoleSessionStore(api_stack.store.pool)
        token = await store.create_link(role, person_id)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
        clients.append(http)
        answer = await http.post("/sign-in", data={"token": token, "time_zone": "UTC"})
        assert answer.status_code == 303, answer.text
        session = await store.find(answer.cookies[SESSION_COOKIE])
        assert session is not None
        return Browser(http, session.csrf_token)

    yield signed_in
    for http in clients:
        await http.aclose()


async def _events(api_stack: ApiStack, person_id: str) -> list[str]:
    return [event.event_type for event in await api_stack.store.read_stream(f"person-{person_id}")]


async def _own(http: httpx.AsyncClient, tokens: Tokens, person_id: str) -> dict[str, Any]:
    """The person's own fields as the API's GET answers them (HR's token)."""
    response = await http.get(f"/people/{person_id}/profile", headers=tokens.hr)
    assert response.status_code == 200, response.text
    own: dict[str, Any] = response.json()["own"]
    return own


def _problems(page: str, form_id: str, name: str) -> str:
    """The problems shown next to input ``name``."""
    found = re.search(rf'id="{form_id}-{name}-problems"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert found is not None, f"no problem shown next to {name}"
    return found.group(1)


def _profile_form(**fields: str) -> dict[str, str]:
    form = {
        "timezone": "America/Sao_Paulo",
        "languages": "pt-BR, en",
        "skill-1-name": "python",
        "skill-1-level": "5",
        "skill-2-name": "negotiation",
        "skill-2-level": "1",
        "skill-3-name": "",
        "skill-3-level": "",
        "wants_to_develop": "public-speaking\r\n\r\nmentoring\r\n",
        "career_objectives": "staff-engineer",
    }
    return {**form, **fields}


def _answers(answers: list[int]) -> dict[str, str]:
    return {f"item-{number}": str(answer) for number, answer in enumerate(answers, start=1)}


# --- over HTTP ---------------------------------------------------------------------------------


async def test_a_participant_sees_their_profile_and_saves_their_own_fields_once(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("ana")
    await profiled(api_stack.store, person)
    browser = await sign_in(Role.MENTEE, person)

    page = await browser.get("/profile")
    relationships = await browser.get("/relationships")
    saved = await browser.post("/profile", _profile_form())
    after = await browser.get(saved.headers["location"])
    again = await browser.post("/profile", _profile_form())

    assert page.status_code == 200, page.text
    assert "<h1>My profile</h1>" in page.text
    assert "<dd>Ana Lima</dd>" in page.text  # the HR system's, opened for the person
    assert "<option selected>Europe/Lisbon</option>" in page.text
    assert 'name="skill-1-name" value="python"' in page.text
    assert '<a href="/profile">My profile</a>' in relationships.text
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/profile?saved=profile"
    assert "Saved: your profile is updated." in after.text
    assert again.status_code == 303, again.text
    assert await _own(http, tokens, person) == {
        "timezone": "America/Sao_Paulo",
        "languages": ["pt-BR", "en"],
        "skills": {"python": 5, "negotiation": 1},
        "wants_to_develop": ["public-speaking", "mentoring"],
        "career_objectives": ["staff-engineer"],
    }
    assert await _events(api_stack, person) == ["PersonProfiled", "ProfileUpdated"]


async def test_a_bad_profile_form_shows_every_problem_by_its_input_and_records_nothing(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("typo")
    await profiled(api_stack.store, person)
    browser = await sign_in(Role.MENTEE, person)
    before = await _own(http, tokens, person)

    refused = await browser.post(
        "/profile",
        _profile_form(
            timezone="Mars/Olympus",
            languages="en, english!",
            **{"skill-2-name": "python", "skill-3-name": "go\x07", "skill-3-level": "9"},
            wants_to_develop="\n".join(f"skill-{index}" for index in range(51)),
            career_objectives="sealed:v2:p-1:AAAA",
        ),
    )
    no_zone = await browser.post("/profile", _profile_form(timezone=""))

    assert refused.status_code == 422, refused.text
    assert "Unknown IANA time zone" in _problems(refused.text, "profile", "timezone")
    assert "must be a language code" in _problems(refused.text, "profile", "languages")
    skills = _problems(refused.text, "profile", "skills")
    assert "Skill row 2: &#39;python&#39; is already listed." in skills
    assert "Skill row 3: choose a level from 0 to 5." in skills
    assert "at most 50 items" in _problems(refused.text, "profile", "wants_to_develop")
    assert "looks like a sealed value" in _problems(refused.text, "profile", "career_objectives")
    assert 'aria-invalid="true" aria-describedby="profile-timezone-problems"' in refused.text
    assert 'value="go' in refused.text  # what was typed is shown again
    assert no_zone.status_code == 422, no_zone.text
    assert "Choose your time zone." in _problems(no_zone.text, "profile", "timezone")
    assert await _own(http, tokens, person) == before
    assert await _events(api_stack, person) == ["PersonProfiled"]


async def test_posts_without_the_form_token_are_refused_and_record_nothing(
    sign_in: SignIn, api_stack: ApiStack
) -> None:
    person = unique("forged")
    await profiled(api_stack.store, person)
    browser = await sign_in(Role.MENTEE, person)

    forged = [
        await browser.post("/profile", _profile_form(), csrf=False),
        await browser.post(
            "/profile/personality", {**_answers(ANSWERS), "consent": "yes"}, csrf=False
        ),
        await browser.post("/profile/personality/withdraw", {}, csrf=False),
    ]

    assert [response.status_code for response in forged] == [403, 403, 403]
    assert await _events(api_stack, person) == ["PersonProfiled"]


async def test_hr_and_people_outside_the_directory_get_a_page_saying_so(
    sign_in: SignIn, api_stack: ApiStack
) -> None:
    stranger = unique("stranger")
    outside = await sign_in(Role.MENTEE, stranger)
    hr = await sign_in(Role.HR_ADMIN)

    answers = [
        await outside.get("/profile"),
        await outside.get("/profile/personality"),
        await outside.post("/profile", _profile_form()),
        await outside.post("/profile/personality", {**_answers(ANSWERS), "consent": "yes"}),
        await hr.get("/profile"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert "not in the people directory yet" in answers[0].text
    assert "There is no such page." in answers[-1].text
    assert await _events(api_stack, stranger) == []


async def test_the_questionnaire_needs_every_answer_and_consent_then_keeps_only_the_scores(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    person = unique("ipip")
    await profiled(api_stack.store, person)
    browser = await sign_in(Role.MENTOR, person)
    partial = {key: value for key, value in _answers(ANSWERS).items() if key != "item-20"}

    refused = await browser.post("/profile/personality", {**partial, "item-7": "6"})
    kept = await browser.post("/profile/personality", {**_answers(ANSWERS), "consent": "yes"})
    page = await browser.get(kept.headers["location"])
    withdrawn = await browser.post("/profile/personality/withdraw", {})
    after = await browser.get(withdrawn.headers["location"])

    assert refused.status_code == 422, refused.text
    assert "Choose one of the five answers." in _problems(refused.text, "traits", "item-20")
    assert "Choose one of the five answers." in _problems(refused.text, "traits", "item-7")
    assert "Tick the box to agree" in _problems(refused.text, "traits", "consent")
    assert 'name="item-1" value="5" checked' in refused.text  # the answers given stay
    assert "<legend>20. Do not have a good imagination.</legend>" in refused.text
    assert kept.status_code == 303, kept.text
    assert "Saved: your traits are scored and kept." in page.text
    assert "<dt>Extraversion</dt><dd>88 of 100</dd>" in page.text
    assert "<dt>Emotional stability</dt><dd>75 of 100</dd>" in page.text
    assert withdrawn.status_code == 303, withdrawn.text
    assert "your consent is withdrawn" in after.text
    assert "None are kept." in after.text
    traits = await http.get(f"/people/{person}/traits", headers=tokens.hr)
    assert traits.json()["traits"] is None
    assert await _events(api_stack, person) == [
        "PersonProfiled",
        "TraitsAssessed",
        "TraitsConsentWithdrawn",
    ]


# --- in Chromium -------------------------------------------------------------------------------


async def test_a_participant_edits_their_profile_on_a_phone(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    person = unique("phone")
    await profiled(api_stack.store, person, skills={"python": 3, "sql": 2})
    await page.set_viewport_size(PHONE)
    await console.sign_in(page, Role.MENTEE, person)

    await page.get_by_role("link", name="My profile").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    hr_system = page.get_by_role("region", name="From the HR system")
    await expect(hr_system).to_contain_text("Ana Lima")
    await assert_accessible(page)
    form = page.locator("#profile")
    await form.get_by_label("Time zone").select_option("Asia/Tokyo")
    await form.get_by_label("Languages").fill("ja, en")
    await form.get_by_label("Level of skill 1").select_option("4")  # python, the first row
    await form.get_by_label("Skill 2", exact=True).fill("")  # sql removed
    await form.get_by_label("Skill 3", exact=True).fill("kubernetes")
    await form.get_by_role("button", name="Save my profile").click()

    # A new skill without a level: named next to the skills, nothing recorded.
    problems = page.locator("#profile-skills-problems")
    await expect(problems).to_contain_text("Skill row 3: choose a level from 0 to 5.")
    assert await _events(api_stack, person) == ["PersonProfiled"]
    await assert_accessible(page)
    await form.get_by_label("Level of skill 3").select_option("2")
    await form.get_by_label("Skills you want to develop").fill("public-speaking\nnegotiation")
    await form.get_by_role("button", name="Save my profile").click()

    await expect(page.get_by_text("Saved: your profile is updated.")).to_be_visible()
    await expect(page.locator("#profile-skills-problems")).to_have_count(0)
    assert await page.evaluate("document.documentElement.scrollWidth <= 390")
    await screenshot(page, "profile-phone")
    assert await _own(http, tokens, person) == {
        "timezone": "Asia/Tokyo",
        "languages": ["ja", "en"],
        "skills": {"python": 4, "kubernetes": 2},
        "wants_to_develop": ["public-speaking", "negotiation"],
        "career_objectives": [],
    }


async def test_a_participant_answers_the_mini_ipip_with_consent_and_withdraws_it(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    person = unique("traits")
    await profiled(api_stack.store, person)
    await page.set_viewport_size(PHONE)
    await console.sign_in(page, Role.MENTOR, person)
    await page.goto(f"{console.base_url}/profile")
    await page.get_by_role("link", name="Personality questionnaire").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Personality questionnaire")
    await assert_accessible(page)

    form = page.locator("#traits")
    labels = ["Very inaccurate", "Moderately inaccurate", "Neither accurate nor inaccurate"]
    labels += ["Moderately accurate", "Very accurate"]
    await expect(form.get_by_role("group")).to_have_count(len(ANSWERS))
    for number, answer in enumerate(ANSWERS, start=1):
        group = form.get_by_role("group", name=re.compile(rf"^{number}\. "))
        await group.get_by_label(labels[answer - 1], exact=True).check()
    await form.get_by_role("button", name="Score and keep my traits").click()

    # Without consent nothing is recorded, and the answers stay as given.
    await expect(page.locator("#traits-consent-problems")).to_contain_text("Tick the box")
    assert await _events(api_stack, person) == ["PersonProfiled"]
    party = form.get_by_role("group", name="1. Am the life of the party.")
    await expect(party.get_by_label("Very accurate", exact=True)).to_be_checked()
    await form.get_by_label(re.compile("I agree that my answers are scored")).check()
    await form.get_by_role("button", name="Score and keep my traits").click()

    kept = page.get_by_role("region", name="Your traits")
    await expect(page.get_by_text("Saved: your traits are scored and kept.")).to_be_visible()
    await expect(kept).to_contain_text("Extraversion")
    await expect(kept).to_contain_text("88 of 100")
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth <= 390")
    await screenshot(page, "personality-phone")
    traits = (await http.get(f"/people/{person}/traits", headers=tokens.hr)).json()["traits"]
    assert traits["extraversion"] == 0.875

    await kept.get_by_role("button", name="Withdraw my consent and remove my traits").click()
    await expect(page.get_by_text("your consent is withdrawn")).to_be_visible()
    await expect(kept).to_contain_text("None are kept.")
    assert (await http.get(f"/people/{person}/traits", headers=tokens.hr)).json()["traits"] is None
