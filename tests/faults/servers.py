"""Servers of a fault test's own, to crash and restart without touching the session's stack.

The local stack's own server classes (`devstack.stack`) on free ports under a directory of
the test's own: PostgreSQL, whose cluster survives a crash, and a Temporal dev server kept in
memory. The session's dev server writes its SQLite file synchronously, which on two cores
caps a cohort of hundreds of relationships at a few updates a second; this one is for the
cohort under faults (Temporal itself is not what fails there). The NATS counterpart is
`tests.bus.support.NatsProcess`.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from devstack.stack import StackConfig, free_port
from devstack.stack.postgres_server import PostgresServer
from devstack.stack.processes import (
    ProcessRecord,
    clear_leftovers,
    send_signal,
    spawn_detached,
    wait_for_exit,
)
from devstack.stack.server import LocalServer
from devstack.stack.temporal_server import TemporalServer
from mentorflow.keyring import generate_password

_TIMEOUT = 60.0


class OwnServer:
    """A server of the stack that the test starts, crashes and starts again (data stays)."""

    def __init__(self, server: LocalServer) -> None:
        self._server = server
        self._running: tuple[subprocess.Popen[bytes], ProcessRecord] | None = None

    @property
    def address(self) -> str:
        """Where clients reach it (a URL or ``host:port``)."""
        return self._server.address

    async def start(self) -> None:
        """Start (creating its data the first time); wait until it serves."""
        server = self._server
        await server.prepare()
        user, group = server.run_as
        process, record = spawn_detached(
            server.name,
            server.command(),
            server.log_path,
            cwd=server.working_dir,
            user=user,
            group=group,
        )
        self._running = process, record
        await server.wait_until_ready(_TIMEOUT, process)
        await server.after_ready()

    async def crash(self, signal_number: int = signal.SIGKILL) -> None:
        """End it abruptly (PostgreSQL: ``SIGQUIT``, an immediate shutdown, is its crash)."""
        await self._end(signal_number)

    async def stop(self) -> None:
        """A graceful stop (SIGINT: PostgreSQL's fast shutdown); no-op if not running."""
        await self._end(signal.SIGINT)

    async def _end(self, signal_number: int) -> None:
        if self._running is None:
            return
        process, record = self._running
        send_signal(record, signal_number)
        if not await wait_for_exit(record, process, _TIMEOUT):
            send_signal(record, signal.SIGKILL, whole_group=True)
            await wait_for_exit(record, process, _TIMEOUT)
        await clear_leftovers(record, _TIMEOUT)  # e.g. backends still holding shared memory
        self._running = None


def own_postgres(state_dir: Path, database: str = "mentorflow") -> OwnServer:
    """PostgreSQL on a free port, its cluster under ``state_dir``.

    ``crash(signal.SIGQUIT)`` is an immediate shutdown: no checkpoint, crash recovery at the
    next start; committed transactions survive (they are in the WAL), open ones are lost,
    and every client connection breaks, as when the server dies.
    """
    config = StackConfig(
        state_dir=state_dir,
        database_url=f"postgresql://postgres:{generate_password()}@127.0.0.1:{free_port()}/{database}",
        start_timeout=_TIMEOUT,
    )
    return OwnServer(PostgresServer(config, config.endpoints()))


class _InMemoryTemporal(TemporalServer):
    def command(self) -> list[str]:
        command = super().command()
        at = command.index("--db-filename")
        return command[:at] + command[at + 2 :]


def own_temporal(state_dir: Path) -> OwnServer:
    """A headless Temporal dev server on a free port, in memory, search attributes registered."""
    config = StackConfig(
        state_dir=state_dir,
        temporal_address=f"127.0.0.1:{free_port()}",
        start_timeout=_TIMEOUT,
    )
    return OwnServer(_InMemoryTemporal(config, config.endpoints()))
