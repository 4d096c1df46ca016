"""Schemathesis against the OpenAPI document: no server error, responses as documented.

The API runs under uvicorn on a free port in this event loop (with the module's worker), and
the schemathesis CLI fuzzes it from a subprocess as an HR admin, with a bounded number of
examples per operation, a fixed seed, and the ids of a real cohort and relationship so that
fuzzed requests reach the workflows.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.api.conftest import ApiStack, build_app
from tests.api.support import Tokens, cohort_spec, onboard, project, start_pair
from tests.support import assert_eventually

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


@pytest.fixture
async def api_url(api_stack: ApiStack) -> AsyncIterator[str]:
    """The API served over HTTP on a free loopback port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(build_app(api_stack), log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=10)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listener.close()


CONFIG = """
# Real ids, so that fuzzed requests reach the workflows instead of stopping at a 404.
[parameters]
"path.mentorship_id" = "{mentorship_id}"
"path.cohort_id" = "{cohort_id}"
"path.person_id" = "{person_id}"

# The coverage phase enumerates every construct of a schema: for the cohort spec that is
# most of the run's time, and its validation has tests of its own (test_cohorts.py).
[[operations]]
include-path = "/cohorts"
include-method = "POST"
phases.coverage.enabled = false
"""


async def test_fuzzing_the_openapi_document_finds_no_server_error(
    api_url: str, http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack, tmp_path: Path
) -> None:
    pair = await start_pair(api_stack.client, api_stack.task_queue)
    await assert_eventually(
        lambda: api_stack.store.read_stream(pair.mentorship_id),
        lambda events: len(events) >= 2,
        timeout=10,
    )
    await onboard(http, tokens, pair)
    cohort = cohort_spec()
    # Addresses, HR contacts and webhooks, so that the contacts route answers with each part.
    cohort["participants"][0]["email"] = "ada@example.com"
    cohort["notifications"] = {
        "quiet_hours": {"start": "21:00", "end": "07:00"},
        "hr_contacts": [{"id": "hr-1", "name": "HR", "email": "hr@example.com", "timezone": "UTC"}],
        "webhooks": [{"kind": "teams", "url": "https://example.webhook.office.com/x"}],
    }
    launched = await http.post("/cohorts", json=cohort, headers=tokens.hr)
    assert launched.status_code == 202, launched.text
    await project(api_stack.store)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            mentorship_id=pair.mentorship_id,
            cohort_id=cohort["cohort_id"],
            person_id=pair.mentee_id,
        )
    )
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{api_url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {tokens.hr_admin}",
        "--max-examples",
        "20",
        "--seed",
        "20270111",
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: hypothesis parses lambdas' source with `ast`, which CPython 3.11 does
        # not do reliably in several threads at once ("AST constructor recursion depth").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        "--no-color",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)

    assert process.returncode == 0, output.decode()[-6000:]
