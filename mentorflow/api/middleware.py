"""The outer layers of every request, outermost first: request context, authentication, (the
write rate limit of `mentorflow.api.rate_limits`), body limit.

* **Request id.** A client's ``X-Request-ID`` (when it is a sane token) is kept, otherwise one
  is generated; it is bound in structlog's context for every log line of the request, put in
  every error body and echoed in the response header. It is also the correlation id of the
  events the request causes (`mentorflow.correlation`).
* **Access log.** Method, path, status and duration; never bodies or query strings, which can
  carry personal text.
* **Last resort.** An unexpected exception is logged with its trace and answered with a 500
  in the error shape, so even a bug gives the client a request id to quote.
* **Authentication before the body.** FastAPI reads and parses a body before it runs the
  dependencies that check the token, so without this layer anyone could make the API read
  megabytes. Every route but the public ones (`is_public_path`) needs a bearer token the
  tokens file accepts; without one the answer is 401 before a byte of the body is read (a
  refused client learns nothing, not even a body limit). The principal found is left in the
  scope for the routes (`mentorflow.api.auth.scope_principal`).
* **Body limit.** A declared ``Content-Length`` over the route's limit is refused with 413
  before anything is read; a body without one is counted as it streams in.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentorflow.api.auth import PRINCIPAL_SCOPE_KEY, authenticate_bearer, bearer_token
from mentorflow.api.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
    error_response,
    request_id_var,
)
from mentorflow.api.jwt_auth import AccessTokenVerifier
from mentorflow.api.tokens import TokenRegistry
from mentorflow.console.paths import is_console_path
from mentorflow.correlation import originating
from workflows.origin import Origin

log = structlog.get_logger("mentorflow.api")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")

BodyLimit = Callable[[Scope], int]
"""The body limit, in bytes, of a request."""

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }
)
"""Paths that need no bearer token."""
PUBLIC_PATH_PREFIXES = ("/codec/",)
"""Prefixes of paths that authenticate on their own (the codec: bearer or session cookie)."""


def is_public_path(path: str) -> bool:
    """Whether a request to ``path`` is served without a bearer token (the web console's
    pages sign in by session cookie instead)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PATH_PREFIXES) or is_console_path(path)


def _request_id(headers: Headers) -> str:
    given = headers.get(REQUEST_ID_HEADER)
    if given is not None and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(limit)
        return message

    return receive_within_limit


class RequestContextMiddleware:
    """Pure ASGI middleware (no extra task: context variables reach the route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _request_id(headers)
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        started = time.perf_counter()
        reset = request_id_var.set(request_id)
        # Routes bind more (workflow_id, role); all of it ends with the request, also where
        # the caller's task runs the app (httpx's ASGITransport) rather than a task of its own.
        outer = structlog.contextvars.get_contextvars()
        try:
            with (
                structlog.contextvars.bound_contextvars(request_id=request_id),
                # What the request changes carries its id as the correlation id.
                originating(Origin(correlation_id=request_id)),
            ):
                try:
                    await self.app(scope, receive, send_with_request_id)
                except Exception:
                    log.exception("request failed", method=scope["method"], path=scope["path"])
                    if response_started:
                        raise
                    response = error_response(
                        500, "internal_error", "unexpected error; quote the request id to ops"
                    )
                    await response(scope, receive, send_with_request_id)
                finally:
                    log.info(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    )
        finally:
            request_id_var.reset(reset)
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)


class AuthenticationMiddleware:
    """401 in the error shape for a request without an accepted bearer token, body unread."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenRegistry,
        is_public: Callable[[str], bool] = is_public_path,
        access_tokens: AccessTokenVerifier | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.is_public = is_public
        self.access_tokens = access_tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate one request, or answer it."""
        if scope["type"] != "http" or self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope).get("authorization"))
        try:
            scope[PRINCIPAL_SCOPE_KEY] = await authenticate_bearer(
                self.tokens, self.access_tokens, token
            )
        except (Unauthenticated, ServiceUnavailable) as refused:
            response = error_response(
                refused.status_code, refused.code, refused.message, headers=refused.headers
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 in the error shape for a body over the route's limit, declared or streamed."""

    def __init__(self, app: ASGIApp, body_limit: BodyLimit) -> None:
        self.app = app
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Limit one request's body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.body_limit(scope)
        declared = _declared_length(Headers(scope=scope))
        try:
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            await self.app(scope, _counting(receive, limit), send)
        except PayloadTooLarge as too_large:
            # Raised here, or while a route read the body outside FastAPI's handlers.
            response = error_response(413, too_large.code, too_large.detail, too_large.problems)
            await response(scope, receive, send)
