"""Who is looking at a console page: the session cookie, and the form token of every POST.

Console pages authenticate by the session cookie (`mentorflow.console.sessions`), never by a
bearer token; the API's bearer middleware lets their paths through (`is_console_path`). A
signed-in viewer acts as a `Principal` of the API's own kind, so every read and change goes
through the same access rules (`mentorflow.api.access`) and the same change path
(`mentorflow.api.changes.change`) as the API.

Every POST of a signed-in viewer carries the session's form token, in the form
(``csrf_token``) or in the ``X-CSRF-Token`` header (htmx); without it the answer is 403 and
nothing changes. SameSite=Lax already keeps the cookie off cross-site POSTs in current
browsers; the token covers the rest, and a POST whose ``Origin`` is another site is refused
too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from mentorflow.api.context import Services
from mentorflow.api.rate_limits import WriteRateLimiter
from mentorflow.api.tokens import Principal, Role
from mentorflow.console.sessions import ConsoleSession, ConsoleSessionStore

SESSION_COOKIE = "mentorflow_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class ConsoleError(Exception):
    """An error the console shows as a page."""

    def __init__(
        self,
        status_code: int,
        title: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message
        self.headers = headers or {}


class SignInRequired(Exception):
    """No live session: the viewer is sent to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person and their session."""

    session: ConsoleSession
    principal: Principal

    @property
    def is_hr(self) -> bool:
        """Whether HR is signed in."""
        return self.principal.role is Role.HR_ADMIN

    @property
    def person_id(self) -> str | None:
        """The participant's id (None for HR)."""
        return self.principal.person_id

    @property
    def time_zone(self) -> str:
        """The zone dates are shown in."""
        return self.session.time_zone

    @property
    def csrf_token(self) -> str:
        """The form token every POST of this session carries."""
        return self.session.csrf_token


def cookie_options(request: Request) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, and Secure when the browser came over HTTPS (directly, or
    through a proxy listed in MENTORFLOW_TRUSTED_PROXIES: uvicorn's ProxyHeadersMiddleware
    sets the scheme)."""
    return {
        "httponly": True,
        "secure": request.url.scheme == "https",
        "samesite": "lax",
        "path": "/",
    }


async def find_viewer(request: Request, services: Services) -> Viewer | None:
    """The viewer of the request's session cookie, if it names a live session."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id or len(session_id) > 128:
        return None
    session = await ConsoleSessionStore(services.pool).find(session_id)
    if session is None:
        return None
    identity = session.identity
    principal = Principal(identity.role, identity.person_id, f"console-{session.public_id}")
    return Viewer(session, principal)


async def current_viewer(request: Request, services: Services) -> Viewer:
    """The signed-in viewer.

    Raises:
        SignInRequired: No cookie, or its session has ended.
    """
    viewer = await find_viewer(request, services)
    if viewer is None:
        raise SignInRequired
    return viewer


SignedIn = Annotated[Viewer, Depends(current_viewer)]


def ensure_same_origin(request: Request) -> None:
    """Refuse a POST that another site's page sent (when the browser says so).

    Raises:
        ConsoleError: 403.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise ConsoleError(403, "Refused", "This form was sent from another site.")


async def checked_form(request: Request, viewer: SignedIn) -> FormData:
    """The POSTed form, once its form token matches the session's.

    Raises:
        ConsoleError: 403 without the session's form token, or from another site; 429 over
            the write rate limit (the API's, counted per session).
    """
    ensure_same_origin(request)
    limiter: WriteRateLimiter = request.app.state.write_limiter
    retry_after = limiter.acquire(viewer.principal.token_id)
    if retry_after is not None:
        raise ConsoleError(
            429,
            "Too many changes",
            f"Too many changes in a short time. Wait {retry_after} seconds, then send the "
            "form again.",
            headers={"Retry-After": str(retry_after)},
        )
    form = await request.form()
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(given, str) or not secrets.compare_digest(
        given.encode(), viewer.csrf_token.encode()
    ):
        raise ConsoleError(
            403,
            "Refused",
            "This form has expired or did not come from this console. Reload the page and "
            "try again.",
        )
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def require_hr(viewer: SignedIn) -> Viewer:
    """The viewer, when HR.

    Raises:
        ConsoleError: 404 for anyone else (a participant learns nothing of HR pages).
    """
    if not viewer.is_hr:
        raise ConsoleError(404, "Not found", "There is no such page.")
    return viewer


HrViewer = Annotated[Viewer, Depends(require_hr)]
