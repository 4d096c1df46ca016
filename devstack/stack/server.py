"""What every server of the local stack can do: `LocalServer`, and waiting until one is ready.

Readiness is a real round trip (a Temporal RPC, a JetStream request, a SQL query), polled
until a deadline: an open port only says a process is listening, not that it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import structlog

from devstack.stack.config import StackConfig
from devstack.stack.endpoints import Endpoint, StackEndpoints
from devstack.stack.errors import ServerStartFailed
from devstack.stack.processes import ProcessRecord, terminate

logger = structlog.get_logger(__name__)

_RETRY_INTERVAL = 0.1
# One readiness attempt never waits longer than this, so the loop sees a crash promptly.
_ATTEMPT_TIMEOUT = 3.0


class LocalServer(ABC):
    """One server of the stack: how to probe, prepare, start and stop it.

    Subclasses say what differs; `devstack.stack.local_stack.LocalStack` decides when.
    """

    name: ClassVar[str]

    def __init__(self, config: StackConfig, endpoints: StackEndpoints) -> None:
        self.config = config
        self.endpoints = endpoints

    @property
    @abstractmethod
    def endpoint(self) -> Endpoint:
        """Where the server listens."""

    @property
    @abstractmethod
    def address(self) -> str:
        """The address as clients configure it (a URL or ``host:port``)."""

    @property
    def display_address(self) -> str:
        """The address for people and logs: without any password."""
        return self.address

    @property
    def log_path(self) -> Path:
        """Where a server started by the stack writes its output."""
        return self.config.log_dir / f"{self.name}.log"

    @property
    def working_dir(self) -> Path:
        """The working directory of a started server."""
        return self.config.state_dir

    @property
    def run_as(self) -> tuple[str | None, str | None]:
        """System user and group to start the server as; (None, None) for the current ones."""
        return None, None

    @abstractmethod
    async def probe(self, timeout: float) -> None:
        """One readiness check; returns when the server serves, raises when it does not."""

    @abstractmethod
    def command(self) -> list[str]:
        """The command line that starts the server."""

    async def prepare(self) -> None:  # noqa: B027 - most servers need no preparation
        """Create what the server needs before its first start (directories, a cluster)."""

    async def after_ready(self) -> None:  # noqa: B027 - most servers need no set-up
        """Set the running server up for mentorflow; idempotent, also for servers not ours."""

    async def stop(self, record: ProcessRecord, process: subprocess.Popen[bytes] | None) -> bool:
        """Stop a server that the stack started; return whether it is gone."""
        return await terminate(record, process, self.config.stop_timeout)

    async def accepts_connections(self, timeout: float = 1.0) -> bool:
        """Whether anything accepts TCP connections at the endpoint (a fast first look)."""
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.endpoint.host, self.endpoint.port), timeout
            )
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def is_ready(self, timeout: float = _ATTEMPT_TIMEOUT) -> bool:
        """Whether the server answers a readiness check now."""
        if not await self.accepts_connections(min(timeout, 1.0)):
            return False
        try:
            await asyncio.wait_for(self.probe(timeout), timeout)
        except Exception:  # any failure means "not ready"; the reason does not matter here
            return False
        return True

    async def wait_until_ready(
        self, timeout: float, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        """Poll the readiness check until it passes.

        Args:
            timeout: Seconds to wait in total.
            process: The server's process when the stack just started it: its exit ends the
                wait at once instead of at the deadline.

        Raises:
            ServerStartFailed: When the process exits or the deadline passes first; quotes the
                server log.
        """
        deadline = time.monotonic() + timeout
        last_error = "no attempt made"
        while True:
            if process is not None and (code := process.poll()) is not None:
                raise ServerStartFailed(self.name, self.log_path, f"exited with code {code}")
            attempt_timeout = min(_ATTEMPT_TIMEOUT, max(deadline - time.monotonic(), 0.1))
            # A refused connection is the common "not yet"; client libraries take their time
            # to report it (nats-py waits before giving up), a bare TCP connect does not.
            if not await self.accepts_connections(min(attempt_timeout, 1.0)):
                last_error = "nothing accepts connections yet"
            else:
                try:
                    await asyncio.wait_for(self.probe(attempt_timeout), attempt_timeout)
                except Exception as error:  # not ready yet; keep the reason for the message
                    last_error = f"{type(error).__name__}: {error}".strip()
                else:
                    logger.debug("server ready", server=self.name, address=self.display_address)
                    return
            if time.monotonic() >= deadline:
                raise ServerStartFailed(
                    self.name,
                    self.log_path if process is not None else None,
                    f"not ready at {self.display_address} within {timeout:.0f}s ({last_error})",
                )
            await asyncio.sleep(_RETRY_INTERVAL)
