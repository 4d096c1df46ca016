"""``mentorflow stack …`` on the command line: output, JSON and exit codes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from devstack.stack import SERVER_NAMES
from mentorflow.cli.app import app
from tests.stack.conftest import RunningStack


def _environment(running_stack: RunningStack) -> dict[str, str]:
    # Explicit addresses, so MENTORFLOW_* variables of the caller's shell cannot interfere.
    return {
        **running_stack.first_up.as_environment(),
        "MENTORFLOW_STATE_DIR": str(running_stack.config.state_dir),
    }


def _invoke(arguments: list[str], environment: dict[str, str]) -> Result:
    # The CLI points the root logger at CliRunner's stderr, which is closed afterwards.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(app, arguments, env=environment)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_status_json_lists_every_server_up(running_stack: RunningStack) -> None:
    result = _invoke(["stack", "status", "--json"], _environment(running_stack))

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [server["name"] for server in document["servers"]] == list(SERVER_NAMES)
    assert {server["state"] for server in document["servers"]} == {"up"}
    assert all(server["started_by_stack"] for server in document["servers"])


def test_a_second_up_says_that_nothing_was_started(running_stack: RunningStack) -> None:
    result = _invoke(["stack", "up", "--headless"], _environment(running_stack))

    assert result.exit_code == 0, result.output
    assert "nothing started" in result.stdout
    outcomes = [line.split()[-1] for line in result.stdout.splitlines()[: len(SERVER_NAMES)]]
    assert outcomes == ["running"] * len(SERVER_NAMES), result.stdout


async def test_status_exits_with_1_when_a_started_server_crashed(
    running_stack: RunningStack,
) -> None:
    status = await running_stack.stack.status()
    pid = status.server("postgres").pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # The CLI runs its own event loop, so it gets a thread of its own.
    result = await asyncio.to_thread(
        _invoke, ["stack", "status", "--json"], _environment(running_stack)
    )
    restarted = await running_stack.stack.up()

    assert result.exit_code == 1, result.output
    states = {server["name"]: server["state"] for server in json.loads(result.stdout)["servers"]}
    assert states["postgres"] == "crashed"
    assert restarted.started == ("postgres",)


def test_bad_addresses_exit_with_2_and_list_every_problem(tmp_path: Path) -> None:
    environment = {
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_TEMPORAL_ADDRESS": "localhost:7233",
        "MENTORFLOW_NATS_URL": "http://localhost:4222",
        "MENTORFLOW_DATABASE_URL": "mysql://localhost/mentorflow",
    }

    result = _invoke(["stack", "status"], environment)

    assert result.exit_code == 2
    assert "nats_url" in result.stderr
    assert "database_url" in result.stderr


def test_the_console_script_prints_status_as_json(running_stack: RunningStack) -> None:
    script = Path(sys.executable).parent / "mentorflow"

    completed = subprocess.run(
        [str(script), "stack", "status", "--json"],
        env={**os.environ, **_environment(running_stack)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert {server["state"] for server in document["servers"]} == {"up"}
