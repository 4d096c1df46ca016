"""``mentorflow relay`` and ``mentorflow events tail`` as processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bus import BusConfig
from eventstore import PostgresEventStore
from tests.bus.support import stream_message_count
from tests.support import assert_eventually, new_event, unique_stream

REPOSITORY = Path(__file__).resolve().parents[2]


def _environment(database_url: str, config: BusConfig, state_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(state_dir),
        "MENTORFLOW_DATABASE_URL": database_url,
        "MENTORFLOW_NATS_URL": config.nats_url,
        "MENTORFLOW_BUS_STREAM_NAME": config.stream_name,
        "MENTORFLOW_BUS_SUBJECT_PREFIX": config.subject_prefix,
        "MENTORFLOW_BUS_DUPLICATE_WINDOW": "PT10M",
        "MENTORFLOW_BUS_MAX_AGE": "PT1H",
        "MENTORFLOW_LOG_FORMAT": "json",
    }


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "tests.bus.cli_app", *arguments]


def _start_relay(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _command("relay"), cwd=REPOSITORY, env=environment, stderr=subprocess.PIPE
    )


async def test_relay_publishes_and_tail_prints_every_envelope(
    store: PostgresEventStore, database_url: str, bus_config: BusConfig, tmp_path: Path
) -> None:
    environment = _environment(database_url, bus_config, tmp_path)
    stream_id = unique_stream()
    events = [new_event() for _ in range(5)]
    await store.append(stream_id, 0, events)

    relay = _start_relay(environment)
    try:
        await assert_eventually(
            lambda: stream_message_count(bus_config.nats_url, bus_config.stream_name),
            lambda count: count == len(events),
            timeout=60,
        )
        tail = await asyncio.create_subprocess_exec(
            *_command("events", "tail", "--from-start", "--count", "5", "--json"),
            cwd=REPOSITORY,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        output, errors = await asyncio.wait_for(tail.communicate(), 60)
        assert tail.returncode == 0, errors.decode()
    finally:
        relay.send_signal(signal.SIGTERM)
        _, relay_log = relay.communicate(timeout=30)

    assert relay.returncode == 0, relay_log.decode()
    printed = [json.loads(line) for line in output.decode().splitlines()]
    assert [body["event_id"] for body in printed] == [str(event.event_id) for event in events]
    records = [json.loads(line) for line in relay_log.decode().splitlines() if line.startswith("{")]
    assert {"relay_started", "relay_stopped"} <= {record["event"] for record in records}


def test_relay_refuses_two_starting_points(
    database_url: str, bus_config: BusConfig, tmp_path: Path
) -> None:
    result = subprocess.run(
        _command("relay", "--from-start", "--from", "12:34"),
        cwd=REPOSITORY,
        env=_environment(database_url, bus_config, tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "either --from-start or --from" in result.stderr.decode()


def test_relay_refuses_a_position_it_cannot_read(
    database_url: str, bus_config: BusConfig, tmp_path: Path
) -> None:
    result = subprocess.run(
        _command("relay", "--from", "yesterday"),
        cwd=REPOSITORY,
        env=_environment(database_url, bus_config, tmp_path),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TRANSACTION_ID:GLOBAL_POSITION" in result.stderr.decode()
