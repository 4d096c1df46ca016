"""Single sign-on in Chromium: the console's "Sign in with SSO", the development provider's
sign-in page (oidc-provider-mock, as `mentorflow stack up` runs it), and back, signed in with
the role the provider's claims map to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Page, expect

from tests.api.conftest import ApiStack, api_stack
from tests.api.support import unique
from tests.console.conftest import Console, serving_console
from tests.console.oidc_support import MockProvider, mock_provider

__all__ = ["api_stack"]


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with mock_provider() as running:
        yield running


@pytest.fixture(scope="module")
async def sso_console(api_stack: ApiStack, provider: MockProvider) -> AsyncIterator[Console]:
    async with serving_console(api_stack, **provider.settings()) as served:
        yield served


async def sign_in_at_provider(page: Page, console: Console, subject: str) -> None:
    await page.goto(console.base_url)
    await page.get_by_role("link", name="Sign in with SSO").click()
    await expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    await page.get_by_placeholder("sub").fill(subject)
    await page.get_by_role("button", name="Authorize").click()


async def test_hr_signs_in_through_the_provider_and_lands_on_the_cohorts(
    page: Page, sso_console: Console, provider: MockProvider
) -> None:
    subject = unique("hr")
    await provider.set_user(subject, roles=["mentoring-hr"], email=f"{subject}@example.org")

    await sign_in_at_provider(page, sso_console, subject)

    await expect(page).to_have_url(f"{sso_console.base_url}/hr/cohorts")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.get_by_role("heading", name="Cohorts")).to_be_visible()
    await expect(page.locator(".who")).to_have_text("HR")


async def test_a_mentee_signs_in_as_their_participant_and_sees_their_relationships(
    page: Page, sso_console: Console, provider: MockProvider
) -> None:
    subject = unique("sub")
    await provider.set_user(subject, roles=["mentoring-mentee"], employee_id="p-009")

    await sign_in_at_provider(page, sso_console, subject)

    await expect(page).to_have_url(f"{sso_console.base_url}/relationships")
    await expect(page.locator(".who")).to_have_text("p-009")
    await expect(page.get_by_role("link", name="Launch a cohort")).to_have_count(0)


async def test_a_person_without_a_mentorflow_role_is_told_so(
    page: Page, sso_console: Console, provider: MockProvider
) -> None:
    subject = unique("staff")
    await provider.set_user(subject, roles=["staff"])

    await sign_in_at_provider(page, sso_console, subject)

    await expect(page.get_by_role("heading", name="No access to mentorflow")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
