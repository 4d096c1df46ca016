"""The notification-preferences page against the real stack: over HTTP (httpx, one client per
signed-in person) and once in Chromium, as a participant following an email's unsubscribe
link. What is stored is read back through the API's own ``GET``, as the notifier reads it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from mentorflow.api.read_models import mentorship_overview
from mentorflow.api.tokens import Role
from mentorflow.console.auth import CSRF_FIELD, SESSION_COOKIE
from mentorflow.console.sessions import ConsoleSessionStore
from tests.api.conftest import ApiStack, build_app, serving
from tests.api.support import Tokens, cohort_spec, project, unique
from tests.console.conftest import Console, assert_accessible, screenshot
from tests.support import assert_eventually

NOTHING = {"channel": None, "quiet_hours": None, "digest": None}


@dataclass
class Browser:
    """An HTTP client signed in to the console as one person."""

    http: httpx.AsyncClient
    csrf: str

    async def get(self, url: str) -> httpx.Response:
        """A page."""
        return await self.http.get(url)

    async def post(self, fields: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        """POST /preferences (with the session's form token unless ``csrf`` is False)."""
        data = {CSRF_FIELD: self.csrf, **fields} if csrf else fields
        return await self.http.post("/preferences", data=data)


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


def _path(person_id: str) -> str:
    return f"/people/{person_id}/notification-preferences"


async def _stored(http: httpx.AsyncClient, tokens: Tokens, person_id: str) -> dict[str, Any]:
    """The person's choices as the API's GET answers them (HR's token)."""
    response = await http.get(_path(person_id), headers=tokens.hr)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.pop("person_id") == person_id
    return body


def _checked(page: str, name: str) -> str:
    """The value of the checked radio button ``name`` in a page."""
    found = re.search(rf'name="{name}" value="([a-z]+)" checked', page)
    assert found is not None, f"no {name} is checked"
    return found.group(1)


def _problems(page: str, name: str) -> str:
    """The problems shown next to input ``name``."""
    found = re.search(rf'id="preferences-{name}-problems"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert found is not None, f"no problem shown next to {name}"
    return found.group(1)


# --- over HTTP ---------------------------------------------------------------------------------


async def test_a_participant_sees_their_choices_and_the_navigation_links_the_page(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("reader")
    chosen = {"channel": "email", "quiet_hours": {"start": "21:30", "end": "06:00"}}
    put = await http.put(_path(person), json=chosen, headers=tokens.headers(person))
    assert put.status_code == 200, put.text
    browser = await sign_in(Role.MENTEE, person)

    page = await browser.get("/preferences")
    relationships = await browser.get("/relationships")

    assert page.status_code == 200, page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<h1>Notification preferences</h1>" in page.text
    assert (_checked(page.text, "channel"), _checked(page.text, "quiet_hours")) == (
        "email",
        "window",
    )
    assert 'name="quiet_start" type="time" value="21:30"' in page.text
    assert 'name="quiet_end" type="time" value="06:00"' in page.text
    assert 'name="digest"' not in page.text  # HR's choice only
    assert "Stop emails like this one?" not in page.text
    assert '<a href="/preferences">Notification preferences</a>' in relationships.text


async def test_an_unsubscribe_link_asks_and_one_click_stops_the_emails_keeping_the_rest(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("busy")
    kept = {"channel": "email", "quiet_hours": "off", "digest": "daily"}
    assert (await http.put(_path(person), json=kept, headers=tokens.hr)).status_code == 200
    browser = await sign_in(Role.MENTOR, person)

    asked = await browser.get("/preferences?unsubscribe=reminders")
    unknown = await browser.get("/preferences?unsubscribe=%3Cb%3Ebold%3C%2Fb%3E")
    stop = await browser.post({"person_id": person, "stop": "reminders"})
    after = await browser.get(stop.headers["location"])

    assert asked.status_code == 200, asked.text
    assert "Stop emails like this one?" in asked.text
    assert "reminders of your next conversation" in asked.text
    assert '<input type="hidden" name="stop" value="reminders">' in asked.text
    assert unknown.status_code == 200, unknown.text
    assert "Stop emails like this one?" not in unknown.text
    assert "bold" not in unknown.text
    assert stop.status_code == 303, stop.text
    assert stop.headers["location"] == "/preferences?saved=stopped"
    assert "Saved: emails like that one are stopped." in after.text
    assert _checked(after.text, "channel") == "none"
    assert await _stored(http, tokens, person) == {**kept, "channel": "none"}


async def test_a_saved_form_is_stored_and_a_participant_keeps_the_digest_hr_chose(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("saver")
    assert (await http.put(_path(person), json={"digest": "weekly"}, headers=tokens.hr)).is_success
    browser = await sign_in(Role.MENTEE, person)

    saved = await browser.post(
        {
            "person_id": person,
            "channel": "email",
            "quiet_hours": "window",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        }
    )
    page = await browser.get(saved.headers["location"])
    reset = await browser.post({"channel": "default", "quiet_hours": "off"})  # id: their own

    assert saved.status_code == 303, saved.text
    assert "Saved: the notification preferences are updated." in page.text
    assert reset.status_code == 303, reset.text
    assert await _stored(http, tokens, person) == {
        "channel": None,
        "quiet_hours": "off",
        "digest": "weekly",
    }


async def test_a_bad_form_shows_every_problem_by_its_input_and_stores_nothing(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("typo")
    kept = {"channel": "email", "quiet_hours": {"start": "20:00", "end": "08:00"}, "digest": None}
    assert (await http.put(_path(person), json=kept, headers=tokens.headers(person))).is_success
    browser = await sign_in(Role.MENTEE, person)

    refused = await browser.post(
        {
            "person_id": person,
            "channel": "sms",
            "quiet_hours": "window",
            "quiet_start": "25:00",
            "quiet_end": "",
        }
    )
    empty_window = await browser.post(
        {"quiet_hours": "window", "quiet_start": "22:00", "quiet_end": "22:00"}
    )
    unknown_stop = await browser.post({"stop": "match"})

    assert refused.status_code == 422, refused.text
    assert "Choose one of the options." in _problems(refused.text, "channel")
    assert "&#39;25:00&#39; must be a time of day as HH:MM" in _problems(
        refused.text, "quiet_start"
    )
    assert "Give a time of day as HH:MM" in _problems(refused.text, "quiet_end")
    assert 'value="25:00" aria-invalid="true"' in refused.text  # what was typed, marked
    assert empty_window.status_code == 422, empty_window.text
    assert "quiet hours need a window" in _problems(empty_window.text, "quiet_hours")
    assert unknown_stop.status_code == 422, unknown_stop.text
    assert "cannot be stopped here" in _problems(unknown_stop.text, "_form")
    assert await _stored(http, tokens, person) == kept


async def test_a_post_without_the_form_token_is_refused_and_changes_nothing(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("forged")
    browser = await sign_in(Role.MENTEE, person)

    forged = await browser.post({"person_id": person, "stop": "reminders"}, csrf=False)
    wrong = await browser.post({CSRF_FIELD: "not-the-token", "stop": "reminders"}, csrf=False)

    assert (forged.status_code, wrong.status_code) == (403, 403)
    assert await _stored(http, tokens, person) == NOTHING


async def test_another_participants_page_is_the_404_of_an_unknown_person(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    owner, stranger = unique("owner"), unique("stranger")
    assert (await http.put(_path(owner), json={"channel": "email"}, headers=tokens.hr)).is_success
    browser = await sign_in(Role.MENTEE, stranger)

    theirs = await browser.get(f"/preferences?person_id={owner}")
    nobody = await browser.get("/preferences?person_id=nobody-ever")
    malformed = await browser.get("/preferences?person_id=%3Cscript%3E")
    written = await browser.post({"person_id": owner, "channel": "none"})
    stopped = await browser.post({"person_id": owner, "stop": "reminders"})

    assert [answer.status_code for answer in (theirs, nobody, malformed, written, stopped)] == [
        404
    ] * 5
    assert theirs.text == nobody.text == written.text
    assert owner not in theirs.text
    assert (await _stored(http, tokens, owner))["channel"] == "email"


async def test_hr_picks_a_person_and_sets_their_digest(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    contact = unique("hr-contact")
    hr = await sign_in(Role.HR_ADMIN)

    picker = await hr.get("/preferences?unsubscribe=digest")
    bad_id = await hr.get("/preferences?person_id=not%20an%20id")
    empty_id = await hr.get("/preferences?person_id=")
    page = await hr.get(f"/preferences?person_id={contact}&unsubscribe=digest")
    saved = await hr.post(
        {"person_id": contact, "channel": "default", "quiet_hours": "off", "digest": "weekly"}
    )
    stopped = await hr.post({"person_id": contact, "stop": "digest"})
    escalations = await hr.get(f"/preferences?person_id={contact}&unsubscribe=escalations")

    assert picker.status_code == 200, picker.text
    assert 'name="person_id"' in picker.text
    assert '<input type="hidden" name="unsubscribe" value="digest">' in picker.text
    assert bad_id.status_code == 422, bad_id.text
    assert "A person id is 1-64 letters" in bad_id.text
    assert empty_id.status_code == 422, empty_id.text
    assert "Give the person&#39;s id." in empty_id.text
    assert page.status_code == 200, page.text
    assert f"Notification preferences of <span>{contact}</span>" in page.text
    assert _checked(page.text, "digest") == "default"
    assert "Stop the digest" in page.text
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/preferences?person_id={contact}&saved=preferences"
    assert stopped.headers["location"] == f"/preferences?person_id={contact}&saved=stopped"
    # Escalations reach every HR contact of the spec: the page says so, with no button.
    assert "every HR contact" in escalations.text
    assert 'name="stop"' not in escalations.text
    assert await _stored(http, tokens, contact) == {
        "channel": None,
        "quiet_hours": "off",
        "digest": "off",
    }


async def test_a_forgotten_persons_page_is_404_for_them_and_for_hr(
    sign_in: SignIn, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("gone")
    assert (await http.put(_path(person), json={"channel": "email"}, headers=tokens.hr)).is_success
    browser = await sign_in(Role.MENTEE, person)
    hr = await sign_in(Role.HR_ADMIN)
    assert (await browser.get("/preferences")).status_code == 200

    forgotten = await http.post(f"/people/{person}/forget", headers=tokens.hr)
    own = await browser.get("/preferences")
    written = await browser.post({"channel": "email"})
    by_hr = await hr.get(f"/preferences?person_id={person}")

    assert forgotten.status_code == 200, forgotten.text
    assert [own.status_code, written.status_code, by_hr.status_code] == [404, 404, 404]
    rows = await http.get(_path(person), headers=tokens.hr)
    assert rows.status_code == 404


async def test_preference_posts_count_against_the_write_rate_limit(
    api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens
) -> None:
    person = unique("hasty")
    async with serving(build_app(api_stack, write_rate_limit="1/minute")) as limited:
        store = ConsoleSessionStore(api_stack.store.pool)
        answer = await limited.post(
            "/sign-in",
            data={"token": await store.create_link(Role.MENTEE, person), "time_zone": "UTC"},
        )
        session = await store.find(answer.cookies[SESSION_COOKIE])
        assert session is not None
        form = {CSRF_FIELD: session.csrf_token, "stop": "nudges"}

        first = await limited.post("/preferences", data=form)
        second = await limited.post("/preferences", data={**form, "stop": "digest"})

    assert first.status_code == 303, first.text
    assert second.status_code == 429, second.text
    assert "Too many changes" in second.text
    assert await _stored(http, tokens, person) == {**NOTHING, "channel": "none"}


# --- in Chromium -------------------------------------------------------------------------------


async def _launched_mentee(
    api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens
) -> tuple[dict[str, Any], str]:
    """A mentee of a launched cohort (so the page knows their zone), projected; and another
    participant's id."""
    spec = cohort_spec()
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    mentee_id = launched.json()["outcome"]["pairs"][0]["mentee_id"]
    mentorship_id = f"mentorship-{spec['cohort_id']}-{mentee_id}"

    async def projected() -> object:
        await project(api_stack.store)
        return await mentorship_overview(api_stack.store.pool, mentorship_id)

    await assert_eventually(projected, timeout=30, message="the pair was not projected")
    people = spec["participants"]
    mentee = next(person for person in people if person["id"] == mentee_id)
    return mentee, next(person["id"] for person in people if person["id"] != mentee_id)


async def test_a_participant_stops_reminders_from_an_email_then_sets_quiet_hours(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    mentee, other_id = await _launched_mentee(api_stack, http, tokens)
    await console.sign_in(page, Role.MENTEE, mentee["id"])

    # The link of a reminder's footer: the question, and one click.
    await page.goto(f"{console.base_url}/preferences?unsubscribe=reminders")
    notice = page.locator("#unsubscribe")
    await expect(notice.get_by_role("heading", name="Stop emails like this one?")).to_be_visible()
    await expect(notice).to_contain_text("reminders of your next conversation")
    await assert_accessible(page)
    await screenshot(page, "preferences-unsubscribe")
    await notice.get_by_role("button", name="Stop these emails").click()
    await expect(page.get_by_text("Saved: emails like that one are stopped.")).to_be_visible()
    await expect(page.get_by_label("None: only messages about my consent")).to_be_checked()
    assert (await _stored(http, tokens, mentee["id"]))["channel"] == "none"

    # Quiet hours in the mentee's own zone (the spec's): an empty window is refused by its
    # field and nothing changes; fixed, it is saved.
    form = page.locator("#preferences")
    await expect(form).to_contain_text(f"in {mentee['timezone']}")
    await expect(page.get_by_text(f"Dates are shown in {mentee['timezone']}.")).to_be_visible()
    await form.get_by_label("From … until …").check()
    await form.get_by_label("Quiet from").fill("22:00")
    await form.get_by_label("Quiet until").fill("22:00")
    await form.get_by_role("button", name="Save preferences").click()
    await expect(page.locator("#preferences-quiet_hours-problems")).to_contain_text(
        "quiet hours need a window"
    )
    assert (await _stored(http, tokens, mentee["id"]))["quiet_hours"] is None
    await assert_accessible(page)
    await form.get_by_label("Quiet until").fill("07:00")
    await form.get_by_role("button", name="Save preferences").click()
    await expect(
        page.get_by_text("Saved: the notification preferences are updated.")
    ).to_be_visible()
    await expect(page.locator("#preferences-quiet_hours-problems")).to_have_count(0)
    assert await _stored(http, tokens, mentee["id"]) == {
        "channel": "none",
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "digest": None,
    }
    await assert_accessible(page)
    await screenshot(page, "preferences")
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing overflows
    assert await page.evaluate("document.documentElement.scrollWidth <= 390")

    # Another participant's preferences: a 404 page, as for a person nobody knows.
    other = await page.request.get(f"{console.base_url}/preferences?person_id={other_id}")
    assert other.status == 404
    assert "There is no such page." in await other.text()
    # The page is in the navigation of every participant page.
    await page.get_by_role("link", name="My relationships").click()
    await page.get_by_role("link", name="Notification preferences").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")
