"""``/healthz`` and ``/readyz``: no token; readiness names what is missing."""

from __future__ import annotations

import httpx

from mentorflow.api import ApiLimits, create_app
from tests.api.conftest import ApiStack, build_app, serving
from tests.api.support import start_pair
from tests.support import assert_eventually


async def test_healthz_needs_no_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_every_dependency(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")

    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"temporal", "postgres", "nats", "projections"}
    assert all(check["ok"] for check in checks.values())


async def test_the_app_connects_to_temporal_and_postgres_by_itself(api_stack: ApiStack) -> None:
    async with serving(create_app(api_stack.settings)) as http:
        response = await http.get("/readyz")

    assert response.status_code == 200, response.text


async def test_readyz_fails_naming_an_unreachable_nats(api_stack: ApiStack) -> None:
    app = build_app(api_stack, nats_url="nats://127.0.0.1:9")
    async with serving(app) as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert not checks["nats"]["ok"]
    assert checks["temporal"]["ok"]
    assert checks["postgres"]["ok"]


async def test_readyz_fails_when_projections_fall_behind(api_stack: ApiStack) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=10,
    )
    app = build_app(api_stack, ApiLimits(max_projection_lag_events=1))
    async with serving(app) as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    projections = response.json()["checks"]["projections"]
    assert not projections["ok"]
    assert "limit 1" in projections["detail"]
    assert "mentorship_overview" in projections["detail"]
