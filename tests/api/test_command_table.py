"""The one table of relationship commands: the workflow, the API and the CLI all follow it.

Generated, not repeated: every entry of `domain.mentorship.catalog.COMMANDS` is a workflow
update with a validator, a documented API route whose body is the command less what the path
and the token give, and (where HR may make it) a CLI command; the CLI runs end to end
against the real Temporal server and records HR's change.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
import pytest
from temporalio.workflow import _Definition

from domain.mentorship import commands as c
from domain.mentorship.catalog import BY_UPDATE, COMMANDS
from mentorflow.api.tokens import Role
from tests.api.conftest import ApiStack
from tests.api.support import Tokens
from tests.api.test_trust_boundary import _new_pair
from workflows.mentorship import MentorshipWorkflow


def test_every_command_is_a_workflow_update_with_its_validator_and_nothing_else() -> None:
    definition = _Definition.from_class(MentorshipWorkflow)
    assert definition is not None
    updates = definition.updates
    assert set(updates) == set(BY_UPDATE)
    for entry in COMMANDS:
        assert updates[entry.update].arg_types == [entry.command]
        assert updates[entry.update].validator is not None
    assert {entry.command for entry in COMMANDS} == set(get_args(c.MentorshipCommand))


async def test_every_command_is_a_documented_route_whose_body_is_the_command(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for entry in COMMANDS:
        operation = document["paths"][f"/mentorships/{{mentorship_id}}{entry.path}"]["post"]
        assert operation["summary"] == entry.summary
        assert str(entry.status_code) in operation["responses"]
        expected = set(entry.command.model_fields) - {"actor", *entry.path_fields}
        if not expected:
            assert "requestBody" not in operation
            continue
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[reference.rsplit("/", 1)[-1]]
        assert set(body["properties"]) == expected, entry.update
        assert body["additionalProperties"] is False
        # The command's own field descriptions document the body.
        for name in expected:
            description = entry.command.model_fields[name].description
            if description:
                assert body["properties"][name]["description"] == description
        parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
        assert {"mentorship_id", *entry.path_fields} <= parameters


async def test_a_body_field_the_path_or_token_gives_is_refused(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _new_pair(http, tokens, api_stack)
    before = len(await api_stack.store.read_stream(pair.mentorship_id))
    response = await http.post(
        f"/mentorships/{pair.mentorship_id}/goals/g-1/drop",
        json={"goal_id": "g-1", "actor": {"role": "hr_admin"}, "reason": "x"},
        headers=tokens.headers(pair.mentee_id),
    )
    assert response.status_code == 422, response.text
    problems = json.dumps(response.json())
    assert "goal_id" in problems
    assert "actor" in problems
    assert len(await api_stack.store.read_stream(pair.mentorship_id)) == before


async def _cli(api_stack: ApiStack, *arguments: str) -> tuple[int, str, str]:
    settings = api_stack.settings
    environment = {
        **os.environ,
        "MENTORFLOW_TEMPORAL_ADDRESS": settings.temporal_address,
        "MENTORFLOW_TASK_QUEUE": api_stack.task_queue,
        "MENTORFLOW_DATABASE_URL": settings.database_url,
        "MENTORFLOW_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mentorflow.cli.app",
        "mentorship",
        *arguments,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_hr_changes_a_relationship_from_the_cli_recorded_as_hrs_change(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _new_pair(http, tokens, api_stack)
    due = (datetime.now(UTC) + timedelta(days=9)).isoformat()

    code, out, err = await _cli(
        api_stack,
        "add-goal",
        pair.mentorship_id,
        "--horizon",
        "long",
        "--description",
        "Lead the platform guild",
        "--strengths",
        "facilitation",
        "--strengths",
        "writing",
        "--json",
    )
    assert code == 0, err
    added: dict[str, Any] = json.loads(out)
    assert "GoalSet" in added["recorded"]
    goal_id = added["created_ids"][0]

    code, out, err = await _cli(
        api_stack, "extend-deadline", pair.mentorship_id, "--deadline", "conversation",
        "--new-deadline", due, "--reason", "the mentor was on leave",
    )  # fmt: skip
    assert code == 0, err
    assert "Recorded" in out

    code, out, err = await _cli(
        api_stack, "revise-goal", pair.mentorship_id, goal_id, "--progress", "40"
    )
    assert code == 0, err

    handle = api_stack.client.get_workflow_handle_for(MentorshipWorkflow.run, pair.mentorship_id)
    goal = (await handle.query(MentorshipWorkflow.state)).goals[goal_id]
    assert goal.strengths == ["facilitation", "writing"]
    assert goal.progress == 40
    events = await api_stack.store.read_stream(pair.mentorship_id)
    by_hr = [e for e in events if e.event_type == "ChangeMadeByHr"]
    assert len(by_hr) == 3
    assert all(str(e.data["token_id"]).startswith("cli:") for e in by_hr)


async def test_the_cli_names_every_problem_and_changes_nothing(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    pair = await _new_pair(http, tokens, api_stack)
    before = len(await api_stack.store.read_stream(pair.mentorship_id))

    # Refused at the edge: every field named, exit code 2 (bad input).
    code, _, err = await _cli(
        api_stack, "add-goal", pair.mentorship_id, "--horizon", "mid",
        "--description", "sealed:v2:p-1:abc",
    )  # fmt: skip
    assert code == 2
    assert "horizon" in err
    assert "description" in err
    assert "sealed" in err

    # Refused by the relationship's rules: every reason, exit code 1.
    code, _, err = await _cli(api_stack, "achieve-goal", pair.mentorship_id, "g-404")
    assert code == 1
    assert "g-404" in err
    assert "nothing was recorded" in err

    assert len(await api_stack.store.read_stream(pair.mentorship_id)) == before


def test_participants_consent_and_opinions_are_not_hr_cli_commands() -> None:
    from mentorflow.cli.mentorships import mentorship_app

    names = {command.name for command in mentorship_app.registered_commands}
    assert names == {entry.operation for entry in COMMANDS if entry.hr}
    assert "approve-review-summary" not in names
    assert "decline-review-summary" not in names
    assert "give-feedback" not in names


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda entry: entry.update)
def test_each_entry_names_real_command_fields(entry: Any) -> None:
    fields = entry.command.model_fields
    assert set(entry.path_fields) <= set(fields)
    assert entry.acting_for is None or entry.acting_for in fields
    assert entry.sides or entry.hr


async def test_a_command_added_to_the_table_is_a_working_route(
    http: httpx.AsyncClient, tokens: Tokens, api_stack: ApiStack
) -> None:
    """``skip_conversation`` was added by its model, its rule and its entry: three files."""
    pair = await _new_pair(http, tokens, api_stack)
    path = f"/mentorships/{pair.mentorship_id}/conversations/skip"
    stranger = await http.post(path, headers=tokens.headers("p-stranger", Role.MENTOR))
    skipped = await http.post(path, headers=tokens.headers(pair.mentor_id, Role.MENTOR))

    assert stranger.status_code == 404, stranger.text
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["recorded"] == ["ConversationMissed"]
