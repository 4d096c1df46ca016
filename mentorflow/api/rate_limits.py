"""Writes are rate-limited per token: 429 in the error shape, with ``Retry-After``.

Reads are not limited (they are cheap and come from the read models); writes go through the
workflows and the event store, so one token flooding them would slow every relationship.
The limit (``MENTORFLOW_WRITE_RATE_LIMIT``, e.g. ``60/minute`` or ``10/second; 60/minute``,
in the notation of the `limits` library) counts every write request of a token, accepted or
not, in a moving window. The counters are in memory, so the limit holds per API process: N
processes behind a balancer admit up to N times the rate (`limits` offers Redis and other
shared storages should that matter; PostgreSQL is not among them).

The layer runs after authentication and before the body is read, so a throttled client costs
no parsing either. Console form posts (signed in by session cookie, not by token) count
against the same limit per session, in `mentorflow.console.auth.checked_form`, before their
form is read.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from mentorflow.api.auth import scope_principal
from mentorflow.api.errors import ErrorResponse, error_response
from mentorflow.api.middleware import is_public_path

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RATE_LIMITED = "rate_limited"


def parse_rate(rate: str) -> list[RateLimitItem]:
    """The limits of a rate such as ``60/minute`` or ``10/second; 60/minute``.

    Raises:
        ValueError: Not in the `limits` notation.
    """
    return parse_many(rate)


class WriteRateLimiter:
    """Moving-window counters per token, in this process's memory."""

    def __init__(self, rate: str) -> None:
        self.rate = rate
        self.items = parse_rate(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def acquire(self, key: str) -> int | None:
        """Count one write of ``key``; None when it is allowed, else seconds until it would be.

        A refused write is not counted, so a client that waits as told gets through.
        """
        # Test every limit before counting any: a write refused by one limit uses up none.
        # (No await in between: nothing else runs on the event loop meanwhile.)
        full = [item for item in self.items if not self._limiter.test(item, key)]
        if full:
            reset = max(self._limiter.get_window_stats(item, key).reset_time for item in full)
            return max(1, math.ceil(reset - time.time()))
        for item in self.items:
            self._limiter.hit(item, key)
        return None


class WriteRateLimitMiddleware:
    """429 for a token's write over the limit; everything else passes through."""

    def __init__(self, app: ASGIApp, limiter: WriteRateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count one request, or refuse it."""
        principal = scope_principal(scope) if scope["type"] == "http" else None
        if principal is not None and scope["method"] in WRITE_METHODS:
            retry_after = self.limiter.acquire(principal.token_id)
            if retry_after is not None:
                response = error_response(
                    429,
                    RATE_LIMITED,
                    f"too many writes with this token (limit {self.limiter.rate}); "
                    f"retry after {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def document_rate_limit(document: dict[str, Any]) -> None:
    """Add the 429 answer to every limited write operation of an OpenAPI ``document``."""
    schema = {"$ref": "#/components/schemas/" + ErrorResponse.__name__}
    for path, operations in document.get("paths", {}).items():
        if is_public_path(path):  # no bearer token, so no token to count for
            continue
        for method, operation in operations.items():
            if method.upper() in WRITE_METHODS:
                operation.setdefault("responses", {}).setdefault(
                    "429",
                    {
                        "description": "Too many writes with this token; wait Retry-After seconds",
                        "headers": {
                            "Retry-After": {
                                "description": "Seconds to wait",
                                "schema": {"type": "integer"},
                            }
                        },
                        "content": {"application/json": {"schema": schema}},
                    },
                )
