"""Helpers of the bus tests: isolated stream names, a relay in a task, stream contents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import DeliverPolicy

from bus import BusConfig, RelayOptions, RelayStats, run_relay
from devstack.stack import free_port
from devstack.stack.binaries import find_binary
from eventstore import Position, PostgresEventStore
from tests.support import assert_eventually


async def _quiet(_error: Exception) -> None:
    # Probes expect failures; nats-py would log each one with a traceback.
    return None


def isolated_bus_config(nats_url: str, **overrides: Any) -> BusConfig:
    """A stream and subject prefix of this test's own on a shared server."""
    token = uuid.uuid4().hex[:10]
    settings: dict[str, Any] = {
        "nats_url": nats_url,
        "stream_name": f"TEST_EVENTS_{token}",
        "subject_prefix": f"test.{token}.events",
        "duplicate_window": timedelta(minutes=10),
        "max_age": timedelta(hours=1),
        **overrides,
    }
    return BusConfig(**settings)


FAST_RETRIES = RelayOptions(page_size=200, poll_interval=0.2, retry_initial=0.05, retry_maximum=0.5)


@contextlib.asynccontextmanager
async def relay_running(
    database_url: str,
    config: BusConfig,
    *,
    options: RelayOptions = FAST_RETRIES,
    start_from: Position | None = None,
    relay_name: str = "default",
    stats: RelayStats | None = None,
    stop_timeout: float = 30.0,
) -> AsyncIterator[asyncio.Task[None]]:
    """`run_relay` in a task for the block; stopped gracefully (within ``stop_timeout``)."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_relay(
            database_url,
            config,
            stop,
            options=options,
            start_from=start_from,
            relay_name=relay_name,
            stats=stats,
        )
    )
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, stop_timeout)


async def last_position(store: PostgresEventStore) -> Position:
    """The tailing position of the newest committed event."""
    position = Position.START
    while page := await store.read_all(position, limit=5000):
        position = page[-1].position
    return position


@dataclass
class StreamContents:
    """Every message of a stream, read with a plain nats-py ordered consumer."""

    messages: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)

    @property
    def event_ids(self) -> list[str]:
        """The envelopes' event ids, in stream order."""
        return [body["event_id"] for _, _, body in self.messages]


async def stream_message_count(nats_url: str, stream_name: str) -> int:
    """How many messages the stream holds (0 when it does not exist yet)."""
    client = await nats.connect(nats_url, error_cb=_quiet)
    try:
        try:
            info = await client.jetstream().stream_info(stream_name)
        except nats.js.errors.NotFoundError:
            return 0
        return info.state.messages
    finally:
        await client.close()


async def read_stream(client: Client, stream_name: str, subjects: str) -> StreamContents:
    """Every message the stream holds right now, in order."""
    jetstream = client.jetstream()
    info = await jetstream.stream_info(stream_name)
    contents = StreamContents()
    if info.state.messages == 0:
        return contents
    subscription = await jetstream.subscribe(
        subjects, stream=stream_name, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        while True:
            message = await subscription.next_msg(timeout=10)
            contents.messages.append(
                (message.subject, dict(message.headers or {}), json.loads(message.data))
            )
            if message.metadata.sequence.stream >= info.state.last_seq:
                return contents
    finally:
        await subscription.unsubscribe()


class NatsProcess:
    """A nats-server of a test's own (JetStream on a file store), to stop and restart."""

    def __init__(self, store_dir: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._store_dir = store_dir
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start on the same port and store as before; wait until JetStream answers."""
        self._spawn()
        await assert_eventually(self._answers, timeout=30, message="nats-server did not start")

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            [
                str(find_binary("nats-server")),
                "--addr",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--jetstream",
                "--store_dir",
                str(self._store_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL the server (its file store stays)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    async def _answers(self) -> bool:
        try:
            client = await nats.connect(
                self.url,
                allow_reconnect=False,
                connect_timeout=1,
                max_reconnect_attempts=0,
                error_cb=_quiet,
            )
        except Exception:
            return False
        try:
            await client.jetstream().account_info()
        except Exception:
            return False
        finally:
            await client.close()
        return True
