"""Under the codec on the real dev server: Temporal holds ciphertext, operators still read it.

A conversation's notes carry a sentinel string. The history fetched with the plain ``temporal``
CLI (no codec, no configuration) shows it nowhere, neither as text nor inside any base64 field;
the same CLI pointed at the API's codec endpoint with an ops token shows it. A cohort workflow
still starts its mentorship children and visibility queries on the search attributes, which
Temporal must be able to read, still find them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import socket
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from temporalio.client import Client
from temporalio.service import RPCError

from devstack.stack import StackAddresses
from devstack.stack.binaries import find_binary
from domain.cohort_spec import parse_cohort_spec
from eventstore import PostgresEventStore
from mentorflow.api import create_app
from mentorflow.api.tokens import Role, add_token
from mentorflow.cohorts import launch_cohort
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.support import assert_eventually
from tests.workflows.scenario import log_conversation, onboard, program_terms, running_worker
from tests.workflows.scenario import start_mentorship as start_relationship
from workflows.mentorship import MentorshipWorkflow

EXAMPLE = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"


@dataclass(frozen=True)
class CodecApi:
    """The API serving the codec over HTTP, and an ops token."""

    endpoint: str
    ops_token: str


@pytest.fixture(scope="module")
async def client(stack: StackAddresses) -> Client:
    return await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )


@pytest.fixture(scope="module")
async def codec_api(
    stack: StackAddresses, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CodecApi]:
    """The API under uvicorn on a free loopback port (the codec needs no lifespan)."""
    tokens = tmp_path_factory.mktemp("codec") / "tokens.json"
    ops_token = add_token(tokens, Role.OPS)
    settings = Settings(temporal_address=stack.temporal_address, api_tokens_file=tokens)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await assert_eventually(lambda: asyncio.sleep(0, server.started), timeout=10)
        yield CodecApi(f"http://127.0.0.1:{port}/codec", ops_token)
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def show_history(
    stack: StackAddresses, workflow_id: str, home: Path, *codec_options: str
) -> str:
    """``temporal workflow show --output json``, with nothing configured but what is given."""
    process = await asyncio.create_subprocess_exec(
        str(find_binary("temporal")),
        "workflow",
        "show",
        "--workflow-id",
        workflow_id,
        "--address",
        stack.temporal_address,
        "--namespace",
        "default",
        "--output",
        "json",
        *codec_options,
        # No TEMPORAL_* variable, an empty home: no codec from a profile or the environment.
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


def _decodings(text: str) -> list[bytes]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return []
    with contextlib.suppress(zlib.error):
        return [raw, zlib.decompress(raw)]
    return [raw]


def reveals(history: str, secret: str) -> bool:
    """Whether ``secret`` is in the history: as text, or in any base64 (or zlib) field."""
    if secret in history:
        return True
    needle = secret.encode()

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return any(walk(value) for value in node.values())
        if isinstance(node, list):
            return any(walk(value) for value in node)
        if isinstance(node, str):
            return any(needle in candidate for candidate in _decodings(node))
        return False

    return walk(json.loads(history))


async def test_notes_are_ciphertext_in_temporal_and_readable_through_the_codec(
    stack: StackAddresses,
    client: Client,
    session_store: PostgresEventStore,
    codec_api: CodecApi,
    tmp_path: Path,
) -> None:
    sentinel = f"sentinel-{uuid.uuid4().hex}: struggling with the move to management"
    now = datetime.now(UTC)
    async with running_worker(client, session_store) as harness:
        handle = await start_relationship(harness, program_terms(now - timedelta(hours=2)))
        goals = await onboard(handle, now - timedelta(hours=1))
        result = await log_conversation(handle, now - timedelta(minutes=1), goals[:1], sentinel)
        raw = await show_history(stack, handle.id, tmp_path)
        decoded = await show_history(
            stack,
            handle.id,
            tmp_path,
            "--codec-endpoint",
            codec_api.endpoint,
            "--codec-auth",
            f"Bearer {codec_api.ops_token}",
        )
        state = await handle.query(MentorshipWorkflow.state)

    assert result.recorded == ["ConversationHeld"]
    assert state.stage.value == "active"
    assert not reveals(raw, sentinel)
    assert "encryption-key-id" in raw
    assert reveals(decoded, sentinel)
    assert "encryption-key-id" not in decoded


async def _listed(client: Client, query: str) -> set[str]:
    return {execution.id async for execution in client.list_workflows(query)}


async def test_a_cohort_starts_its_children_and_search_attributes_find_them_under_the_codec(
    stack: StackAddresses, client: Client, session_store: PostgresEventStore, tmp_path: Path
) -> None:
    raw_spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    raw_spec["cohort_id"] = cohort_id = f"codec-{uuid.uuid4().hex[:8]}"
    raw_spec["program"].update(
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=90)).isoformat()}
    )
    raw_spec["program"]["review_cycles"] = []
    names = [participant["name"] for participant in raw_spec["participants"]]
    async with running_worker(client, session_store) as harness:
        try:
            launched = await launch_cohort(client, parse_cohort_spec(raw_spec), harness.task_queue)
            expected = {
                f"mentorship-{cohort_id}-{pair.mentee_id}" for pair in launched.outcome.pairs
            }
            children = await assert_eventually(
                lambda: _listed(
                    client,
                    f'MentorflowCohortId = "{cohort_id}" AND WorkflowType = "MentorshipWorkflow" '
                    f'AND ParentWorkflowId = "{launched.workflow_id}"',
                ),
                lambda found: found == expected,
                timeout=60,
                message="children found by their search attributes",
            )
            onboarding = await assert_eventually(
                lambda: _listed(
                    client, f'MentorflowCohortId = "{cohort_id}" AND MentorflowStage = "onboarding"'
                ),
                lambda found: found == expected,
                timeout=60,
            )
            first = launched.outcome.pairs[0]
            by_mentee = await _listed(
                client,
                f'MentorflowCohortId = "{cohort_id}" AND MentorflowMenteeId = "{first.mentee_id}"',
            )
            child_state = await client.get_workflow_handle_for(
                MentorshipWorkflow.run, f"mentorship-{cohort_id}-{first.mentee_id}"
            ).query(MentorshipWorkflow.state)
            raw_cohort = await show_history(stack, launched.workflow_id, tmp_path)
        finally:
            query = f'TaskQueue = "{harness.task_queue}" AND ExecutionStatus = "Running"'
            async for execution in client.list_workflows(query):
                with contextlib.suppress(RPCError):
                    await client.get_workflow_handle(execution.id).terminate("test finished")

    assert len(children) >= 2
    assert onboarding == children
    assert by_mentee == {f"mentorship-{cohort_id}-{first.mentee_id}"}
    assert child_state.mentor_id == first.mentor_id
    for name in names:  # the spec, the cohort workflow's input, is ciphertext in Temporal
        assert not reveals(raw_cohort, name), name
