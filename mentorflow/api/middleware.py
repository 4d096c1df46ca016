"""The outermost layer of every request: request id, body limit, access log, last resort.

* **Request id.** A client's ``X-Request-ID`` (when it is a sane token) is kept, otherwise one
  is generated; it is bound in structlog's context for every log line of the request, put in
  every error body and echoed in the response header.
* **Body limit.** A declared ``Content-Length`` over the route's limit is refused with 413
  before anything is read; a body without one is counted as it streams in.
* **Access log.** Method, path, status and duration; never bodies or query strings, which can
  carry personal text.
* **Last resort.** An unexpected exception is logged with its trace and answered with a 500
  in the error shape, so even a bug gives the client a request id to quote.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentorflow.api.errors import PayloadTooLarge, error_response, request_id_var

log = structlog.get_logger("mentorflow.api")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")

BodyLimit = Callable[[Scope], int]
"""The body limit, in bytes, of a request."""


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

    def __init__(self, app: ASGIApp, body_limit: BodyLimit) -> None:
        self.app = app
        self.body_limit = body_limit

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
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await self._limited(scope, receive, send_with_request_id, headers)
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

    async def _limited(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        limit = self.body_limit(scope)
        declared = _declared_length(headers)
        try:
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            await self.app(scope, _counting(receive, limit), send)
        except PayloadTooLarge as too_large:
            # Raised here, or while a route read the body outside FastAPI's handlers.
            response = error_response(413, too_large.code, too_large.detail, too_large.problems)
            await response(scope, receive, send)
