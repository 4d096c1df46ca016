"""`install_console`: the console's routes, static files and error pages on the API app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from mentorflow.console import (
    dashboard,
    hr,
    hr_approval,
    hr_forget,
    hr_launch,
    hr_people_import,
    hr_reviews,
    oidc,
    participants,
    preferences,
    profile,
    sign_in,
)
from mentorflow.console.auth import ConsoleError, SignInRequired
from mentorflow.console.web import STATIC_DIRECTORY, error_page


async def _sign_in_required(_request: Request, _error: Exception) -> Response:
    return RedirectResponse("/", status_code=303)


async def _console_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ConsoleError)
    page = error_page(request, error.status_code, error.title, error.message)
    page.headers.update(error.headers)
    return page


def install_console(app: FastAPI) -> None:
    """Serve the console from ``app``."""
    for module in (
        sign_in,
        oidc,
        participants,
        preferences,
        profile,
        hr_launch,
        hr,
        hr_approval,
        hr_reviews,
        hr_forget,
        hr_people_import,
        dashboard,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(ConsoleError, _console_error)
