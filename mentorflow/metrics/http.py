"""The API's request metrics and its ``/metrics`` route.

Requests are counted per route *template* (``/mentorships/{mentorship_id}/goals``), found
by matching the request against the app's routes before it runs: a request refused before
routing (401, 413, 429) is still counted under the route it was for, and one matching no
route under ``unmatched``. Raw paths never become labels, so the series stay bounded
whatever clients ask for.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fastapi import FastAPI, Request, Response
from fastapi.routing import RouteContext, iter_route_contexts
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentorflow.metrics.instruments import HTTP_REQUEST_DURATION, HTTP_REQUESTS

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
"""The route label of a request that matches no route."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def routes_of(app: FastAPI) -> list[RouteContext]:
    """Every route of ``app``, included routers flattened, each with its full path."""
    return list(iter_route_contexts(app.routes))


def route_template(routes: Sequence[RouteContext], scope: Scope) -> str | None:
    """The template of the route ``scope`` is for; None when no route matches.

    A full match wins; otherwise the first partial one (a known path with another method,
    answered 405). A mounted app (the console's static files) counts as its mount path.
    """
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route.path
        if match is Match.PARTIAL and partial is None:
            partial = route.path
    return partial


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status (pure ASGI).

    Outermost of the app's own layers, so that the answers of the others (a 401 before the
    body, a 413, a 500 of the last resort) are counted too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[RouteContext] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._routes is None:  # at the first request: every route is there by then
            self._routes = routes_of(scope["app"])
        route = route_template(self._routes, scope) or UNMATCHED
        method = scope["method"] if scope["method"] in _METHODS else "other"
        status = 500  # unless an answer starts: an exception that escapes every layer

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            HTTP_REQUEST_DURATION.labels(method=method, route=route).observe(
                time.perf_counter() - started
            )
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()


def install_metrics(app: FastAPI, registry: CollectorRegistry = REGISTRY) -> None:
    """Count the app's requests (`HttpMetricsMiddleware`) and serve ``GET /metrics``.

    ``/metrics`` needs no token, like ``/healthz``: it holds counts, latencies and lags, no
    personal data. Call it after the app's other layers are added: the last one added is
    the outermost.
    """

    def metrics(request: Request) -> Response:
        # A plain function: FastAPI runs it in a thread, off the event loop.
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), headers={"Content-Type": content_type})

    app.add_api_route(
        METRICS_PATH,
        metrics,
        methods=["GET"],
        include_in_schema=False,
        name="metrics",
    )
    app.add_middleware(HttpMetricsMiddleware)
