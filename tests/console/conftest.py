"""The console in a real browser: Debian's Chromium driven by Playwright (pytest-playwright's
asyncio edition, so that the browser, the served app and the Temporal worker share the test
session's event loop), against the API served by uvicorn on a free loopback port.

Playwright's own browser download cannot be reached here; `make test` installs Debian's
``chromium`` when it is missing, and `browser_type_launch_args` passes it as
``executable_path``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Page, expect

from mentorflow.api.tokens import Role
from mentorflow.console.sessions import ConsoleSessionStore
from tests.api.conftest import ApiStack, api_stack, build_app, http, tokens
from tests.support import assert_eventually

__all__ = ["api_stack", "http", "tokens"]  # the API tests' fixtures, used here too

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
AXE = "/static/vendor/axe-core/axe.min.js"


def chromium_path() -> str:
    """Debian's Chromium (or MENTORFLOW_CHROMIUM)."""
    path = os.environ.get("MENTORFLOW_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Headless Debian Chromium (as root, without its sandbox: CI runs as root)."""
    return {"executable_path": chromium_path(), "headless": True, "args": ["--no-sandbox"]}


@dataclass(frozen=True)
class Console:
    """The console served on a loopback port, and its stack."""

    base_url: str
    stack: ApiStack

    async def link(self, role: Role, person_id: str | None = None) -> str:
        """A fresh single-use sign-in link."""
        token = await ConsoleSessionStore(self.stack.store.pool).create_link(role, person_id)
        return f"{self.base_url}/sign-in?token={token}"

    async def sign_in(self, page: Page, role: Role, person_id: str | None = None) -> None:
        """Sign ``page`` in by a sign-in link, as a person would."""
        await page.goto(await self.link(role, person_id))
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
async def console(api_stack: ApiStack) -> AsyncIterator[Console]:
    """The API with its console, served by uvicorn in the test loop on a free port."""
    async with serving_console(api_stack) as served:
        yield served


@asynccontextmanager
async def serving_console(api_stack: ApiStack, **settings: object) -> AsyncIterator[Console]:
    """The console on ``api_stack``, with some settings changed (``temporal_ui_url``)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(api_stack, None, **settings), log_config=None, access_log=False, lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(_started(server), timeout=30, message="uvicorn did not start")
        yield Console(f"http://127.0.0.1:{port}", api_stack)
    finally:
        server.should_exit = True
        await serving
        listener.close()


def _started(server: uvicorn.Server) -> Any:
    async def probe() -> bool:
        return server.started

    return probe


async def assert_accessible(page: Page) -> None:
    """axe-core (vendored) finds no serious or critical violation on the page."""
    await page.add_script_tag(url=AXE)
    violations = await page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    assert violations == [], violations


async def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot for the README, under docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def train(page: Page, modules: Sequence[str]) -> None:
    """The signed-in participant marks each training module completed.

    Each step waits for its own module to show as done: the confirmation text is the same
    for every module, so waiting for it alone would let the next click race the page load
    (and a late load wipe whatever the test does next).
    """
    done = page.locator("#complete_training .done")
    for count, module in enumerate(modules, start=1):
        await page.get_by_role("button", name=f"Mark “{module}” completed").click()
        await expect(done).to_have_count(count)
        await expect(page.get_by_text("Saved: record a completed training module")).to_be_visible()


async def add_goal(page: Page, horizon: str, description: str) -> None:
    """The mentee adds a short- or long-term goal on the relationship page."""
    form = page.locator("#add_goal")
    await form.get_by_label("Short term" if horizon == "short" else "Long term").check()
    await form.get_by_label("Goal", exact=True).fill(description)
    await form.get_by_role("button", name="Add the goal").click()
    # The goal itself, not only the confirmation (the same text after every goal).
    goals = page.get_by_role("region", name="Goals")
    await expect(goals.get_by_text(description, exact=False).first).to_be_visible()
    await expect(page.get_by_text("Saved: add a career goal")).to_be_visible()
