"""Every route that needs a token refuses a request without one before reading its body.

FastAPI reads and parses a body (``POST /review-cycles`` here) before the dependencies that
check the token run; the authentication middleware answers first. These tests need no server:
a refusal never reaches a route.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from mentorflow.api import create_app
from mentorflow.api.tokens import Role, add_token
from mentorflow.settings import Settings

HUNDRED_MB = 100 * 1024 * 1024


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.json"
    add_token(path, Role.HR_ADMIN)
    return path


@pytest.fixture
async def http(tokens_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API without its lifespan (no server is needed to refuse a request)."""
    app = create_app(Settings(api_tokens_file=tokens_file))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


class EndlessBody:
    """A request body that sends one chunk and then never finishes; counts what was pulled."""

    def __init__(self) -> None:
        self.chunks_read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.chunks_read += 1
        yield b'{"cohort_id": "'
        self.chunks_read += 1
        await asyncio.Event().wait()  # never set
        yield b'"}'


def _expired_token(tokens_file: Path) -> str:
    return add_token(
        tokens_file, Role.HR_ADMIN, expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )


@pytest.mark.parametrize("credentials", ["none", "unknown", "expired", "not-bearer"])
@pytest.mark.parametrize("declared", [HUNDRED_MB, None], ids=["100MB-declared", "chunked"])
async def test_an_unauthenticated_endless_body_gets_its_401_promptly(
    http: httpx.AsyncClient, tokens_file: Path, credentials: str, declared: int | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if declared is not None:
        headers["Content-Length"] = str(declared)
    if credentials == "unknown":
        headers["Authorization"] = "Bearer not-a-token-anyone-issued"
    elif credentials == "expired":
        headers["Authorization"] = f"Bearer {_expired_token(tokens_file)}"
    elif credentials == "not-bearer":
        headers["Authorization"] = "Basic aHI6YWRtaW4="
    body = EndlessBody()

    response = await asyncio.wait_for(
        http.post("/review-cycles", content=body, headers=headers), timeout=5
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert body.chunks_read <= 1  # never past the first chunk: nothing waited for the rest
    if credentials == "expired":
        assert "expired" in error["message"]


async def test_an_unknown_path_without_a_token_is_401_not_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/mentorships/anything/at/all")

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/docs", "/redoc"])
async def test_public_paths_need_no_token(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)

    assert response.status_code == 200
