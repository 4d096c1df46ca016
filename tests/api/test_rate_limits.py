"""Writes are rate-limited per token (429 in the error shape, with Retry-After); reads are not.

A write is counted whatever its outcome, so an invalid body (422, answered without any
server) is as good a write as any here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mentorflow.api import create_app
from mentorflow.api.tokens import Role, add_token
from mentorflow.settings import Settings
from tests.api.support import bearer

LIMIT = 3


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return tmp_path / "tokens.json"


@pytest.fixture
async def http(tokens_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API, without its lifespan, allowing ``LIMIT`` writes per token and minute."""
    settings = Settings(api_tokens_file=tokens_file, write_rate_limit=f"{LIMIT}/minute")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def _write(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/review-cycles", json={}, headers=bearer(token))


async def test_the_write_over_the_limit_gets_429_with_retry_after(
    http: httpx.AsyncClient, tokens_file: Path
) -> None:
    token = add_token(tokens_file, Role.HR_ADMIN)

    allowed = [await _write(http, token) for _ in range(LIMIT)]
    refused = await _write(http, token)

    assert [response.status_code for response in allowed] == [422] * LIMIT
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["request_id"] == refused.headers["X-Request-ID"]


async def test_another_token_and_reads_are_not_limited(
    http: httpx.AsyncClient, tokens_file: Path
) -> None:
    busy, other = add_token(tokens_file, Role.HR_ADMIN), add_token(tokens_file, Role.HR_ADMIN)
    for _ in range(LIMIT):
        await _write(http, busy)
    assert (await _write(http, busy)).status_code == 429

    others = [await _write(http, other) for _ in range(LIMIT)]
    reads = [await http.get("/cohorts/no-such-cohort", headers=bearer(busy)) for _ in range(5)]

    assert all(response.status_code == 422 for response in others)
    assert all(response.status_code != 429 for response in reads)


async def test_the_openapi_document_names_429_on_limited_writes_only(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()

    limited = {
        f"{method} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "429" in operation["responses"]
    }
    assert "post /review-cycles" in limited
    assert "post /mentorships/{mentorship_id}/conversations" in limited
    assert not any(entry.startswith(("get ", "post /codec/")) for entry in limited)


def test_a_rate_the_limiter_cannot_read_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="lots"):
        Settings(write_rate_limit="lots")
