"""``/healthz`` and ``/readyz``: no token; readiness names what is missing, in fixed words."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import asyncpg
import httpx
from structlog.testing import capture_logs
from temporalio.client import Client

from mentorflow.api import ApiLimits, create_app
from mentorflow.api.tokens import Role, add_token
from tests.api.conftest import ApiStack, build_app, serving
from tests.api.support import Tokens, bearer, start_pair
from tests.support import assert_eventually


async def test_healthz_needs_no_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_every_dependency(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")

    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"temporal", "postgres", "nats", "projections", "tokens"}
    assert all(check["ok"] and check["status"] == "ok" for check in checks.values())


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
    assert checks["nats"]["status"] == "down"
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


class _LeakyTemporal:
    """A Temporal service whose error names what an anonymous caller must not learn."""

    def __init__(self) -> None:
        self.calls = 0

    async def check_health(self) -> bool:
        self.calls += 1
        raise RuntimeError("connect to temporal.internal.example:7233 as svc-payroll: refused")


def _with_temporal(
    api_stack: ApiStack, service: object
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return serving(
        create_app(
            api_stack.settings,
            client=cast(Client, SimpleNamespace(service_client=service)),
            pool=api_stack.store.pool,
        )
    )


async def test_readyz_shows_no_raw_error_text_and_logs_it_instead(api_stack: ApiStack) -> None:
    async with _with_temporal(api_stack, _LeakyTemporal()) as http:
        with capture_logs() as logs:
            response = await http.get("/readyz")

    assert response.status_code == 503
    assert "temporal.internal" not in response.text
    assert "svc-payroll" not in response.text
    assert "RuntimeError" not in response.text
    temporal = response.json()["checks"]["temporal"]
    assert temporal == {"ok": False, "status": "down", "detail": "unreachable or failing"}
    assert any("svc-payroll" in str(entry.get("error")) for entry in logs)


async def test_a_flood_of_readyz_runs_the_checks_once(api_stack: ApiStack) -> None:
    temporal = _LeakyTemporal()
    async with _with_temporal(api_stack, temporal) as http:
        answers = await asyncio.gather(*(http.get("/readyz") for _ in range(20)))

    assert {answer.status_code for answer in answers} == {503}
    assert temporal.calls == 1


async def test_readyz_fails_while_the_tokens_file_is_invalid(
    api_stack: ApiStack, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, Role.HR_ADMIN)
    async with serving(build_app(api_stack, api_tokens_file=path)) as http:
        before = await http.get("/readyz")
        path.write_text("{not json")
        with capture_logs() as logs:
            after = await http.get("/readyz")
            refused = await http.get("/cohorts", headers=bearer(token))

    assert before.status_code == 200, before.text
    assert after.status_code == 503
    tokens = after.json()["checks"]["tokens"]
    assert (tokens["ok"], tokens["status"]) == (False, "not_ready")
    assert str(path) not in after.text
    assert refused.status_code == 401
    assert [entry["log_level"] for entry in logs if "tokens file" in entry["event"]] == ["error"]


async def test_readyz_names_a_stalled_projection_and_the_event_it_stopped_at(
    api_stack: ApiStack,
) -> None:
    event_id = uuid.uuid4()
    # What the runner records when an event fails (tests/projections/test_runner.py).
    await api_stack.store.pool.execute(
        "INSERT INTO read_models.positions (projection, stalled_event_id, stalled_error, "
        "stalled_since, stalled_attempts) VALUES ('review_summaries', $1, $2, now(), 3) "
        "ON CONFLICT (projection) DO UPDATE SET stalled_event_id = $1, stalled_error = $2, "
        "stalled_since = now(), stalled_attempts = 3",
        event_id,
        "ValidationError: goal_ids: Field required",
    )
    try:
        async with serving(build_app(api_stack)) as http:
            response = await http.get("/readyz")
    finally:
        await api_stack.store.pool.execute(
            "UPDATE read_models.positions SET stalled_event_id = NULL, stalled_error = NULL, "
            "stalled_since = NULL, stalled_attempts = 0 WHERE projection = 'review_summaries'"
        )

    assert response.status_code == 503
    projections = response.json()["checks"]["projections"]
    assert not projections["ok"]
    assert f"review_summaries at event {event_id}" in projections["detail"]
    assert "ValidationError: goal_ids: Field required" in projections["detail"]


async def test_a_database_outage_is_503_in_the_error_shape_not_500(
    api_stack: ApiStack, tokens: Tokens
) -> None:
    pool = await asyncpg.create_pool(api_stack.settings.database_url, min_size=1, max_size=2)
    app = create_app(api_stack.settings, client=api_stack.client, pool=pool)
    async with serving(app) as http:
        await pool.close()  # PostgreSQL is away for this API process from now on
        forget = await http.post("/people/nobody-outage/forget", headers=tokens.hr)
        plan = await http.get("/people/nobody-outage/development-plan", headers=tokens.hr)

    assert forget.status_code == 503, forget.text
    assert forget.json()["error"]["code"] == "unavailable"
    assert "pool" not in forget.text  # no driver text
    assert plan.status_code == 503, plan.text
