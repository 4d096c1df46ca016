"""A cohort on the real dev server, launched through the CLI, with its events in the store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import Client

from devstack.stack import StackAddresses
from domain.cohort_spec import parse_cohort_spec
from eventstore import PostgresEventStore
from examples.generate_cohort import generate_cohort
from mentorflow.cohorts import launch_cohort
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.support import assert_eventually, create_database, open_vault
from worker import build_worker
from workflows.cohort import CohortWorkflow

EXAMPLE = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"


@pytest.fixture
async def store(postgres_server_url: str) -> AsyncIterator[PostgresEventStore]:
    event_store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "cohortdev")
    )
    yield event_store
    await event_store.close()


def _spec_file(tmp_path: Path) -> tuple[Path, str]:
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    spec["cohort_id"] = f"dev-{uuid.uuid4().hex[:8]}"
    spec["program"].update(
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=90)).isoformat()}
    )
    spec["program"]["review_cycles"] = []
    path = tmp_path / "cohort.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path, spec["cohort_id"]


async def _cli(environment: dict[str, str], *arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mentorflow.cli.app",
        *arguments,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode()


async def test_a_cohort_launched_from_the_cli_starts_its_relationships_with_events_in_the_store(
    stack: StackAddresses, store: PostgresEventStore, tmp_path: Path
) -> None:
    path, cohort_id = _spec_file(tmp_path)
    task_queue = f"cohort-dev-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_TEMPORAL_ADDRESS": stack.temporal_address,
        "MENTORFLOW_TASK_QUEUE": task_queue,
    }
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    async with build_worker(client, store, task_queue, await open_vault(store.pool)):
        code, output = await _cli(environment, "cohort", "launch", str(path), "--json")
        again_code, again = await _cli(environment, "cohort", "launch", str(path), "--json")
        launched: dict[str, Any] = json.loads(output)
        pairs = launched["outcome"]["pairs"]
        handle = client.get_workflow_handle_for(CohortWorkflow.run, f"cohort-{cohort_id}")
        await assert_eventually(
            lambda: handle.query(CohortWorkflow.state),
            lambda state: state["relationships"] == len(pairs),
            timeout=60,
        )
        status_code, status = await _cli(environment, "cohort", "status", cohort_id, "--json")
        for pair in pairs:
            stream_id = f"mentorship-{cohort_id}-{pair['mentee_id']}"
            await assert_eventually(
                partial(store.read_stream, stream_id),
                lambda envelopes: len(envelopes) >= 2,
                timeout=60,
            )
        await handle.terminate("test finished")
        for pair in pairs:
            await client.get_workflow_handle(
                f"mentorship-{cohort_id}-{pair['mentee_id']}"
            ).terminate("test finished")

    assert (code, again_code, status_code) == (0, 0, 0)
    assert not launched["already_launched"]
    assert json.loads(again)["already_launched"]
    unmatched = {u["mentee_id"]: u["reason"] for u in launched["outcome"]["unmatched"]}
    assert "seniority" in unmatched["p-013"]  # Greta: nobody is senior enough to mentor her
    assert json.loads(status)["relationships"] == len(pairs)
    cohort_events = await store.read_stream(f"cohort-{cohort_id}")
    assert [e.event_type for e in cohort_events][:3] == [
        "CohortLaunched",
        "MatchingCompleted",
        "MentorshipsStarted",
    ]
    first = (await store.read_stream(f"mentorship-{cohort_id}-{pairs[0]['mentee_id']}"))[0]
    assert first.event_type == "MentorshipMatched"
    assert first.data["mentor_id"] == pairs[0]["mentor_id"]
    capacities = parse_cohort_spec(path.read_text(encoding="utf-8"), "yaml").mentor_capacities()
    assert first.data["mentor_capacity"] == capacities[pairs[0]["mentor_id"]]


async def test_an_invalid_spec_exits_2_naming_every_problem_and_launches_nothing(
    stack: StackAddresses, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "cohort_id": "Bad Id",
                "program": {
                    "name": "x",
                    "starts_at": "2027-02-01T00:00:00+00:00",
                    "ends_at": "2027-01-01T00:00:00+00:00",
                },
                "participants": [
                    {
                        "id": "p-1",
                        "name": "A",
                        "roles": ["mentor"],
                        "seniority": 11,
                        "timezone": "Mars/Olympus",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_TEMPORAL_ADDRESS": stack.temporal_address,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mentorflow.cli.app",
        "cohort",
        "launch",
        str(path),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    errors = stderr.decode()

    assert process.returncode == 2
    for fragment in ("cohort_id", "seniority", "Mars/Olympus", "ends_at", "mentee"):
        assert fragment in errors, errors
    client = await Client.connect(stack.temporal_address)
    assert [w async for w in client.list_workflows('WorkflowId = "cohort-Bad Id"')] == []


async def test_a_cohort_of_ten_thousand_mentees_fits_temporal_payload_limits(
    stack: StackAddresses, store: PostgresEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # About payload sizes, not speed: on a loaded machine this cohort's first workflow task
    # can outlast the SDK's fixed 2 s deadlock timeout on every retry (its CPU cost is the
    # performance issue's). TEMPORAL_DEBUG turns the detector off for this test's worker.
    monkeypatch.setenv("TEMPORAL_DEBUG", "1")
    raw = generate_cohort(10_000, 4_000, seed=7, cohort_id=f"big-{uuid.uuid4().hex[:8]}")
    raw["program"]["require_hr_approval"] = True  # match, then wait: nothing to start here
    spec = parse_cohort_spec(raw)
    task_queue = f"big-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    async with build_worker(client, store, task_queue, await open_vault(store.pool)):
        launched = await launch_cohort(client, spec, task_queue)
        await client.get_workflow_handle(launched.workflow_id).terminate("test finished")

    assert launched.outcome.awaiting_approval
    assert len(launched.outcome.pairs) == 10_000
    (matching,) = [
        e
        for e in await store.read_stream(launched.workflow_id)
        if e.event_type == "MatchingCompleted"
    ]
    assert len(matching.data["pairs"]) == 10_000


async def test_the_cli_shows_a_draft_matching_with_each_pairs_score_breakdown(
    stack: StackAddresses, store: PostgresEventStore, tmp_path: Path
) -> None:
    path, cohort_id = _spec_file(tmp_path)
    spec = parse_cohort_spec(path.read_text(encoding="utf-8"), "yaml")
    spec = spec.model_copy(
        update={"program": spec.program.model_copy(update={"require_hr_approval": True})}
    )
    task_queue = f"cohort-dev-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_TEMPORAL_ADDRESS": stack.temporal_address,
        "MENTORFLOW_TASK_QUEUE": task_queue,
    }
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    async with build_worker(client, store, task_queue, await open_vault(store.pool)):
        launched = await launch_cohort(client, spec, task_queue)
        json_code, as_json = await _cli(environment, "cohort", "matching", cohort_id, "--json")
        table_code, table = await _cli(
            {**environment, "COLUMNS": "250"}, "cohort", "matching", cohort_id
        )
        unknown_code, _ = await _cli(environment, "cohort", "matching", "no-such-cohort")
        await client.get_workflow_handle(launched.workflow_id).terminate("test finished")

    assert (json_code, table_code, unknown_code) == (0, 0, 2)
    matching: dict[str, Any] = json.loads(as_json)
    assert matching["status"] == "draft"
    assert [p["mentee_id"] for p in matching["pairs"]] == [
        p.mentee_id for p in launched.outcome.pairs
    ]
    for pair in matching["pairs"]:
        assert set(pair["breakdown"]) == {"skills", "objectives", "personality", "logistics"}
    assert matching["solver"]["method"] in {"dense", "sparse"}
    assert "p-013" in {u["mentee_id"] for u in matching["unmatched"]}
    assert f"Cohort {cohort_id}: draft matching, {len(matching['pairs'])} pairs" in table
    for header in ("mentee", "mentor", "score", "skills", "objectives", "logistics", "reasons"):
        assert header in table
    first = matching["pairs"][0]
    assert f"{first['breakdown']['skills']:.3f}" in table
    assert "unmatched p-013" in table
    assert "awaiting HR approval" in table
