"""Error shape, request ids, logs without personal text, and the limits that protect the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from mentorflow.api import ApiLimits
from tests.api.conftest import ApiStack, build_app, serving
from tests.api.support import Tokens, cohort_spec

SECRET = "zebra-quartz-confidential"


@pytest.fixture(scope="module")
async def small_limits(api_stack: ApiStack) -> AsyncIterator[httpx.AsyncClient]:
    """The API with tiny body limits, to test them without megabytes of test data."""
    limits = ApiLimits(max_body_bytes=2_000, max_cohort_body_bytes=20_000)
    async with serving(build_app(api_stack, limits)) as client:
        yield client


async def test_request_ids_are_kept_or_generated_and_in_every_error(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    given = await http.get("/cohorts/nope-nope", headers={**tokens.hr, "X-Request-ID": "abc-123"})
    odd = await http.get("/cohorts/nope-nope", headers={**tokens.hr, "X-Request-ID": "a b\tc"})
    generated = await http.get("/healthz")

    assert given.headers["x-request-id"] == "abc-123"
    assert given.json()["error"]["request_id"] == "abc-123"
    assert odd.headers["x-request-id"] != "a b\tc"
    assert odd.json()["error"]["request_id"] == odd.headers["x-request-id"]
    assert len(generated.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("DELETE", "/cohorts", 405, "method_not_allowed"),
    ],
)
async def test_framework_errors_have_the_same_shape(
    http: httpx.AsyncClient, tokens: Tokens, method: str, path: str, status: int, code: str
) -> None:
    response = await http.request(method, path, headers=tokens.hr)

    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "problems", "request_id"}
    assert response.json()["error"]["code"] == code


async def test_an_unexpected_error_is_a_500_with_a_request_id(
    http: httpx.AsyncClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("mentorflow.api.cohorts.cohort_page", broken)

    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        response = await http.get("/cohorts", headers={**tokens.hr, "X-Request-ID": "bug-1"})

    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "unexpected error; quote the request id to ops",
        "problems": [],
        "request_id": "bug-1",
    }
    failed = [entry for entry in logs if entry["event"] == "request failed"]
    assert failed
    assert failed[0]["request_id"] == "bug-1"


async def test_logs_name_the_request_but_never_its_text(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = {
        "held_at": "2020-01-01T00:00:00+00:00",
        "notes": SECRET,
        "feedback_to_mentee": SECRET,
        "action_items": [],
    }
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await http.post(
            "/mentorships/mentorship-x-y/conversations?note=" + SECRET,
            json=body,
            headers={**tokens.hr, "X-Request-ID": "quiet-1"},
        )

    access = [entry for entry in logs if entry["event"] == "request"]
    assert access
    assert access[0]["request_id"] == "quiet-1"
    assert access[0]["status"] == 404
    assert SECRET not in repr(logs)


async def test_a_body_over_the_limit_is_413_naming_it(
    small_limits: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await small_limits.post(
        "/mentorships/mentorship-x-y/goals",
        json={"horizon": "short", "description": "x" * 5_000},
        headers=tokens.hr,
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "limit of 2000 bytes" in error["message"]
    assert error["problems"] == ["body: at most 2000 bytes are accepted"]


async def test_a_streamed_body_over_the_limit_is_413_too(
    small_limits: httpx.AsyncClient, tokens: Tokens
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"horizon": "short", "description": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = await small_limits.post(
        "/mentorships/mentorship-x-y/goals",
        content=chunks(),
        headers={**tokens.hr, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert "limit of 2000 bytes" in response.json()["error"]["message"]


async def test_a_launch_has_a_larger_body_limit_of_its_own(
    small_limits: httpx.AsyncClient, tokens: Tokens
) -> None:
    spec = cohort_spec()
    del spec["program"]  # invalid, so that nothing launches when the body is accepted
    assert 2_000 < len(json.dumps(spec)) < 20_000  # over the default limit, under the launch's
    accepted = await small_limits.post("/cohorts", json=spec, headers=tokens.hr)
    spec["participants"] = spec["participants"] * 10
    refused = await small_limits.post("/cohorts", json=spec, headers=tokens.hr)

    assert accepted.status_code == 422
    assert accepted.json()["error"]["problems"] == ["program: required field is missing"]
    assert refused.status_code == 413
    assert "limit of 20000 bytes" in refused.json()["error"]["message"]
