"""The browser's sign-in to the codec: a page, and ``POST``/``DELETE /codec/session``.

The Temporal UI does not send bearer tokens over plain HTTP. The operator opens the page on
the API, pastes an ops token and picks the UI; the API starts a session
(`mentorflow.api.codec_sessions`) and sets a cookie holding its opaque id: HttpOnly, SameSite=Lax,
scoped to ``/codec``, and Secure when the browser came over HTTPS (directly or through a
trusted TLS-terminating proxy).
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from mentorflow.api.codec_auth import (
    PREFIX,
    SESSION_COOKIE,
    Bearer,
    Codec,
    CodecServer,
    SessionCookie,
    ops_principal,
)
from mentorflow.api.codec_sessions import (
    SESSION_IDLE_TIMEOUT,
    SESSION_LIFETIME,
    CodecSessionStore,
)
from mentorflow.api.context import Services
from mentorflow.api.errors import ERROR_RESPONSES, InvalidInput, Unauthenticated
from mentorflow.api.tokens import hash_token

log = structlog.get_logger(__name__)

router = APIRouter(prefix=PREFIX, tags=["payload codec"], responses=ERROR_RESPONSES)


class CodecSession(BaseModel):
    """A codec session of the browser."""

    expires_at: datetime = Field(description="When the session ends at the latest")
    idle_timeout_seconds: int = Field(description="The session ends after this long unused")
    origin: str = Field(description="The Temporal UI origin the session may be used from")


_SIGN_IN_SCRIPT = """
const outcome = document.getElementById("outcome");
document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value.trim();
  const origin = document.getElementById("origin").value;
  const headers = {Authorization: `Bearer ${token}`};
  const answer = await fetch(`session?origin=${encodeURIComponent(origin)}`,
                             {method: "POST", headers});
  const body = await answer.json();
  outcome.textContent = answer.ok
    ? `Signed in for ${body.origin} until ${body.expires_at}. Open the Temporal UI.`
    : `Refused: ${body.error.message}`;
});
document.getElementById("sign-out").addEventListener("click", async () => {
  const answer = await fetch("session", {method: "DELETE"});
  outcome.textContent = answer.ok ? "Signed out." : "Signing out failed.";
});
"""
_SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mentorflow payload codec</title></head>
<body>
<h1>mentorflow payload codec</h1>
<p>Paste an ops token (<code>mentorflow tokens add --role ops</code>) and choose the Temporal UI
this browser uses. The browser gets a session in an HttpOnly cookie, sent only to the codec,
for {lifetime} hours at most and {idle} minutes without use. In the Temporal UI's codec server
settings, tick <em>Include cross-origin credentials</em>.</p>
<form id="sign-in"><input id="token" type="password" autocomplete="off" size="50"
aria-label="ops token"> <select id="origin" aria-label="Temporal UI">{options}</select>
<button>Sign in</button></form>
<p><button id="sign-out" type="button">Sign out</button></p>
<p id="outcome" role="status"></p>
<script>{script}</script>
</body></html>
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SIGN_IN_SCRIPT.encode()).digest()).decode()
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}


def _same_host_origins(server: CodecServer, request: Request) -> list[str]:
    return [
        origin for origin in server.origins if urlsplit(origin).hostname == request.url.hostname
    ]


@router.get("/session", summary="Sign-in page for the codec session", response_class=HTMLResponse)
async def session_page(request: Request, server: Codec) -> HTMLResponse:
    """A page where an operator pastes an ops token to start a browser session."""
    preferred = _same_host_origins(server, request)[:1]
    options = "".join(
        f"<option{' selected' if origin in preferred else ''}>{html.escape(origin)}</option>"
        for origin in server.origins
    )
    page = _SIGN_IN_PAGE.format(
        lifetime=int(SESSION_LIFETIME.total_seconds()) // 3600,
        idle=int(SESSION_IDLE_TIMEOUT.total_seconds()) // 60,
        options=options,
        script=_SIGN_IN_SCRIPT,
    )
    return HTMLResponse(page, headers=_PAGE_HEADERS)


def _session_origin(server: CodecServer, request: Request, requested: str | None) -> str:
    """The UI origin a new session serves: as asked, or the one on the API's host name."""
    allowed = ", ".join(server.origins) or "none (set MENTORFLOW_CODEC_CORS_ORIGINS)"
    if requested is not None:
        origin = requested.strip().rstrip("/")
        if origin not in server.origins:
            raise InvalidInput(
                "the codec session can only serve an allowed Temporal UI origin",
                [f"origin: {origin!r} is not one of {allowed}"],
            )
        return origin
    candidates = _same_host_origins(server, request)
    if len(candidates) != 1:
        raise InvalidInput(
            "name the Temporal UI origin the session is for",
            [f"origin: required here, one of {allowed}"],
        )
    return candidates[0]


def _cookie_options(request: Request) -> dict[str, Any]:
    # Secure whenever the browser reached us over HTTPS, also through a TLS-terminating proxy
    # listed in MENTORFLOW_TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware sets the scheme).
    return {
        "path": PREFIX,
        "secure": request.url.scheme == "https",
        "httponly": True,
        "samesite": "lax",
    }


@router.post("/session", summary="Start a browser session of the codec")
async def start_session(
    request: Request,
    response: Response,
    services: Services,
    server: Codec,
    credentials: Bearer,
    origin: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="The Temporal UI origin the session is for (default: the allowed "
            "origin on this host name)",
        ),
    ] = None,
) -> CodecSession:
    """Start a session for the ops token of the ``Authorization`` header; set its cookie."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("an ops token is required: Authorization: Bearer")
    ops_principal(services, credentials.credentials)
    session_origin = _session_origin(server, request, origin)
    started = await CodecSessionStore(services.pool).start(
        hash_token(credentials.credentials), session_origin
    )
    response.set_cookie(
        SESSION_COOKIE,
        started.session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        **_cookie_options(request),
    )
    response.headers["Cache-Control"] = "no-store"
    log.info("codec session started", origin=session_origin)
    return CodecSession(
        expires_at=started.expires_at,
        idle_timeout_seconds=int(SESSION_IDLE_TIMEOUT.total_seconds()),
        origin=session_origin,
    )


@router.delete("/session", status_code=204, summary="End the browser session of the codec")
async def end_session(
    request: Request,
    response: Response,
    services: Services,
    credentials: Bearer,
    session_id: SessionCookie,
) -> None:
    """End the session of the cookie, wherever the cookie is, and clear it.

    With an ops token in ``Authorization``, end every session started with that token.
    """
    if credentials is not None and credentials.credentials:
        ops_principal(services, credentials.credentials)
        ended = await CodecSessionStore(services.pool).end_all(hash_token(credentials.credentials))
        log.info("codec sessions ended", count=ended)
    if session_id:
        await CodecSessionStore(services.pool).end(session_id)
        log.info("codec session ended")
    response.delete_cookie(SESSION_COOKIE, **_cookie_options(request))
