"""The API against the real stack: the session's Temporal dev server and PostgreSQL, a worker
in process on a task queue of the module's own, and a database of the module's own.

Requests go through ``httpx.AsyncClient`` over ``ASGITransport`` (no port); the app's
lifespan runs as it would under uvicorn.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.service import RPCError

from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from mentorflow.api import ApiLimits, create_app
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from projections import migrate_read_models
from tests.api.support import Tokens
from tests.support import create_database, open_vault
from worker import build_worker


@dataclass(frozen=True)
class ApiStack:
    """What a test module's API runs on."""

    client: Client
    store: PostgresEventStore
    task_queue: str
    settings: Settings
    tokens: Tokens


@pytest.fixture(scope="module")
async def api_stack(
    stack: StackAddresses, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiStack]:
    """A database, a worker and a tokens file of the module's own."""
    database_url = await create_database(postgres_server_url, "api")
    store = await PostgresEventStore.connect(database_url, max_size=20)
    await migrate_read_models(store.pool)
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    task_queue = f"api-{uuid.uuid4().hex[:10]}"
    tokens_path: Path = tmp_path_factory.mktemp("api") / "tokens.json"
    settings = Settings(
        temporal_address=stack.temporal_address,
        database_url=database_url,
        nats_url=stack.nats_url,
        task_queue=task_queue,
        api_tokens_file=tokens_path,
        # Tests (schemathesis above all) write fast with one token; test_rate_limits.py tests
        # the limit.
        write_rate_limit="100000/minute",
    )
    try:
        async with build_worker(client, store, task_queue, await open_vault(store.pool)):
            try:
                yield ApiStack(client, store, task_queue, settings, Tokens.create(tokens_path))
            finally:
                await _terminate_running(client, task_queue)
    finally:
        await store.close()


async def _terminate_running(client: Client, task_queue: str) -> None:
    """Leave nothing of the module running on the shared dev server."""
    query = f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"'
    async for execution in client.list_workflows(query):
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(execution.id).terminate("test module finished")


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``app``, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


def build_app(api_stack: ApiStack, limits: ApiLimits | None = None, **settings: object) -> FastAPI:
    """The API on the module's stack (settings overridable, e.g. a NATS that is down)."""
    return create_app(
        api_stack.settings.model_copy(update=settings),
        client=api_stack.client,
        pool=api_stack.store.pool,
        limits=limits,
    )


@pytest.fixture(scope="module")
async def http(api_stack: ApiStack) -> AsyncIterator[httpx.AsyncClient]:
    """The module's API."""
    async with serving(build_app(api_stack)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(api_stack: ApiStack) -> Tokens:
    """The module's tokens."""
    return api_stack.tokens
