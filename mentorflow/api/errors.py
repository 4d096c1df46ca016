"""The API's errors and the one place that turns them into HTTP responses.

Every error answer has the same shape, ``{"error": {"code", "message", "problems",
"request_id"}}``: ``code`` is stable and machine-readable, ``problems`` lists every reason
(a rejected conversation names all its problems at once), and ``request_id`` matches the
``X-Request-ID`` header and the server's log lines.

Routes raise the typed `ApiError` subclasses below; adapters (Temporal, PostgreSQL) translate
their drivers' errors into them at their own choke points (`mentorflow.api.temporal`,
`mentorflow.api.read_models`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventstore import DatabaseUnavailable, EventStoreError
from eventstore.errors import DRIVER_ERRORS, translate

log = structlog.get_logger("mentorflow.api")

request_id_var: ContextVar[str | None] = ContextVar("mentorflow_request_id", default=None)
"""The current request's id, set by `RequestContextMiddleware`."""


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(description="Stable, machine-readable, e.g. `command_rejected`")
    message: str = Field(description="One sentence for people")
    problems: list[str] = Field(
        default_factory=list, description="Every reason, one sentence each (may be empty)"
    )
    request_id: str | None = Field(description="Also in the X-Request-ID header and the logs")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


class ApiError(Exception):
    """An error with an HTTP status, a stable code and every problem.

    Args:
        message: One sentence for people.
        problems: Every reason, when there are several.
        code: Overrides the class's code for a more specific one.
        headers: Extra response headers.
    """

    status_code: ClassVar[int] = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        problems: Sequence[str] = (),
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    """The body cannot be read at all (not UTF-8 text)."""

    status_code = 400
    code = "bad_request"


class Unauthenticated(ApiError):
    """No valid bearer token."""

    status_code = 401
    code = "unauthenticated"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """The caller may not do this to this object."""

    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    """No such object."""

    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    """The object's state does not allow the request (e.g. its workflow has ended)."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(StarletteHTTPException):
    """The request body is over the limit.

    An HTTPException rather than an `ApiError`: it is raised while FastAPI reads the body,
    which passes HTTPExceptions through but turns anything else into a 400.
    """

    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")
        self.limit = limit
        self.problems = [f"body: at most {limit} bytes are accepted"]


class UnsupportedMediaType(ApiError):
    """The body is not in a format the route reads."""

    status_code = 415
    code = "unsupported_media_type"


class InvalidInput(ApiError):
    """The request does not validate (types, formats, a cohort spec's rules)."""

    status_code = 422
    code = "invalid_input"


class CommandRejected(ApiError):
    """The relationship's rules reject the change; nothing was recorded."""

    status_code = 422
    code = "command_rejected"


class LimitExceeded(ApiError):
    """The request is over one of the service's limits (named in the message)."""

    status_code = 422
    code = "limit_exceeded"


class ServiceUnavailable(ApiError):
    """A server the API needs (Temporal, PostgreSQL) did not answer."""

    status_code = 503
    code = "unavailable"


_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status_code: int,
    code: str,
    message: str,
    problems: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A response in the error shape, with the current request id."""
    body = ErrorResponse(
        error=ErrorDetail(
            code=code, message=message, problems=list(problems), request_id=request_id_var.get()
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _location(location: Sequence[int | str]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problems(errors: Sequence[Any]) -> list[str]:
    """One sentence per pydantic/FastAPI validation error, prefixed with its location."""
    return [f"{_location(error['loc'])}: {error['msg']}" for error in errors]


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(
        error.status_code, error.code, error.message, error.problems, error.headers
    )


async def _request_invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = validation_problems(error.errors())
    return error_response(422, "invalid_input", "the request is invalid", problems)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _CODES_BY_STATUS.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    problems = error.problems if isinstance(error, PayloadTooLarge) else []
    return error_response(error.status_code, code, message, problems, error.headers)


async def _database_error(_request: Request, error: Exception) -> JSONResponse:
    """A database error that reached a route: 503 when the database is away, else a 500.

    The event store's translation decides (`eventstore.errors.translate`), so the API holds no
    list of driver errors of its own. Neither answer quotes the driver's message.
    """
    if isinstance(translate(error), DatabaseUnavailable):
        log.warning("database unavailable", error=type(error).__name__)
        return error_response(503, "unavailable", "the database is not available; try again")
    log.error("database error", error=type(error).__name__, exc_info=error)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Map every known error to the error shape (unexpected ones: see the middleware)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    database_errors: tuple[type[Exception], ...] = (EventStoreError, *DRIVER_ERRORS)
    for database_error in database_errors:
        app.add_exception_handler(database_error, _database_error)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Body that is not UTF-8 text"},
    401: {"model": ErrorResponse, "description": "Missing or unknown bearer token"},
    403: {"model": ErrorResponse, "description": "Not allowed for this caller or object"},
    413: {"model": ErrorResponse, "description": "Request body over the limit (named)"},
    422: {"model": ErrorResponse, "description": "Invalid request; every problem listed"},
    503: {"model": ErrorResponse, "description": "Temporal or PostgreSQL did not answer"},
}
"""Documented on every authenticated route (404 and 409 are added where they can happen)."""

NOT_FOUND_RESPONSE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such object"}
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The relationship's workflow has ended"}
}
