"""Signing in and out, and the console's front page.

A sign-in link (`mentorflow login-link`) opens a page with one button: the link's token is
redeemed by that page's POST, not by the GET, so a mail scanner or a link preview that
fetches the link does not use it up. `start_session` is the one way from a verified identity
to a session: the OIDC callback (`mentorflow.console.oidc`) verifies the ID token, makes an
`Identity` and calls it. With single sign-on configured the front page offers it too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from mentorflow.api.context import Services
from mentorflow.console.auth import (
    SESSION_COOKIE,
    CheckedForm,
    cookie_options,
    ensure_same_origin,
    find_viewer,
)
from mentorflow.console.sessions import ConsoleSessionStore, Identity
from mentorflow.console.web import error_page, render, time_zone_or_utc

router = APIRouter(include_in_schema=False)

LinkToken = Annotated[str, Query(min_length=20, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


async def start_session(
    request: Request, store: ConsoleSessionStore, identity: Identity, time_zone: str
) -> Response:
    """Start a session for a verified identity and send the browser to its start page."""
    started = await store.start(identity, time_zone_or_utc(time_zone))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.session_id,
        expires=started.expires_at,
        **cookie_options(request),
    )
    return response


@router.get("/")
async def front_page(request: Request, services: Services) -> Response:
    """The viewer's start page, or how to sign in."""
    viewer = await find_viewer(request, services)
    if viewer is None:
        sso = services.oidc is not None and services.oidc.config.signs_in_console
        return render(request, "signed_out.html", {"viewer": None, "sso": sso})
    return RedirectResponse("/hr/cohorts" if viewer.is_hr else "/relationships", status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request, token: LinkToken) -> Response:
    """The page of a sign-in link: one button that uses the link."""
    return render(request, "sign_in.html", {"viewer": None, "token": token})


@router.post("/sign-in")
async def sign_in(
    request: Request,
    services: Services,
    token: Annotated[str, Form(max_length=128)],
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    """Use a sign-in link: a session for its person, or why not."""
    ensure_same_origin(request)
    store = ConsoleSessionStore(services.pool)
    identity = await store.redeem_link(token)
    if identity is None:
        return error_page(
            request,
            400,
            "This sign-in link cannot be used",
            "It was used already or is older than 15 minutes. Ask for a new link "
            "(mentorflow login-link).",
        )
    return await start_session(request, store, identity, time_zone)


@router.post("/sign-out")
async def sign_out(request: Request, services: Services, _form: CheckedForm) -> Response:
    """End the session, wherever its cookie is."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        await ConsoleSessionStore(services.pool).end(session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, **cookie_options(request))
    return response
