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
MEDIA = "application/scim+json"
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


async def test_creating_a_user_records_the_profile_and_the_same_put_records_nothing(
    scim_server: ScimServer, http: httpx.AsyncClient
) -> None:
    body = _user(
        "ada@example.com",
        externalId="hr-1",
        displayName="Ada Obi",
        name={"givenName": "Ada", "familyName": "Obi"},
        emails=[{"value": "ada@example.com", "type": "work", "primary": True}],
        title="ignored: not kept",
        **{ENTERPRISE: {"employeeNumber": "E1", "department": "Platform"}},
    )

    created = await http.post("/Users", json=body)

    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/scim+json")
    user = created.json()
    person_id = user["id"]
    assert created.headers["location"].endswith(f"/scim/v2/Users/{person_id}")
    assert user["userName"] == "ada@example.com"
    assert user["schemas"] == [USER, ENTERPRISE]
    assert user[ENTERPRISE] == {
        "employeeNumber": "E1",
        "department": "Platform",
    }
    assert "title" not in user
    assert await _events(scim_server, person_id) == ["PersonProfiled"]
    stored = (await scim_server.store.read_stream(f"person-{person_id}"))[0]
    assert "Ada" not in str(stored.data)  # names and emails are sealed in the store

    replaced = await http.put(f"/Users/{person_id}", json=body)

    assert replaced.status_code == 200, replaced.text
    assert await _events(scim_server, person_id) == ["PersonProfiled"]


async def test_patch_changes_only_what_differs_and_active_false_deactivates(
    scim_server: ScimServer, http: httpx.AsyncClient
) -> None:
    person_id = (await http.post("/Users", json=_user("grace@example.com"))).json()["id"]
    manager_id = (await http.post("/Users", json=_user("boss@example.com"))).json()["id"]

    patched = await http.patch(
        f"/Users/{person_id}",
        json={
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": "displayName", "value": "Grace H"},
                {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": manager_id}},
                {"op": "replace", "value": {"active": False}},
            ],
        },
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    assert await _events(scim_server, person_id) == [
        "PersonProfiled",
        "ProfileUpdated",
        "ManagerChanged",
        "PersonDeactivated",
    ]
    deactivated = (await scim_server.store.read_stream(f"person-{person_id}"))[-1]
    assert deactivated.data["reason"] == "hris"
    again = await http.patch(
        f"/Users/{person_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": True}],
        },
    )
    assert again.json()["active"] is True
    assert (await _events(scim_server, person_id))[-1] == "PersonReactivated"


async def test_delete_deactivates_and_the_user_is_gone(
    scim_server: ScimServer, http: httpx.AsyncClient
) -> None:
    person_id = (await http.post("/Users", json=_user("leaver@example.com"))).json()["id"]

    deleted = await http.delete(f"/Users/{person_id}")

    assert deleted.status_code == 204
    assert (await http.get(f"/Users/{person_id}")).status_code == 404
    assert (await http.delete(f"/Users/{person_id}")).status_code == 404
    event = (await scim_server.store.read_stream(f"person-{person_id}"))[-1]
    assert (event.event_type, event.data["reason"]) == ("PersonDeactivated", "deleted")
    listed = await http.get("/Users", params={"filter": 'userName eq "leaver@example.com"'})
    assert listed.json()["totalResults"] == 0


async def test_filters_and_pages(http: httpx.AsyncClient) -> None:
    for index in range(3):
        created = await http.post(
            "/Users",
            json=_user(
                f"page-{index}@example.com",
                externalId=f"page-{index}",
                emails=[{"value": f"page-{index}@mail.example.com"}],
            ),
        )
        assert created.status_code == 201, created.text

    by_name = await http.get("/Users", params={"filter": 'userName eq "PAGE-1@example.com"'})
    by_external = await http.get("/Users", params={"filter": 'externalId eq "page-2"'})
    by_email = await http.get(
        "/Users", params={"filter": 'emails.value eq "page-0@mail.example.com"'}
    )
    active = await http.get(
        "/Users", params={"filter": 'userName sw "page-" and active eq true', "count": 2}
    )
    second = await http.get(
        "/Users", params={"filter": 'userName sw "page-"', "startIndex": 3, "count": 2}
    )

    assert [user["userName"] for user in by_name.json()["Resources"]] == ["page-1@example.com"]
    assert [user["externalId"] for user in by_external.json()["Resources"]] == ["page-2"]
    assert [user["userName"] for user in by_email.json()["Resources"]] == ["page-0@example.com"]
    assert (active.json()["totalResults"], active.json()["itemsPerPage"]) == (3, 2)
    assert (second.json()["startIndex"], len(second.json()["Resources"])) == (3, 1)


async def test_errors_are_scim_errors(http: httpx.AsyncClient) -> None:
    await http.post("/Users", json=_user("taken@example.com"))

    bad_filter = await http.get("/Users", params={"filter": "userName eq"})
    taken = await http.post("/Users", json=_user("TAKEN@example.com"))
    missing = await http.get("/Users/nobody-here")
    no_user_name = await http.post("/Users", json={"schemas": [USER]})
    not_json = await http.post("/Users", content=b"{", headers={"content-type": MEDIA})

    assert (bad_filter.status_code, bad_filter.json()["scimType"]) == (400, "invalidFilter")
    assert (taken.status_code, taken.json()["scimType"]) == (409, "uniqueness")
    assert missing.status_code == 404
    assert no_user_name.status_code == 400
    assert "userName" in no_user_name.json()["detail"]
    assert (not_json.status_code, not_json.json()["scimType"]) == (400, "invalidSyntax")
    for response in (bad_filter, taken, missing, no_user_name, not_json):
        assert response.headers["content-type"].startswith(MEDIA)
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


async def test_a_profile_breaking_the_rules_is_refused_naming_the_problem(
    scim_server: ScimServer, http: httpx.AsyncClient
) -> None:
    refused = await http.post("/Users", json=_user("x@example.com", displayName="bad\x01name"))

    assert refused.status_code == 400
    assert "name: contains the control character U+0001" in refused.json()["detail"]
    assert "bad" not in refused.json()["detail"]


async def test_only_scim_tokens_reach_the_scim_service(scim_server: ScimServer) -> None:
    async with httpx.AsyncClient(base_url=scim_server.url) as client:
        as_hr = await client.get("/scim/v2/Users", headers=scim_server.hr)
        anonymous = await client.get("/scim/v2/Users")
        scim_elsewhere = await client.get("/cohorts", headers=scim_server.scim)

    assert as_hr.status_code == 403
    assert as_hr.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert anonymous.status_code == 401
    assert scim_elsewhere.status_code == 403
