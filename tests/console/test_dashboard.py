"""HR's dashboard, pairs at risk and CSV exports, in Chromium against a launched cohort."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from playwright.async_api import ConsoleMessage, Page, expect
from temporalio.service import RPCError

from mentorflow.api.read_models import cohort_dashboard
from mentorflow.api.tokens import Role
from mentorflow.console.exports import cell, csv_text
from tests.api.conftest import ApiStack
from tests.api.support import Pair, Tokens, cohort_spec, onboard, project
from tests.console.conftest import Console, assert_accessible, screenshot
from tests.support import assert_eventually

CHARTS = (
    "stages",
    "cadence",
    "action_plans",
    "ratings",
    "satisfaction",
    "escalations",
    "mentor_load",
    "onboarding",
)


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json() if response.content else None


async def _launch_and_drive(
    api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens
) -> tuple[str, Pair, Pair]:
    """A launched cohort: one pair behind (low ratings, two conversations skipped in a row),
    one closed with both surveys answered, the others still onboarding."""
    spec = cohort_spec()
    cohort_id = spec["cohort_id"]
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    first, second = [
        Pair(
            f"mentorship-{cohort_id}-{pair['mentee_id']}",
            cohort_id,
            pair["mentor_id"],
            pair["mentee_id"],
            api_stack.client.get_workflow_handle(f"mentorship-{cohort_id}-{pair['mentee_id']}"),
        )
        for pair in launched.json()["outcome"]["pairs"][:2]
    ]
    await assert_eventually(
        _started(api_stack, first, second), timeout=30, message="the relationships did not start"
    )

    behind = f"/mentorships/{first.mentorship_id}"
    await onboard(http, tokens, first)
    await _ok(
        await http.post(
            f"{behind}/conversations/1/feedback",
            json={"usefulness": 1, "listening": 2, "clarity": 1},
            headers=tokens.headers(first.mentee_id),
        )
    )
    for _ in range(2):
        await _ok(
            await http.post(
                f"{behind}/conversations/skip", json={}, headers=tokens.headers(first.mentee_id)
            )
        )

    closed = f"/mentorships/{second.mentorship_id}"
    await onboard(http, tokens, second)
    await _ok(
        await http.post(
            f"{closed}/close",
            json={"reason": "completed"},
            headers=tokens.headers(second.mentee_id),
        )
    )
    for person, role, satisfaction in (
        (second.mentee_id, Role.MENTEE, 5),
        (second.mentor_id, Role.MENTOR, 4),
    ):
        await _ok(
            await http.post(
                f"{closed}/feedback",
                json={
                    "person_id": person,
                    "satisfaction": satisfaction,
                    "value": 4,
                    "would_recommend": True,
                },
                headers=tokens.headers(person, role),
            )
        )

    async def projected() -> bool:
        await project(api_stack.store)
        dashboard = await cohort_dashboard(api_stack.store.pool, cohort_id)
        return (
            dashboard is not None
            and dashboard.surveys_received == 2
            and dashboard.conversations_missed == 2
            and first.mentorship_id in dashboard.at_risk_pairs
        )

    await assert_eventually(projected, timeout=30, message="the cohort was not projected")
    return cohort_id, first, second


def _started(api_stack: ApiStack, *pairs: Pair) -> Any:
    async def probe() -> bool:
        for pair in pairs:
            try:
                state = await pair.handle.query("state")
            except RPCError:  # the cohort has not started it yet
                return False
            if state["stage"] != "onboarding":
                return False
        return True

    return probe


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_hr_sees_the_dashboard_charts_the_pairs_at_risk_and_downloads_the_figures(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    cohort_id, behind, closed = await _launch_and_drive(api_stack, http, tokens)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await console.sign_in(page, Role.HR_ADMIN)
    await page.evaluate(
        "() => document.addEventListener('securitypolicyviolation',"
        " e => console.error('CSP violation: ' + e.violatedDirective))"
    )

    # From the cohorts list to the dashboard: every chart is drawn by vega, with its table.
    row = page.get_by_role("row", name=re.compile(cohort_id))
    await row.get_by_role("link", name=f"Dashboard of {cohort_id}").click()
    await expect(page.get_by_role("heading", name=f"Dashboard of {cohort_id}")).to_be_visible()
    for name in CHARTS:
        chart = page.locator(f"#{name}")
        await expect(chart.locator(".chart-view[data-rendered=done] svg")).to_have_count(1)
        await expect(chart.locator("details table")).to_have_count(1)
    # A whole page load too (not an htmx swap): the charts render from DOMContentLoaded.
    await page.reload()
    await expect(page.locator(".chart-view[data-rendered=done] svg")).to_have_count(len(CHARTS))
    await expect(page.locator("#stages svg .mark-rect path")).not_to_have_count(0)
    await page.locator("#satisfaction summary").click()
    satisfaction = page.locator("#satisfaction table")
    await expect(satisfaction.get_by_role("row", name="5 1")).to_be_visible()
    await expect(satisfaction.get_by_role("row", name="4 1")).to_be_visible()
    await expect(page.locator("#cadence")).to_contain_text("missed")
    await assert_accessible(page)
    await screenshot(page, "dashboard")
    assert problems == []

    # CSV of the dashboard figures and of the relationships.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download the dashboard figures (CSV)").click()
    download = await download_info.value
    figures = _csv((await download.path()).read_text(encoding="utf-8"))
    assert download.suggested_filename == f"{cohort_id}-dashboard.csv"
    by_item = {(row["chart"], row["item"], row["series"]): row["value"] for row in figures}
    assert by_item[("Key figures", "Pairs at risk", "")] == "1"
    assert by_item[("Key figures", "Escalations", "")] == "1"
    assert by_item[("Satisfaction (closing surveys)", "5", "")] == "1"
    assert by_item[("Satisfaction (closing surveys)", "4", "")] == "1"
    assert by_item[("Feedback ratings", "usefulness", "1")] == "1"
    assert by_item[("Onboarding funnel", "Kickoff held", "")] == "2"
    missed = [
        row
        for row in figures
        if row["chart"] == "Conversation cadence adherence by week" and row["series"] == "missed"
    ]
    assert sum(int(row["value"]) for row in missed) == 2

    relationships = await page.request.get(
        f"{console.base_url}/hr/cohorts/{cohort_id}/relationships.csv"
    )
    assert relationships.headers["content-type"].startswith("text/csv")
    rows = {row["mentorship_id"]: row for row in _csv(await relationships.text())}
    assert rows[behind.mentorship_id]["consecutive_misses"] == "2"
    assert rows[closed.mentorship_id]["stage"] == "closed"
    assert "private" not in await relationships.text()

    # The pairs at risk: the pair behind, with its reasons, linked to its relationship.
    await page.goto(f"{console.base_url}/hr/cohorts/{cohort_id}/at-risk")
    at_risk = page.get_by_role("row", name=re.compile(behind.mentee_id))
    await expect(at_risk).to_contain_text("2 missed conversation(s) in a row")
    await expect(at_risk).to_contain_text("low feedback ratings")
    await expect(page.get_by_role("row", name=re.compile(closed.mentee_id))).to_have_count(0)
    await assert_accessible(page)
    await screenshot(page, "at-risk")
    await at_risk.get_by_role("link").click()
    names = {person["id"]: person["name"] for person in cohort_spec()["participants"]}
    await expect(
        page.get_by_role(
            "heading", name=f"{names[behind.mentor_id]} mentors {names[behind.mentee_id]}"
        )
    ).to_be_visible()
    await expect(page.locator("form[action$='/conversations']")).to_have_count(0)
    # The kickoff's private notes ("private", see tests.api.support.conversation) stay hidden.
    await expect(page.get_by_text("private", exact=True)).to_have_count(0)


async def test_participants_get_404_on_the_dashboard_at_risk_and_exports(
    console: Console, api_stack: ApiStack, http: httpx.AsyncClient, tokens: Tokens, page: Page
) -> None:
    spec = cohort_spec()
    launched = await http.post("/cohorts", json=spec, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    mentee = launched.json()["outcome"]["pairs"][0]["mentee_id"]
    await console.sign_in(page, Role.MENTEE, mentee)
    base = f"{console.base_url}/hr/cohorts/{spec['cohort_id']}"

    for path in ("/dashboard", "/at-risk", "/dashboard.csv", "/relationships.csv"):
        response = await page.request.get(base + path)
        assert response.status == 404, path
        assert "text/csv" not in response.headers["content-type"]


async def test_an_unknown_cohort_has_no_dashboard(console: Console, page: Page) -> None:
    await console.sign_in(page, Role.HR_ADMIN)
    for path in ("nope-nope", "Not A Cohort!"):
        response = await page.goto(f"{console.base_url}/hr/cohorts/{path}/dashboard")
        assert response is not None
        assert response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    from zoneinfo import ZoneInfo

    text = csv_text(
        ("name", "note"),
        [('=HYPERLINK("http://x")', "+1"), ("-2", "@SUM(A1)"), ('a, "b"\nc', 3)],
        ZoneInfo("UTC"),
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "'+1"]
    assert rows[2] == ["'-2", "'@SUM(A1)"]
    assert rows[3] == ['a, "b"\nc', "3"]
    assert cell(-2, ZoneInfo("UTC")) == "-2"  # a number stays a number
