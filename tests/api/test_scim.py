"""The SCIM 2.0 service provider on a real PostgreSQL, served by uvicorn on a free port.

scim2-tester checks it as a provisioning client would; the other tests pin what mentorflow
adds: the events each request records (and does not record when nothing changed), deletion
as deactivation, filters, pagination, errors and who may call it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from scim2_tester import CheckResult, Status, check_server

from eventstore import PostgresEventStore
from mentorflow.api import create_app
from mentorflow.api.tokens import Role, add_token
from mentorflow.settings import Settings
from projections import migrate_read_models
from tests.api.scim_client import HttpxSCIMClient
from tests.support import assert_eventually, create_database

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
FAILED = {Status.ERROR, Status.CRITICAL}
OUT_OF_SCOPE = {
    ("check_remove_attribute", "PATCH modify() did not remove attribute 'active'"),
}
"""scim2-tester results that are failures by its reading and decisions by ours, exactly:

- removing ``active``: every directory person is active or not, so a ``remove`` of it
  leaves the person as they are (and the User still says which) rather than unassigned.
"""


@dataclass(frozen=True)
class ScimServer:
    """The API on HTTP, with a scim token and an hr_admin token."""

    url: str
    store: PostgresEventStore
    scim: dict[str, str]
    hr: dict[str, str]


@pytest.fixture(scope="module")
async def scim_server(
    postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ScimServer]:
    database_url = await create_database(postgres_server_url, "scim")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    tokens: Path = tmp_path_factory.mktemp("scim") / "tokens.json"
    scim_token, hr_token = add_token(tokens, Role.SCIM), add_token(tokens, Role.HR_ADMIN)
    settings = Settings(
        database_url=database_url, api_tokens_file=tokens, write_rate_limit="100000/minute"
    )
    app = create_app(settings, pool=store.pool)  # Temporal: a lazy client, never called
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=10)
        yield ScimServer(
            f"http://127.0.0.1:{port}",
            store,
            {"Authorization": f"Bearer {scim_token}"},
            {"Authorization": f"Bearer {hr_token}"},
        )
    finally:
        server.should_exit = True
        await serving
        listener.close()
        await store.close()


@pytest.fixture
async def http(scim_server: ScimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=scim_server.url + "/scim/v2", headers=scim_server.scim
    ) as client:
        yield client


def _run_scim2_tester(server: ScimServer) -> list[CheckResult]:
    with httpx.Client(base_url=server.url + "/scim/v2/", headers=server.scim) as client:
        return check_server(HttpxSCIMClient(client), raise_exceptions=False)


def _described(results: list[CheckResult]) -> Iterator[str]:
    for result in results:
        yield f"{result.status.name} {result.title} [{result.resource_type}]: {result.reason}"


async def test_scim2_tester_finds_no_failure(scim_server: ScimServer) -> None:
    results = await asyncio.to_thread(_run_scim2_tester, scim_server)

    failures = [
        result
        for result in results
        if result.status in FAILED and (result.title, result.reason) not in OUT_OF_SCOPE
    ]
    assert not failures, "\n".join(_described(failures))
    assert sum(result.status is Status.SUCCESS for result in results) > 20


def _user(user_name: str, **fields: Any) -> dict[str, Any]:
    return {"schemas": [USER, ENTERPRISE], "userName": user_name, **fields}


async def _events(server: ScimServer, person_id: str) -> list[str]:
    return [event.event_type for event in await server.store.read_stream(f"person-{person_id}")]
