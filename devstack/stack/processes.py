"""Detached server processes: start them, recognise them later, stop them.

A pid alone is not an identity: after a crash or a reboot the number may belong to another
program, which ``down`` must never signal. So every record keeps the process's start time as
the kernel reports it (``/proc/<pid>/stat`` field 22 on Linux, ``ps -o lstart`` elsewhere);
a process is "ours" only while pid and start time both match.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

logger = structlog.get_logger(__name__)

_PROC = Path("/proc")
_POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class ProcessRecord:
    """A server process that ``up`` started, as kept in ``stack.json``.

    Attributes:
        server: Name of the server.
        pid: Process id; also its process group id (it leads its own session).
        start_marker: The kernel's start time of the process, to recognise it.
        command: The command line it was started with.
        log_path: Where its output goes.
        started_at: When ``up`` started it.
    """

    server: str
    pid: int
    start_marker: str
    command: tuple[str, ...]
    log_path: Path
    started_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in ``stack.json``."""
        return {
            "server": self.server,
            "pid": self.pid,
            "start_marker": self.start_marker,
            "command": list(self.command),
            "log_path": str(self.log_path),
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        """Read a record written by `to_json`.

        Raises:
            KeyError, TypeError, ValueError: When the object is not such a record.
        """
        return cls(
            server=str(data["server"]),
            pid=int(data["pid"]),
            start_marker=str(data["start_marker"]),
            command=tuple(str(part) for part in data["command"]),
            log_path=Path(data["log_path"]),
            started_at=datetime.fromisoformat(data["started_at"]),
        )

    def is_running(self) -> bool:
        """Whether this very process is still alive (not exited, not a zombie)."""
        return process_start_marker(self.pid) == self.start_marker


def process_start_marker(pid: int) -> str | None:
    """The kernel's start time of a live process; None if it is gone or a zombie."""
    if _PROC.joinpath("self", "stat").exists():
        try:
            stat = _PROC.joinpath(str(pid), "stat").read_text()
        except OSError:
            return None
        # The command name (field 2) may hold spaces and parentheses: split after its last ")".
        fields = stat.rpartition(")")[2].split()
        state, start_ticks = fields[0], fields[19]
        return None if state in {"Z", "X"} else start_ticks
    result = subprocess.run(
        ["ps", "-o", "stat=", "-o", "lstart=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout.strip()
    if result.returncode != 0 or not output or output.startswith("Z"):
        return None
    return output.partition(" ")[2].strip()


def process_group_members(group_id: int) -> list[int]:
    """Live processes of a process group (Linux only; elsewhere always empty).

    A server's helper processes (PostgreSQL's backends, say) stay in its group: after the
    server itself died, they are what is left of it.
    """
    if not _PROC.joinpath("self", "stat").exists():
        return []
    members: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = entry.joinpath("stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited while we looked
        if fields[0] not in {"Z", "X"} and int(fields[2]) == group_id:
            members.append(int(entry.name))
    return members


async def clear_leftovers(record: ProcessRecord, timeout: float) -> None:
    """After a server died, wait for what it left in its process group; kill it at the deadline.

    A restart has to wait: PostgreSQL, for one, refuses to start while backends of the dead
    postmaster still hold its shared memory. Signalling the group is safe while it has
    members: the kernel never hands out a pid still in use as a process group id.
    """
    deadline = time.monotonic() + timeout
    while process_group_members(record.pid):
        if time.monotonic() >= deadline:
            logger.warning("killing leftovers of a dead server", server=record.server)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        await asyncio.sleep(_POLL_INTERVAL)


def spawn_detached(
    server: str,
    command: Sequence[str],
    log_path: Path,
    *,
    cwd: Path,
    user: str | None = None,
    group: str | None = None,
) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    """Start a server in its own session, its output appended to ``log_path``.

    Its own session keeps it alive when the terminal that ran ``up`` closes, and keeps a
    Ctrl-C there from reaching it.

    Args:
        server: Name of the server, for the record.
        command: Executable and arguments.
        log_path: Log file; created if missing, appended to otherwise.
        cwd: Working directory of the server.
        user: Run as this system user (needs root); used for PostgreSQL.
        group: Run with this group (needs root).

    Returns:
        The process handle (to reap it and read its exit code in this process) and its record.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        banner = f"\n--- {datetime.now(UTC).isoformat()} mentorflow stack: {' '.join(command)}\n"
        log_file.write(banner.encode())
        log_file.flush()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            user=user,
            group=group,
            # Drop root's supplementary groups too when switching user.
            extra_groups=[] if user is not None else None,
            close_fds=True,
        )
    marker = process_start_marker(process.pid)
    record = ProcessRecord(
        server=server,
        pid=process.pid,
        # A process that died at once has no start time; an empty marker never matches.
        start_marker=marker or "",
        command=tuple(command),
        log_path=log_path,
        started_at=datetime.now(UTC),
    )
    logger.info("server spawned", server=server, pid=process.pid, log_path=str(log_path))
    return process, record


def exit_code(process: subprocess.Popen[bytes] | None) -> int | None:
    """The exit code of a process started by this Python process, once it has exited.

    Negative codes are signals (-9: killed). None for a process still running, or one this
    process did not start (its exit code went to whoever reaped it).
    """
    return None if process is None else process.poll()


async def wait_for_exit(
    record: ProcessRecord, process: subprocess.Popen[bytes] | None, timeout: float
) -> bool:
    """Poll until the recorded process is gone; return whether it went within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        # Reaping our own child is what lets it disappear instead of lingering as a zombie.
        if process is not None:
            process.poll()
        if not record.is_running():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_INTERVAL)


def send_signal(record: ProcessRecord, signal_number: int, *, whole_group: bool = False) -> None:
    """Signal the recorded process, or its whole process group, if it is still the same one."""
    if not record.is_running():
        return
    try:
        if whole_group and sys.platform != "win32" and os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, signal_number)
        else:
            os.kill(record.pid, signal_number)
    except ProcessLookupError:
        pass


async def terminate(
    record: ProcessRecord,
    process: subprocess.Popen[bytes] | None,
    timeout: float,
    *,
    graceful_signal: int = signal.SIGTERM,
) -> bool:
    """Stop a recorded server: ``graceful_signal``, wait up to ``timeout``, then SIGKILL.

    Returns:
        Whether the process is gone afterwards.
    """
    send_signal(record, graceful_signal)
    if await wait_for_exit(record, process, timeout):
        return True
    logger.warning("server ignored graceful stop, killing it", server=record.server, pid=record.pid)
    # The group takes any helper processes the server started with it.
    send_signal(record, signal.SIGKILL, whole_group=True)
    return await wait_for_exit(record, process, 5.0)
