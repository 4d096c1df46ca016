"""``GET /metrics`` of the API under uvicorn: requests by route template, never by raw path."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI

from tests.api.conftest import ApiStack, build_app
from tests.metrics.support import Scrape, parse
from tests.support import assert_eventually

REQUESTS = "mentorflow_http_requests_total"
DURATIONS = "mentorflow_http_request_duration_seconds_count"
ROUTE = "/mentorships/{mentorship_id}"


@contextlib.asynccontextmanager
async def listening(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` under uvicorn on a free loopback port, and a client of it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def _metrics(http: httpx.AsyncClient) -> Scrape:
    response = await http.get("/metrics")  # no token: a scraper has none
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_requests_are_counted_and_timed_per_route_template_and_status(
    api_stack: ApiStack,
) -> None:
    secret = f"mentorship-{uuid.uuid4()}"
    async with listening(build_app(api_stack)) as http:
        before = await _metrics(http)
        healthy = await http.get("/healthz")
        refused = await http.get(f"/mentorships/{secret}")  # no token
        answered = await http.get(f"/mentorships/{secret}", headers=api_stack.tokens.hr)
        nowhere = await http.get(f"/{secret}", headers=api_stack.tokens.hr)
        after = await _metrics(http)

    def grown(sample: str, **labels: str) -> float:
        return (after.value(sample, **labels) or 0.0) - (before.value(sample, **labels) or 0.0)

    assert (healthy.status_code, refused.status_code, nowhere.status_code) == (200, 401, 404)
    assert answered.status_code != refused.status_code
    assert grown(REQUESTS, method="GET", route="/healthz", status="200") == 1
    assert grown(REQUESTS, method="GET", route=ROUTE, status="401") == 1
    assert grown(REQUESTS, method="GET", route=ROUTE, status=str(answered.status_code)) == 1
    assert grown(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert grown(DURATIONS, method="GET", route=ROUTE) == 2
    assert grown(REQUESTS, method="GET", route="/metrics", status="200") == 1  # the first scrape
    exported = {
        dict(series)["route"] for name in (REQUESTS, DURATIONS) for series in after.series(name)
    }
    assert not [route for route in exported if secret in route]
    assert after.families["mentorflow_http_requests"].documentation
